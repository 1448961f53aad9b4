#pragma once
// Reading without pinning a snapshot. In WAL mode a statement that has stepped but is not yet
// finished (or reset) holds a read transaction open: its connection then sees no later commit,
// and its next write fails at once with SQLITE_BUSY_SNAPSHOT whatever the busy timeout. That is
// what a lazily fetched QSqlQueryModel does to the GUI thread's connection. So everything the
// UI shows is read here: the whole result is copied into memory and the statement is finished
// before the call returns. Callers page with LIMIT (and keyset WHERE id > ?), never by keeping
// a cursor open.
#include <QList>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>
#include <QVariant>

namespace mpa::store {

struct Rows
{
    QStringList columns;
    QList<QVariantList> rows;

    qsizetype size() const { return rows.size(); }
    bool isEmpty() const { return rows.isEmpty(); }
    const QVariant &at(qsizetype row, int column) const { return rows.at(row).at(column); }
};

// Runs `sql` with positional `binds`, reads every row and finishes the statement. Throws
// mpa::Error (DatabaseBusy when the database is locked) naming the workspace and the statement.
Rows readRows(QSqlDatabase &db, const QString &sql, const QVariantList &binds = {});

// Statements of this connection that have stepped and are not finished: each of them pins the
// connection's snapshot. The GUI's connection must have none between event-loop turns (tests
// check it; see sqlite3_stmt_busy).
int unfinishedStatements(const QSqlDatabase &db);
// Whether this connection is inside an explicit transaction (BEGIN without COMMIT/ROLLBACK).
bool inTransaction(const QSqlDatabase &db);

} // namespace mpa::store
