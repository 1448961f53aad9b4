#include "store/sample_query.h"

#include "store/rows.h"
#include "store/sql_util.h"

namespace mpa::store {

namespace {

const char *kColumns = "s.id, s.image_id, i.path, i.status, s.task, COALESCE(s.reviewed_question, s.question), "
                       "COALESCE(s.reviewed_answer, s.answer), s.question, s.answer, s.raw_text, s.parse_status, "
                       "s.outcome, s.review_state, s.source, s.source_key, s.verdict_stale, "
                       // The large model's confidence and the criterion of the latest verdict: two
                       // indexed lookups per listed row (answers and verdicts lead with sample_id).
                       "(SELECT max(a.logprob) FROM answers a JOIN models m ON m.id = a.model_id WHERE a.sample_id = s.id AND m.role = 'large'), "
                       "(SELECT v.criterion FROM verdicts v WHERE v.sample_id = s.id ORDER BY v.id DESC LIMIT 1)";

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
    if (f.imageId) {
        parts << QStringLiteral("s.image_id = ?");
        w.binds << *f.imageId;
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

SampleRow readRow(const QVariantList &v)
{
    SampleRow r;
    r.id = v[0].toLongLong();
    r.imageId = v[1].toLongLong();
    r.imagePath = v[2].toString();
    r.imageStatus = v[3].toString();
    r.task = v[4].toString();
    r.question = v[5].toString();
    r.answer = v[6].toString();
    r.originalQuestion = v[7].toString();
    r.originalAnswer = v[8].toString();
    r.rawText = v[9].toString();
    r.parsed = v[10].toString() == QLatin1String("ok");
    r.outcome = v[11].toString();
    r.reviewState = v[12].toString();
    r.source = v[13].toString();
    r.sourceKey = v[14].toString();
    r.verdictStale = v[15].toInt() != 0;
    if (!v[16].isNull())
        r.largeLogprob = v[16].toDouble();
    r.criterion = v[17].toString();
    return r;
}

QList<SampleRow> readSampleRows(QSqlDatabase &db, const QString &sql, const QVariantList &binds)
{
    QList<SampleRow> out;
    const Rows rows = readRows(db, sql, binds);
    out.reserve(rows.size());
    for (const QVariantList &v : rows.rows)
        out << readRow(v);
    return out;
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
    return readSampleRows(db, QStringLiteral("SELECT %1 FROM samples s JOIN images i ON i.id = s.image_id "
                                             "WHERE s.id > ? AND %2 ORDER BY s.id LIMIT ?").arg(QLatin1String(kColumns), w.sql),
                          QVariantList{afterId} + w.binds + QVariantList{limit});
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
    return readSampleRows(db, QStringLiteral("SELECT %1 FROM samples s JOIN images i ON i.id = s.image_id WHERE %2 ORDER BY %3 LIMIT ? OFFSET ?")
                                  .arg(QLatin1String(kColumns), w.sql, order),
                          w.binds + QVariantList{limit, offset});
}

QList<qint64> SampleQuery::ids(const SampleFilter &filter)
{
    QSqlDatabase db = m_ws.connection();
    const Where w = buildWhere(filter);
    const Rows rows = readRows(db, QStringLiteral("SELECT s.id FROM samples s WHERE %1 ORDER BY s.id").arg(w.sql), w.binds);
    QList<qint64> out;
    out.reserve(rows.size());
    for (const QVariantList &v : rows.rows)
        out << v[0].toLongLong();
    return out;
}

QList<QPair<qint64, QString>> SampleQuery::idsWithState(const SampleFilter &filter)
{
    QSqlDatabase db = m_ws.connection();
    const Where w = buildWhere(filter);
    const Rows rows = readRows(db, QStringLiteral("SELECT s.id, s.review_state FROM samples s WHERE %1 ORDER BY s.id").arg(w.sql), w.binds);
    QList<QPair<qint64, QString>> out;
    out.reserve(rows.size());
    for (const QVariantList &v : rows.rows)
        out.append({v[0].toLongLong(), v[1].toString()});
    return out;
}

qint64 SampleQuery::count(const SampleFilter &filter)
{
    QSqlDatabase db = m_ws.connection();
    const Where w = buildWhere(filter);
    const Rows rows = readRows(db, QStringLiteral("SELECT count(*) FROM samples s WHERE %1").arg(w.sql), w.binds);
    return rows.isEmpty() ? 0 : rows.at(0, 0).toLongLong();
}

std::optional<SampleRow> SampleQuery::byId(qint64 id)
{
    const QList<SampleRow> rows = byIds({id});
    if (rows.isEmpty())
        return std::nullopt;
    return rows.first();
}

QList<SampleRow> SampleQuery::byIds(const QList<qint64> &ids)
{
    QList<SampleRow> out;
    QSqlDatabase db = m_ws.connection();
    // In chunks below SQLite's bound-parameter limit.
    for (qsizetype start = 0; start < ids.size(); start += 500) {
        const QList<qint64> chunk = ids.mid(start, 500);
        QVariantList binds;
        for (qint64 id : chunk)
            binds << id;
        QStringList marks(chunk.size(), QStringLiteral("?"));
        out += readSampleRows(db, QStringLiteral("SELECT %1 FROM samples s JOIN images i ON i.id = s.image_id WHERE s.id IN (%2) ORDER BY s.id")
                                      .arg(QLatin1String(kColumns), marks.join(QLatin1Char(','))), binds);
    }
    return out;
}

} // namespace mpa::store
