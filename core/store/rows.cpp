#include "store/rows.h"

#include "store/sql_util.h"

#include <QSqlDriver>
#include <QSqlQuery>
#include <QSqlRecord>
#include <sqlite3.h>

namespace mpa::store {

Rows readRows(QSqlDatabase &db, const QString &sql, const QVariantList &binds)
{
    Rows out;
    {
        QSqlQuery q = prepare(db, sql);
        q.setForwardOnly(true); // no client-side cache of rows we copy anyway
        for (const QVariant &v : binds)
            q.addBindValue(v);
        exec(q, sql.simplified().left(120));
        const QSqlRecord record = q.record();
        out.columns.reserve(record.count());
        for (int c = 0; c < record.count(); ++c)
            out.columns << record.fieldName(c);
        while (q.next()) {
            QVariantList row;
            row.reserve(record.count());
            for (int c = 0; c < record.count(); ++c)
                row << q.value(c);
            out.rows << std::move(row);
        }
        // Stepping to SQLITE_DONE resets the statement; finish() makes it explicit for every
        // driver and releases the read transaction even if a row loop above ended early.
        q.finish();
    }
    return out;
}

namespace {
sqlite3 *handleOf(const QSqlDatabase &db)
{
    if (!db.isOpen() || !db.driver())
        return nullptr;
    const QVariant v = db.driver()->handle();
    if (!v.isValid() || qstrcmp(v.typeName(), "sqlite3*") != 0)
        return nullptr;
    return *static_cast<sqlite3 *const *>(v.constData());
}
} // namespace

int unfinishedStatements(const QSqlDatabase &db)
{
    sqlite3 *h = handleOf(db);
    if (!h)
        return 0;
    int n = 0;
    for (sqlite3_stmt *s = sqlite3_next_stmt(h, nullptr); s; s = sqlite3_next_stmt(h, s))
        n += sqlite3_stmt_busy(s) ? 1 : 0;
    return n;
}

bool inTransaction(const QSqlDatabase &db)
{
    sqlite3 *h = handleOf(db);
    return h && sqlite3_get_autocommit(h) == 0;
}

} // namespace mpa::store
