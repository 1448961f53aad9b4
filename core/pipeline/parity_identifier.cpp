#include "pipeline/parity_identifier.h"

#include "metrics/anls.h"
#include "metrics/mpa_match.h"
#include "metrics/relaxed_accuracy.h"
#include "metrics/vqa_accuracy.h"
#include "pipeline/task_prompts.h"
#include "store/catalog.h"
#include "store/sql_util.h"
#include "util/error.h"

namespace mpa::pipeline {

QStringList parityCriteria()
{
    return {QStringLiteral("mpa"), QStringLiteral("vqa"), QStringLiteral("anls"), QStringLiteral("relaxed")};
}

bool answerMatches(const QString &criterion, const QString &expected, const QString &prediction)
{
    if (criterion == QLatin1String("mpa"))
        return metrics::mpaMatch(expected, prediction);
    if (criterion == QLatin1String("vqa")) {
        auto norm = [](const QString &s) { return metrics::vqaProcessDigitArticle(metrics::vqaProcessPunctuation(s.simplified())); };
        return norm(expected) == norm(prediction);
    }
    if (criterion == QLatin1String("anls"))
        return metrics::anls(prediction, {expected}) >= 0.5;
    if (criterion == QLatin1String("relaxed"))
        return metrics::relaxedCorrect(prediction, expected);
    throw Error(QStringLiteral("unknown criterion \"%1\" (%2)").arg(criterion, parityCriteria().join(QStringLiteral(", "))));
}

QJsonObject IdentifyParams::toJson() const
{
    return {{QStringLiteral("criterion"), criterion}, {QStringLiteral("task"), task}, {QStringLiteral("source"), source},
            {QStringLiteral("batch_size"), batchSize}, {QStringLiteral("limit"), static_cast<qint64>(limit)},
            {QStringLiteral("max_new_tokens"), maxNewTokens}, {QStringLiteral("name"), name}};
}

IdentifyParams IdentifyParams::fromJson(const QJsonObject &o)
{
    IdentifyParams p;
    p.criterion = o.value(QStringLiteral("criterion")).toString(p.criterion);
    p.task = o.value(QStringLiteral("task")).toString();
    p.source = o.value(QStringLiteral("source")).toString();
    p.batchSize = o.value(QStringLiteral("batch_size")).toInt(p.batchSize);
    p.limit = o.value(QStringLiteral("limit")).toInteger(p.limit);
    p.maxNewTokens = o.value(QStringLiteral("max_new_tokens")).toInt(p.maxNewTokens);
    p.name = o.value(QStringLiteral("name")).toString();
    return p;
}

namespace {

struct Item
{
    qint64 sampleId;
    QString imagePath;
    QString question;
    QString answer;
};

// One model answers every item it has not answered in this run yet.
void answerAll(const store::Workspace &ws, backends::VlmBackend &model, qint64 modelId, qint64 runId, const std::vector<Item> &items,
               int batch, int maxNewTokens, const ProgressFn &progress, const QString &phase, JobSummary &s, bool &cancelled)
{
    QSqlDatabase db = ws.connection();
    store::Catalog catalog(ws);
    QSqlQuery have = store::prepare(db, QStringLiteral("SELECT 1 FROM answers WHERE sample_id = ? AND model_id = ? AND run_id = ?"));
    std::vector<const Item *> todo;
    for (const Item &it : items) {
        have.addBindValue(it.sampleId);
        have.addBindValue(modelId);
        have.addBindValue(runId);
        store::exec(have, QStringLiteral("checking answered items"));
        if (have.next())
            ++s.skipped;
        else
            todo.push_back(&it);
        have.finish();
    }
    backends::GenerationOptions g;
    g.maxNewTokens = maxNewTokens;
    g.greedy = true;
    qint64 doneHere = 0;
    for (std::size_t start = 0; start < todo.size() && !cancelled; start += static_cast<std::size_t>(batch)) {
        const std::size_t end = std::min(todo.size(), start + static_cast<std::size_t>(batch));
        std::vector<backends::VlmQuery> queries;
        for (std::size_t i = start; i < end; ++i)
            queries.push_back({todo[i]->imagePath, parityPrompt(todo[i]->question)});
        const auto replies = model.answer(queries, g);
        store::Transaction tx(db, QStringLiteral("parity answers"));
        for (std::size_t i = start; i < end; ++i) {
            const auto &r = replies[i - start];
            if (!r.error.isEmpty()) {
                ++s.failed;
                continue; // no answer: this sample gets no verdict
            }
            catalog.upsertAnswer(todo[i]->sampleId, modelId, runId, r.text, r.logprob, r.latencyMs);
            ++s.done;
        }
        tx.commit();
        doneHere += static_cast<qint64>(end - start);
        cancelled = !reportProgress(progress, doneHere, static_cast<qint64>(todo.size()), phase);
    }
}

} // namespace

JobSummary runParityIdentifier(const store::Workspace &ws, backends::VlmBackend &large, const QString &largeDir,
                               backends::VlmBackend &small, const QString &smallDir, const IdentifyParams &requested,
                               const ProgressFn &progress, qint64 resumeRunId)
{
    QJsonObject params = requested.toJson();
    params.insert(QStringLiteral("large_model"), largeDir);
    params.insert(QStringLiteral("small_model"), smallDir);
    RunScope run(ws, store::RunKind::Identify, QStringLiteral("identify %1 vs %2").arg(large.name(), small.name()), params, resumeRunId);
    const IdentifyParams p = IdentifyParams::fromJson(run.params());
    answerMatches(p.criterion, QString(), QString()); // validates the criterion before any work
    JobSummary s;
    s.runId = run.id();
    try {
        store::Catalog catalog(ws);
        const qint64 largeId = catalog.ensureModel(large.name(), modelKindFor(largeDir), largeDir, store::ModelRole::Large);
        const qint64 smallId = catalog.ensureModel(small.name(), modelKindFor(smallDir), smallDir, store::ModelRole::Small);
        if (largeId == smallId)
            throw Error(QStringLiteral("the large and the small model are the same model (%1)").arg(large.name()));
        QSqlDatabase db = ws.connection();
        QStringList where{QStringLiteral("s.parse_status = 'ok'")};
        QVariantList binds;
        if (!p.task.isEmpty()) {
            where << QStringLiteral("s.task = ?");
            binds << p.task;
        }
        if (!p.source.isEmpty()) {
            where << QStringLiteral("s.source = ?");
            binds << p.source;
        }
        QSqlQuery q = store::prepare(db, QStringLiteral("SELECT s.id, i.path, COALESCE(s.reviewed_question, s.question), "
                                                        "COALESCE(s.reviewed_answer, s.answer) FROM samples s JOIN images i ON i.id = s.image_id "
                                                        "WHERE %1 ORDER BY s.id %2")
                                              .arg(where.join(QStringLiteral(" AND ")), p.limit > 0 ? QStringLiteral("LIMIT %1").arg(p.limit) : QString()));
        for (const QVariant &b : binds)
            q.addBindValue(b);
        store::exec(q, QStringLiteral("selecting samples"));
        std::vector<Item> items;
        while (q.next())
            items.push_back({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), q.value(3).toString()});
        bool cancelled = false;
        answerAll(ws, large, largeId, run.id(), items, p.batchSize > 0 ? p.batchSize : large.preferredBatchSize(), p.maxNewTokens, progress,
                  QStringLiteral("identify: large model"), s, cancelled);
        if (!cancelled)
            answerAll(ws, small, smallId, run.id(), items, p.batchSize > 0 ? p.batchSize : small.preferredBatchSize(), p.maxNewTokens,
                      progress, QStringLiteral("identify: small model"), s, cancelled);
        if (!cancelled) {
            // Verdicts for every sample both models answered in this run. The write transaction
            // comes first: a read begun before it would pin an older snapshot, and the first
            // verdict would then fail as busy if anyone (a reviewer) committed in between.
            store::Transaction tx(db, QStringLiteral("verdicts"));
            QSqlQuery both = store::exec(db, QStringLiteral(R"(
                SELECT s.id, COALESCE(s.reviewed_answer, s.answer), l.text, m.text FROM samples s
                JOIN answers l ON l.sample_id = s.id AND l.model_id = ? AND l.run_id = ?
                JOIN answers m ON m.sample_id = s.id AND m.model_id = ? AND m.run_id = ? ORDER BY s.id)"),
                                         {largeId, run.id(), smallId, run.id()});
            while (both.next()) {
                const QString g = both.value(1).toString();
                const bool l = answerMatches(p.criterion, g, both.value(2).toString());
                const bool sm = answerMatches(p.criterion, g, both.value(3).toString());
                // The official rule: an empty pseudo answer is never a gap (it is no usable label).
                const bool emptyLabel = metrics::mpaNormalise(g).isEmpty();
                const store::Outcome o = (l && sm)   ? store::Outcome::BothRight
                                       : l           ? (emptyLabel ? store::Outcome::BothWrong : store::Outcome::Gap)
                                       : sm          ? store::Outcome::SOnly
                                                     : store::Outcome::BothWrong;
                catalog.upsertVerdict(both.value(0).toLongLong(), run.id(), l, sm, o, p.criterion);
            }
            tx.commit();
        }
        s.cancelled = cancelled;
        run.finish(cancelled);
    } catch (const Error &e) {
        run.fail(e.message());
        throw;
    }
    return s;
}

} // namespace mpa::pipeline
