#include "pipeline/evaluator.h"

#include "datasets/synthetic_world.h"
#include "metrics/scoring.h"
#include "pipeline/task_prompts.h"
#include "store/catalog.h"
#include "store/sql_util.h"
#include "util/error.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace mpa::pipeline {

QJsonObject EvaluateParams::toJson() const
{
    return {{QStringLiteral("dataset"), dataset}, {QStringLiteral("split"), split}, {QStringLiteral("metric"), metric},
            {QStringLiteral("batch_size"), batchSize}, {QStringLiteral("limit"), static_cast<qint64>(limit)},
            {QStringLiteral("max_new_tokens"), maxNewTokens}, {QStringLiteral("name"), name}};
}

EvaluateParams EvaluateParams::fromJson(const QJsonObject &o)
{
    EvaluateParams p;
    p.dataset = o.value(QStringLiteral("dataset")).toString();
    p.split = o.value(QStringLiteral("split")).toString();
    p.metric = o.value(QStringLiteral("metric")).toString();
    p.batchSize = o.value(QStringLiteral("batch_size")).toInt(p.batchSize);
    p.limit = o.value(QStringLiteral("limit")).toInteger(p.limit);
    p.maxNewTokens = o.value(QStringLiteral("max_new_tokens")).toInt(p.maxNewTokens);
    p.name = o.value(QStringLiteral("name")).toString();
    return p;
}

QString officialMetricFor(const QString &dataset)
{
    // The demo world's benchmarks say their own (a GUI evaluation must score what the demo did).
    if (const QString demo = datasets::syntheticBenchmarkMetric(dataset); !demo.isEmpty())
        return demo;
    const QString d = dataset.toLower();
    if (d.contains(QLatin1String("stvqa")) || d.contains(QLatin1String("st-vqa")))
        return QStringLiteral("anls");
    if (d.contains(QLatin1String("chart")))
        return QStringLiteral("relaxed");
    return QStringLiteral("vqa");
}

namespace {

struct Question
{
    qint64 itemId;
    QString questionId;
    QString imagePath;
    QString question;
    QStringList answers;
};

QStringList answersOf(const QString &json)
{
    QStringList out;
    for (const QJsonValue &v : QJsonDocument::fromJson(json.toUtf8()).array())
        out << v.toString();
    return out;
}

} // namespace

EvaluationScores scoreEvaluationRun(const store::Workspace &ws, qint64 runId)
{
    QSqlDatabase db = ws.connection();
    const QJsonObject params = QJsonDocument::fromJson(store::scalar(db, QStringLiteral("SELECT params FROM runs WHERE id = ?"), {runId}).toString().toUtf8()).object();
    const EvaluateParams p = EvaluateParams::fromJson(params);
    EvaluationScores s;
    s.metric = p.metric.isEmpty() ? officialMetricFor(p.dataset) : p.metric;
    const auto metric = metrics::metricFromString(s.metric);
    if (!metric)
        throw Error(QStringLiteral("run %1: unknown metric \"%2\"").arg(runId).arg(s.metric));
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT p.text, b.answers FROM predictions p JOIN benchmark_items b ON b.id = p.item_id "
                                                 "WHERE p.run_id = ?"), {runId});
    double official = 0, mpa = 0;
    while (q.next()) {
        const QStringList answers = answersOf(q.value(1).toString());
        official += metrics::scoreOne(*metric, q.value(0).toString(), answers);
        mpa += metrics::scoreOne(metrics::Metric::MpaSubstring, q.value(0).toString(), answers);
        ++s.questions;
    }
    if (s.questions) {
        s.official = official / static_cast<double>(s.questions);
        s.mpaAccuracy = mpa / static_cast<double>(s.questions);
    }
    return s;
}

