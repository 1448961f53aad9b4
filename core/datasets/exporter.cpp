#include "datasets/exporter.h"

#include "datasets/conversation_formats.h"
#include "store/sql_util.h"
#include "util/error.h"
#include "util/json_file.h"

#include <QJsonArray>

namespace mpa::datasets {

using namespace mpa::store;

namespace {

QString selectionWhere(ExportSelection s)
{
    switch (s) {
    case ExportSelection::ApprovedGaps: return QStringLiteral("s.outcome = 'gap' AND s.review_state = 'approved'");
    case ExportSelection::Gaps: return QStringLiteral("s.outcome = 'gap' AND s.review_state != 'rejected'");
    case ExportSelection::Approved: return QStringLiteral("s.review_state = 'approved'");
    case ExportSelection::All: return QStringLiteral("1");
    }
    return QStringLiteral("0");
}

QList<QaPair> trainingPairs(QSqlDatabase &db, ExportSelection selection)
{
    // Unparsed annotations have no pair to train on; they are never exported for training.
    QSqlQuery q = exec(db, QStringLiteral("SELECT s.id, i.path, COALESCE(s.reviewed_question, s.question), "
                                          "COALESCE(s.reviewed_answer, s.answer) FROM samples s JOIN images i ON i.id = s.image_id "
                                          "WHERE s.parse_status = 'ok' AND %1 ORDER BY s.id").arg(selectionWhere(selection)));
    QList<QaPair> pairs;
    while (q.next())
        pairs.append({q.value(0).toString(), q.value(1).toString(), q.value(2).toString(), q.value(3).toString()});
    return pairs;
}

qint64 writeJsonl(QSqlDatabase &db, const QString &out, const ExportOptions &o)
{
    QSqlQuery q = exec(db, QStringLiteral(R"(
        SELECT s.id, s.source, s.source_key, i.path, i.sha256, s.task, s.question, s.answer, s.reviewed_question,
               s.reviewed_answer, s.raw_text, s.parse_status, s.review_state, m.name,
               v.outcome, v.l_correct, v.s_correct, v.criterion
        FROM samples s JOIN images i ON i.id = s.image_id
        LEFT JOIN models m ON m.id = s.model_id
        LEFT JOIN verdicts v ON v.id = (SELECT max(id) FROM verdicts WHERE sample_id = s.id)
        WHERE %1 ORDER BY s.id)").arg(selectionWhere(o.selection)));
    QSqlQuery answers = prepare(db, QStringLiteral("SELECT m.name, m.role, a.text FROM answers a JOIN models m ON m.id = a.model_id "
                                                   "WHERE a.sample_id = ? ORDER BY a.id"));
    QList<QJsonObject> records;
    while (q.next()) {
        QJsonObject r{
            {QStringLiteral("id"), q.value(0).toLongLong()},
            {QStringLiteral("source"), q.value(1).toString()},
            {QStringLiteral("source_key"), q.value(2).toString()},
            {QStringLiteral("image"), relativeImagePath(q.value(3).toString(), o.imageRoot)},
            {QStringLiteral("task"), q.value(5).toString()},
            {QStringLiteral("parse_status"), q.value(11).toString()},
            {QStringLiteral("review_state"), q.value(12).toString()},
        };
        if (!q.value(4).isNull())
            r.insert(QStringLiteral("image_sha256"), q.value(4).toString());
        const QVariant question = q.value(8).isNull() ? q.value(6) : q.value(8);
        const QVariant answer = q.value(9).isNull() ? q.value(7) : q.value(9);
        r.insert(QStringLiteral("question"), question.isNull() ? QJsonValue() : QJsonValue(question.toString()));
        r.insert(QStringLiteral("answer"), answer.isNull() ? QJsonValue() : QJsonValue(answer.toString()));
        if (!q.value(8).isNull())
            r.insert(QStringLiteral("original_question"), q.value(6).toString());
        if (!q.value(9).isNull())
            r.insert(QStringLiteral("original_answer"), q.value(7).toString());
        if (!q.value(10).isNull())
            r.insert(QStringLiteral("raw_text"), q.value(10).toString());
        if (!q.value(13).isNull())
            r.insert(QStringLiteral("model"), q.value(13).toString());
        if (!q.value(14).isNull())
            r.insert(QStringLiteral("verdict"), QJsonObject{{QStringLiteral("outcome"), q.value(14).toString()},
                                                            {QStringLiteral("l_correct"), q.value(15).toInt() != 0},
                                                            {QStringLiteral("s_correct"), q.value(16).toInt() != 0},
                                                            {QStringLiteral("criterion"), q.value(17).toString()}});
        answers.addBindValue(q.value(0));
        exec(answers, QStringLiteral("reading answers"));
        QJsonArray list;
        while (answers.next())
            list.append(QJsonObject{{QStringLiteral("model"), answers.value(0).toString()},
                                    {QStringLiteral("role"), answers.value(1).toString()},
                                    {QStringLiteral("text"), answers.value(2).toString()}});
        if (!list.isEmpty())
            r.insert(QStringLiteral("answers"), list);
        records << r;
    }
    json::writeLines(out, records);
    return records.size();
}

qint64 writeVqaResults(QSqlDatabase &db, const QString &out, qint64 runId)
{
    if (runId == 0) {
        runId = scalar(db, QStringLiteral("SELECT max(run_id) FROM predictions")).toLongLong();
        if (runId == 0)
            throw Error(QStringLiteral("%1: the workspace holds no predictions (evaluate a model or import an MPA Eval file first)").arg(out));
    }
    QSqlQuery q = exec(db, QStringLiteral("SELECT b.question_id, p.text FROM predictions p JOIN benchmark_items b ON b.id = p.item_id "
                                          "WHERE p.run_id = ? ORDER BY b.id"), {runId});
    QJsonArray results;
    while (q.next()) {
        bool numeric = false;
        const qint64 id = q.value(0).toString().toLongLong(&numeric);
        results.append(QJsonObject{{QStringLiteral("question_id"), numeric ? QJsonValue(id) : QJsonValue(q.value(0).toString())},
                                   {QStringLiteral("answer"), q.value(1).toString()}});
    }
    if (results.isEmpty())
        throw Error(QStringLiteral("%1: run %2 has no predictions").arg(out).arg(runId));
    json::writeFile(out, QJsonDocument(results));
    return results.size();
}

} // namespace

qint64 exportWorkspace(const Workspace &ws, const QString &outPath, const ExportOptions &o)
{
    QSqlDatabase db = ws.connection();
    switch (o.format) {
    case ExportFormat::Llava: {
        const QList<QaPair> pairs = trainingPairs(db, o.selection);
        writeLlava(outPath, pairs, o.imageRoot);
        return pairs.size();
    }
    case ExportFormat::ShareGpt: {
        const QList<QaPair> pairs = trainingPairs(db, o.selection);
        writeShareGpt(outPath, pairs, o.imageRoot, o.datasetName);
        return pairs.size();
    }
    case ExportFormat::Jsonl:
        return writeJsonl(db, outPath, o);
    case ExportFormat::VqaResults:
        return writeVqaResults(db, outPath, o.runId);
    }
    return 0;
}

std::optional<ExportFormat> exportFormatFromString(const QString &t)
{
    if (t == QLatin1String("llava") || t == QLatin1String("qwen2-vl-finetune"))
        return ExportFormat::Llava;
    if (t == QLatin1String("sharegpt"))
        return ExportFormat::ShareGpt;
    if (t == QLatin1String("jsonl"))
        return ExportFormat::Jsonl;
    if (t == QLatin1String("vqa-results"))
        return ExportFormat::VqaResults;
    return std::nullopt;
}

std::optional<ExportSelection> exportSelectionFromString(const QString &t)
{
    if (t == QLatin1String("approved-gaps"))
        return ExportSelection::ApprovedGaps;
    if (t == QLatin1String("gaps"))
        return ExportSelection::Gaps;
    if (t == QLatin1String("approved"))
        return ExportSelection::Approved;
    if (t == QLatin1String("all"))
        return ExportSelection::All;
    return std::nullopt;
}

} // namespace mpa::datasets
