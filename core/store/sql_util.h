#pragma once
// Small helpers over QSqlQuery that turn every SQLite failure into an mpa::Error naming the
// workspace and what was being done, and a RAII transaction that rolls back unless committed.
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QVariant>
#include <initializer_list>

#include "util/error.h"

namespace mpa::store {

// The database is locked by another connection (SQLITE_BUSY / SQLITE_LOCKED, including
// BUSY_SNAPSHOT): transient, so callers that must not lose the write retry it later.
class DatabaseBusy : public Error
{
public:
    using Error::Error;
};

// Whether a failed statement's error is a transient lock rather than a real failure.
bool isBusyError(const QSqlError &error);

QSqlQuery prepare(QSqlDatabase &db, const QString &sql);
void exec(QSqlQuery &query, const QString &context);
QSqlQuery exec(QSqlDatabase &db, const QString &sql, std::initializer_list<QVariant> binds = {});
QVariant scalar(QSqlDatabase &db, const QString &sql, std::initializer_list<QVariant> binds = {});
qint64 nowMs();

class Transaction
{
public:
    Transaction(QSqlDatabase &db, const QString &context);
    ~Transaction();
    void commit();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

private:
    QSqlDatabase &m_db;
    QString m_context;
    bool m_open = false;
};

} // namespace mpa::store
