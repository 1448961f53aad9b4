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
} // namespace

QSqlQuery prepare(QSqlDatabase &db, const QString &sql)
{
    QSqlQuery query(db);
    if (!query.prepare(sql))
        throw Error(QStringLiteral("%1: cannot prepare statement: %2 [%3]")
                        .arg(dbName(db), query.lastError().text(), sql.simplified().left(120)));
    return query;
}

void exec(QSqlQuery &query, const QString &context)
{
    if (!query.exec())
        throw Error(QStringLiteral("%1 failed: %2").arg(context, query.lastError().text()));
}

QSqlQuery exec(QSqlDatabase &db, const QString &sql, std::initializer_list<QVariant> binds)
{
    QSqlQuery query = prepare(db, sql);
    for (const QVariant &v : binds)
        query.addBindValue(v);
    if (!query.exec())
        throw Error(QStringLiteral("%1: %2 [%3]").arg(dbName(db), query.lastError().text(), sql.simplified().left(120)));
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
    if (!m_db.transaction())
        throw Error(QStringLiteral("%1: cannot start a transaction for %2: %3")
                        .arg(dbName(m_db), context, m_db.lastError().text()));
    m_open = true;
}

Transaction::~Transaction()
{
    if (m_open)
        m_db.rollback();
}

void Transaction::commit()
{
    if (!m_db.commit()) {
        const QString why = m_db.lastError().text();
        m_db.rollback();
        m_open = false;
        throw Error(QStringLiteral("%1: cannot commit %2: %3").arg(dbName(m_db), m_context, why));
    }
    m_open = false;
}

} // namespace mpa::store