JobSummary runEvaluation(const store::Workspace &ws, backends::VlmBackend &model, const QString &modelDir, const EvaluateParams &requested,
                         const ProgressFn &progress, qint64 resumeRunId, EvaluationScores *scoresOut)
{
    QJsonObject params = requested.toJson();
    params.insert(QStringLiteral("model"), modelDir);
    RunScope run(ws, store::RunKind::Evaluate, QStringLiteral("evaluate %1 on %2").arg(model.name(), requested.dataset), params, resumeRunId);
    const EvaluateParams p = EvaluateParams::fromJson(run.params());
    JobSummary s;
    s.runId = run.id();
    try {
        QSqlDatabase db = ws.connection();
        QString split = p.split;
        if (split.isEmpty()) {
            QSqlQuery splits = store::exec(db, QStringLiteral("SELECT DISTINCT split FROM benchmark_items WHERE dataset = ?"), {p.dataset});
            QStringList found;
            while (splits.next())
                found << splits.value(0).toString();
            if (found.isEmpty())
                throw Error(QStringLiteral("%1: no benchmark \"%2\" imported (mpa import --dataset ...)").arg(ws.root(), p.dataset));
            if (found.size() > 1)
                throw Error(QStringLiteral("%1: benchmark \"%2\" has several splits (%3); choose one with --split").arg(ws.root(), p.dataset, found.join(QStringLiteral(", "))));
            split = found.first();
        }
        const qint64 modelId = store::Catalog(ws).ensureModel(model.name(), modelKindFor(modelDir), modelDir, store::ModelRole::Other);
        QSqlQuery q = store::exec(db, QStringLiteral("SELECT b.id, b.question_id, i.path, b.question, b.answers FROM benchmark_items b "
                                                     "JOIN images i ON i.id = b.image_id WHERE b.dataset = ? AND b.split = ? AND NOT EXISTS "
                                                     "(SELECT 1 FROM predictions p WHERE p.item_id = b.id AND p.run_id = ?) ORDER BY b.id %1")
                                          .arg(p.limit > 0 ? QStringLiteral("LIMIT %1").arg(p.limit) : QString()),
                                  {p.dataset, split, run.id()});
        std::vector<Question> todo;
        while (q.next())
            todo.push_back({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), q.value(3).toString(), answersOf(q.value(4).toString())});
        s.skipped = store::scalar(db, QStringLiteral("SELECT count(*) FROM predictions WHERE run_id = ?"), {run.id()}).toLongLong();
        const int batch = p.batchSize > 0 ? p.batchSize : model.preferredBatchSize();
        backends::GenerationOptions g;
        g.maxNewTokens = p.maxNewTokens;
        store::Catalog catalog(ws);
        bool cancelled = false;
        for (std::size_t start = 0; start < todo.size() && !cancelled; start += static_cast<std::size_t>(batch)) {
            const std::size_t end = std::min(todo.size(), start + static_cast<std::size_t>(batch));
            std::vector<backends::VlmQuery> queries;
            for (std::size_t i = start; i < end; ++i)
                queries.push_back({todo[i].imagePath, parityPrompt(todo[i].question)});
            const auto replies = model.answer(queries, g);
            store::Transaction tx(db, QStringLiteral("predictions"));
            for (std::size_t i = start; i < end; ++i) {
                if (!replies[i - start].error.isEmpty()) {
                    ++s.failed;
                    continue;
                }
                catalog.upsertPrediction(run.id(), todo[i].itemId, modelId, replies[i - start].text);
                ++s.done;
            }
            tx.commit();
            cancelled = !reportProgress(progress, static_cast<qint64>(end), static_cast<qint64>(todo.size()), QStringLiteral("evaluate"));
        }
        const EvaluationScores scores = scoreEvaluationRun(ws, run.id());
        catalog.addMetric(run.id(), scores.metric, 0, scores.official);
        catalog.addMetric(run.id(), QStringLiteral("mpa"), 0, scores.mpaAccuracy);
        catalog.addMetric(run.id(), QStringLiteral("questions"), 0, static_cast<double>(scores.questions));
        if (scoresOut)
            *scoresOut = scores;
        s.cancelled = cancelled;
        run.finish(cancelled);
    } catch (const Error &e) {
        run.fail(e.message());
        throw;
    }
    return s;
}

FlipTable compareEvaluationRuns(const store::Workspace &ws, qint64 runA, qint64 runB)
{
    const EvaluationScores a = scoreEvaluationRun(ws, runA);
    const auto metric = metrics::metricFromString(a.metric);
    QSqlDatabase db = ws.connection();
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT b.question_id, pa.text, pb.text, b.answers, b.id, b.question FROM predictions pa "
                                                 "JOIN predictions pb ON pb.item_id = pa.item_id AND pb.run_id = ? "
                                                 "JOIN benchmark_items b ON b.id = pa.item_id WHERE pa.run_id = ? ORDER BY b.id"),
                              {runB, runA});
    FlipTable t;
    while (q.next()) {
        const QStringList answers = answersOf(q.value(3).toString());
        const bool before = metrics::scoreOne(*metric, q.value(1).toString(), answers) >= 0.5;
        const bool after = metrics::scoreOne(*metric, q.value(2).toString(), answers) >= 0.5;
        QString kind;
        if (!before && after) {
            ++t.fixed;
            kind = QStringLiteral("fixed");
        } else if (before && !after) {
            ++t.broken;
            kind = QStringLiteral("broken");
        } else if (before) {
            ++t.stillRight;
            kind = QStringLiteral("still_right");
        } else {
            ++t.stillWrong;
            kind = QStringLiteral("still_wrong");
        }
        t.rows.append({q.value(4).toLongLong(), q.value(0).toString(), kind, q.value(5).toString(), answers, q.value(1).toString(),
                       q.value(2).toString()});
    }
    return t;
}

} // namespace mpa::pipeline
