#include "store/sql_util.h"

#include "util/error.h"

#include <QDateTime>
#include <QFileInfo>
#include <QSqlError>

namespace mpa::store {

namespace {
QString dbName(const QSqlDatabase &db)
{
    return QFileInfo(db.databaseName()).absolutePath();
}
[[noreturn]] void fail(const QSqlError &error, const QString &message)
{
    if (isBusyError(error))
        throw DatabaseBusy(message);
    throw Error(message);
}
} // namespace

bool isBusyError(const QSqlError &error)
{
    // The driver reports the (possibly extended) SQLite result code: the low byte is the
    // primary code, 5 = SQLITE_BUSY, 6 = SQLITE_LOCKED (517 = BUSY_SNAPSHOT, 261 = BUSY_RECOVERY).
    bool ok = false;
    const int code = error.nativeErrorCode().toInt(&ok);
    if (ok && ((code & 0xff) == 5 || (code & 0xff) == 6))
        return true;
    const QString text = error.text();
    return text.contains(QLatin1String("database is locked")) || text.contains(QLatin1String("database table is locked"));
}

QSqlQuery prepare(QSqlDatabase &db, const QString &sql)
{
    QSqlQuery query(db);
    if (!query.prepare(sql))
        fail(query.lastError(), QStringLiteral("%1: cannot prepare statement: %2 [%3]")
                                    .arg(dbName(db), query.lastError().text(), sql.simplified().left(120)));
    return query;
}

void exec(QSqlQuery &query, const QString &context)
{
    if (!query.exec())
        fail(query.lastError(), QStringLiteral("%1 failed: %2").arg(context, query.lastError().text()));
}

QSqlQuery exec(QSqlDatabase &db, const QString &sql, std::initializer_list<QVariant> binds)
{
    QSqlQuery query = prepare(db, sql);
    for (const QVariant &v : binds)
        query.addBindValue(v);
    if (!query.exec())
        fail(query.lastError(), QStringLiteral("%1: %2 [%3]").arg(dbName(db), query.lastError().text(), sql.simplified().left(120)));
    return query;
}

QVariant scalar(QSqlDatabase &db, const QString &sql, std::initializer_list<QVariant> binds)
{
    QSqlQuery query = exec(db, sql, binds);
    return query.next() ? query.value(0) : QVariant();
}

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

Transaction::Transaction(QSqlDatabase &db, const QString &context)
    : m_db(db)
    , m_context(context)
{
    // BEGIN IMMEDIATE takes the write lock now, waiting up to the busy timeout. A deferred
    // BEGIN that reads first and writes later fails at its first write with SQLITE_BUSY_SNAPSHOT,
    // without waiting, whenever another connection committed in between (a person reviewing
    // while a job writes its batch).
    QSqlQuery begin(m_db);
    if (!begin.exec(QStringLiteral("BEGIN IMMEDIATE")))
        fail(begin.lastError(), QStringLiteral("%1: cannot start a transaction for %2: %3")
                                    .arg(dbName(m_db), context, begin.lastError().text()));
    m_open = true;
}

Transaction::~Transaction()
{
    if (m_open) {
        QSqlQuery rollback(m_db);
        rollback.exec(QStringLiteral("ROLLBACK"));
    }
}

void Transaction::commit()
{
    QSqlQuery commit(m_db);
    if (!commit.exec(QStringLiteral("COMMIT"))) {
        const QSqlError error = commit.lastError();
        QSqlQuery rollback(m_db);
        rollback.exec(QStringLiteral("ROLLBACK"));
        m_open = false;
        fail(error, QStringLiteral("%1: cannot commit %2: %3").arg(dbName(m_db), m_context, error.text()));
    }
    m_open = false;
}

} // namespace mpa::store
