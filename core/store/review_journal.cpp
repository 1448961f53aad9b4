#include "store/review_journal.h"

#include "store/sql_util.h"
#include "util/error.h"

namespace mpa::store {

namespace {
QVariant optionalText(const std::optional<QString> &v)
{
    return v ? QVariant(*v) : QVariant(QMetaType::fromType<QString>());
}
} // namespace

ReviewJournal::ReviewJournal(const Workspace &ws)
    : m_ws(ws)
{
}

qint64 ReviewJournal::record(qint64 sampleId, Decision decision, std::optional<QString> editedQuestion,
                             std::optional<QString> editedAnswer, const QString &note)
{
    m_ws.requireWritable(QStringLiteral("record a review"));
    QSqlDatabase db = m_ws.connection();
    // Autocommit: one INSERT is one transaction (and the trigger's UPDATE joins it).
    QSqlQuery q = exec(db, QStringLiteral("INSERT INTO reviews(sample_id, decision, question, answer, note, created_at) "
                                          "VALUES(?,?,?,?,?,?)"),
                       {sampleId, toString(decision), optionalText(editedQuestion), optionalText(editedAnswer),
                        note.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(note), nowMs()});
    return q.lastInsertId().toLongLong();
}

void ReviewJournal::recordMany(const QList<qint64> &sampleIds, Decision decision, const QString &note)
{
    QList<QPair<qint64, Decision>> each;
    each.reserve(sampleIds.size());
    for (qint64 id : sampleIds)
        each.append({id, decision});
    recordEach(each, note);
}

void ReviewJournal::recordEach(const QList<QPair<qint64, Decision>> &decisions, const QString &note)
{
    m_ws.requireWritable(QStringLiteral("record reviews"));
    QSqlDatabase db = m_ws.connection();
    Transaction tx(db, QStringLiteral("bulk review"));
    QSqlQuery q = prepare(db, QStringLiteral("INSERT INTO reviews(sample_id, decision, note, created_at) VALUES(?,?,?,?)"));
    const qint64 now = nowMs();
    for (const auto &[id, decision] : decisions) {
        q.addBindValue(id);
        q.addBindValue(toString(decision));
        q.addBindValue(note.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(note));
        q.addBindValue(now);
        exec(q, QStringLiteral("reviewing sample %1").arg(id));
    }
    tx.commit();
}

QString ReviewJournal::currentState(qint64 sampleId)
{
    QSqlDatabase db = m_ws.connection();
    const QVariant v = scalar(db, QStringLiteral("SELECT decision FROM reviews WHERE sample_id = ? ORDER BY id DESC LIMIT 1"), {sampleId});
    const QString d = v.toString();
    if (d == QLatin1String("approve"))
        return QStringLiteral("approved");
    if (d == QLatin1String("reject"))
        return QStringLiteral("rejected");
    return QStringLiteral("pending");
}

QList<ReviewEntry> ReviewJournal::history(qint64 sampleId)
{
    QSqlDatabase db = m_ws.connection();
    QSqlQuery q = exec(db, QStringLiteral("SELECT id, decision, question, answer, note, created_at FROM reviews "
                                          "WHERE sample_id = ? ORDER BY id"), {sampleId});
    QList<ReviewEntry> out;
    while (q.next()) {
        ReviewEntry e;
        e.id = q.value(0).toLongLong();
        e.sampleId = sampleId;
        e.decision = decisionFromString(q.value(1).toString()).value_or(Decision::Clear);
        if (!q.value(2).isNull())
            e.question = q.value(2).toString();
        if (!q.value(3).isNull())
            e.answer = q.value(3).toString();
        e.note = q.value(4).toString();
        e.at = QDateTime::fromMSecsSinceEpoch(q.value(5).toLongLong(), Qt::UTC);
        out << e;
    }
    return out;
}

} // namespace mpa::store
