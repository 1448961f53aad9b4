#include "store/sample_query.h"

#include "store/sql_util.h"

namespace mpa::store {

namespace {

const char *kColumns = "s.id, s.image_id, i.path, i.status, s.task, COALESCE(s.reviewed_question, s.question), "
                       "COALESCE(s.reviewed_answer, s.answer), s.question, s.answer, s.raw_text, s.parse_status, "
                       "s.outcome, s.review_state, s.source, s.source_key";

struct Where
{
    QString sql;
    QVariantList binds;
};

Where buildWhere(const SampleFilter &f)
{
    Where w;
    QStringList parts;
    if (f.outcome) {
        if (*f.outcome == QLatin1String("none")) {
            parts << QStringLiteral("s.outcome IS NULL");
        } else {
            parts << QStringLiteral("s.outcome = ?");
            w.binds << *f.outcome;
        }
    }
    if (f.reviewState) {
        parts << QStringLiteral("s.review_state = ?");
        w.binds << *f.reviewState;
    }
    if (f.task) {
        parts << QStringLiteral("s.task = ?");
        w.binds << *f.task;
    }
    if (f.source) {
        parts << QStringLiteral("s.source = ?");
        w.binds << *f.source;
    }
    if (f.parsed) {
        parts << QStringLiteral("s.parse_status = ?");
        w.binds << (*f.parsed ? QStringLiteral("ok") : QStringLiteral("failed"));
    }
    if (!f.text.isEmpty()) {
        parts << QStringLiteral("(instr(lower(COALESCE(s.reviewed_question, s.question, '')), lower(?)) > 0 "
                                "OR instr(lower(COALESCE(s.reviewed_answer, s.answer, '')), lower(?)) > 0)");
        w.binds << f.text << f.text;
    }
    w.sql = parts.isEmpty() ? QStringLiteral("1") : parts.join(QStringLiteral(" AND "));
    return w;
}

SampleRow readRow(const QSqlQuery &q)
{
    SampleRow r;
    r.id = q.value(0).toLongLong();
    r.imageId = q.value(1).toLongLong();
    r.imagePath = q.value(2).toString();
    r.imageStatus = q.value(3).toString();
    r.task = q.value(4).toString();
    r.question = q.value(5).toString();
    r.answer = q.value(6).toString();
    r.originalQuestion = q.value(7).toString();
    r.originalAnswer = q.value(8).toString();
    r.rawText = q.value(9).toString();
    r.parsed = q.value(10).toString() == QLatin1String("ok");
    r.outcome = q.value(11).toString();
    r.reviewState = q.value(12).toString();
    r.source = q.value(13).toString();
    r.sourceKey = q.value(14).toString();
    return r;
}

} // namespace

SampleQuery::SampleQuery(const Workspace &ws)
    : m_ws(ws)
{
}

QList<SampleRow> SampleQuery::page(const SampleFilter &filter, qint64 afterId, int limit)
{
    QSqlDatabase db = m_ws.connection();
    const Where w = buildWhere(filter);
    QSqlQuery q = prepare(db, QStringLiteral("SELECT %1 FROM samples s JOIN images i ON i.id = s.image_id "
                                             "WHERE s.id > ? AND %2 ORDER BY s.id LIMIT ?")
                                  .arg(QLatin1String(kColumns), w.sql));
    q.setForwardOnly(true);
    q.addBindValue(afterId);
    for (const QVariant &b : w.binds)
        q.addBindValue(b);
    q.addBindValue(limit);
    exec(q, QStringLiteral("listing samples"));
    QList<SampleRow> rows;
    while (q.next())
        rows << readRow(q);
    return rows;
}

QList<SampleRow> SampleQuery::pageAt(const SampleFilter &filter, qint64 offset, int limit)
{
    QString order;
    if (filter.order == QLatin1String("gaps-first"))
        order = QStringLiteral("(s.outcome = 'gap') DESC, s.id");
    else if (filter.order == QLatin1String("confidence"))
        order = QStringLiteral("(SELECT max(a.logprob) FROM answers a JOIN models m ON m.id = a.model_id "
                               "WHERE a.sample_id = s.id AND m.role = 'large') DESC NULLS LAST, s.id");
    else if (filter.order == QLatin1String("image"))
        order = QStringLiteral("i.path, s.id");
    else
        order = QStringLiteral("s.id");
    QSqlDatabase db = m_ws.connection();
    const Where w = buildWhere(filter);
    QSqlQuery q = prepare(db, QStringLiteral("SELECT %1 FROM samples s JOIN images i ON i.id = s.image_id WHERE %2 ORDER BY %3 LIMIT ? OFFSET ?")
                                  .arg(QLatin1String(kColumns), w.sql, order));
    q.setForwardOnly(true);
    for (const QVariant &b : w.binds)
        q.addBindValue(b);
    q.addBindValue(limit);
    q.addBindValue(offset);
    exec(q, QStringLiteral("listing samples"));
    QList<SampleRow> rows;
    while (q.next())
        rows << readRow(q);
    return rows;
}

QList<qint64> SampleQuery::ids(const SampleFilter &filter)
{
    QSqlDatabase db = m_ws.connection();
    const Where w = buildWhere(filter);
    QSqlQuery q = prepare(db, QStringLiteral("SELECT s.id FROM samples s WHERE %1 ORDER BY s.id").arg(w.sql));
    q.setForwardOnly(true);
    for (const QVariant &b : w.binds)
        q.addBindValue(b);
    exec(q, QStringLiteral("listing sample ids"));
    QList<qint64> out;
    while (q.next())
        out << q.value(0).toLongLong();
    return out;
}

qint64 SampleQuery::count(const SampleFilter &filter)
{
    QSqlDatabase db = m_ws.connection();
    const Where w = buildWhere(filter);
    QSqlQuery q = prepare(db, QStringLiteral("SELECT count(*) FROM samples s WHERE %1").arg(w.sql));
    for (const QVariant &b : w.binds)
        q.addBindValue(b);
    exec(q, QStringLiteral("counting samples"));
    return q.next() ? q.value(0).toLongLong() : 0;
}

std::optional<SampleRow> SampleQuery::byId(qint64 id)
{
    QSqlDatabase db = m_ws.connection();
    QSqlQuery q = exec(db, QStringLiteral("SELECT %1 FROM samples s JOIN images i ON i.id = s.image_id WHERE s.id = ?")
                               .arg(QLatin1String(kColumns)), {id});
    if (!q.next())
        return std::nullopt;
    return readRow(q);
}

} // namespace mpa::store
