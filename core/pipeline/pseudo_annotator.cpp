#include "pipeline/pseudo_annotator.h"

#include "pipeline/task_prompts.h"
#include "store/catalog.h"
#include "store/sql_util.h"
#include "util/error.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace mpa::pipeline {

QJsonObject AnnotateParams::toJson() const
{
    return {{QStringLiteral("task"), task}, {QStringLiteral("pairs_per_image"), pairsPerImage}, {QStringLiteral("batch_size"), batchSize},
            {QStringLiteral("limit"), static_cast<qint64>(limit)}, {QStringLiteral("max_new_tokens"), maxNewTokens}, {QStringLiteral("images"), images},
            {QStringLiteral("name"), name}};
}

AnnotateParams AnnotateParams::fromJson(const QJsonObject &o)
{
    AnnotateParams p;
    p.task = o.value(QStringLiteral("task")).toString(p.task);
    p.pairsPerImage = o.value(QStringLiteral("pairs_per_image")).toInt(p.pairsPerImage);
    p.batchSize = o.value(QStringLiteral("batch_size")).toInt(p.batchSize);
    p.limit = o.value(QStringLiteral("limit")).toInteger(p.limit);
    p.maxNewTokens = o.value(QStringLiteral("max_new_tokens")).toInt(p.maxNewTokens);
    p.images = o.value(QStringLiteral("images")).toString();
    p.name = o.value(QStringLiteral("name")).toString();
    return p;
}

JobSummary runPseudoAnnotator(const store::Workspace &ws, backends::VlmBackend &model, const QString &modelDir,
                              const AnnotateParams &requested, const ProgressFn &progress, qint64 resumeRunId)
{
    QJsonObject params = requested.toJson();
    params.insert(QStringLiteral("model"), modelDir);
    RunScope run(ws, store::RunKind::Annotate, QStringLiteral("annotate %1 with %2").arg(requested.task, model.name()), params, resumeRunId);
    const AnnotateParams p = AnnotateParams::fromJson(run.params());
    if (p.pairsPerImage < 1)
        throw Error(QStringLiteral("pairs per image must be at least 1"));
    JobSummary s;
    s.runId = run.id();
    try {
        // The prompt text is part of the run's record (prompts are editable per workspace).
        QString prompt = run.params().value(QStringLiteral("prompt")).toString();
        if (prompt.isEmpty()) {
            prompt = taskPrompt(ws, p.task);
            QJsonObject withPrompt = run.params();
            withPrompt.insert(QStringLiteral("prompt"), prompt);
            QSqlDatabase pdb = ws.connection();
            store::exec(pdb, QStringLiteral("UPDATE runs SET params = ? WHERE id = ?"),
                        {QString::fromUtf8(QJsonDocument(withPrompt).toJson(QJsonDocument::Compact)), run.id()});
        }
        store::Catalog catalog(ws);
        const qint64 modelId = catalog.ensureModel(model.name(), modelKindFor(modelDir), modelDir, store::ModelRole::Large);
        QSqlDatabase db = ws.connection();
        const QString source = QStringLiteral("pa:run%1").arg(run.id());
        // Work items: (image, k) without a sample of this run yet.
        QSqlQuery q = store::exec(db, QStringLiteral("SELECT id, path FROM images WHERE status = 'ok' AND (? = '' OR path GLOB ?) ORDER BY id %1")
                                          .arg(p.limit > 0 ? QStringLiteral("LIMIT %1").arg(p.limit) : QString()),
                                  {p.images, p.images});
        struct Item { qint64 imageId; QString path; int k; };
        std::vector<Item> todo;
        QSqlQuery done = store::prepare(db, QStringLiteral("SELECT 1 FROM samples WHERE source = ? AND source_key = ?"));
        while (q.next()) {
            for (int k = 0; k < p.pairsPerImage; ++k) {
                done.addBindValue(source);
                done.addBindValue(QStringLiteral("%1#%2").arg(q.value(0).toLongLong()).arg(k));
                store::exec(done, QStringLiteral("checking finished items"));
                if (done.next())
                    ++s.skipped;
                else
                    todo.push_back({q.value(0).toLongLong(), q.value(1).toString(), k});
                done.finish();
            }
        }
        const int batch = p.batchSize > 0 ? p.batchSize : model.preferredBatchSize();
        backends::GenerationOptions g;
        g.maxNewTokens = p.maxNewTokens;
        g.useModelDefaults = true; // the official PA step uses the model's generation config
        bool cancelled = false;
        for (std::size_t start = 0; start < todo.size() && !cancelled; start += static_cast<std::size_t>(batch)) {
            const std::size_t end = std::min(todo.size(), start + static_cast<std::size_t>(batch));
            std::vector<backends::VlmQuery> queries;
            for (std::size_t i = start; i < end; ++i)
                queries.push_back({todo[i].path, prompt});
            g.seed = start; // distinct samples when pairs per image > 1 and sampling is on
            // Cancellation is honoured between batches: a batch is never stored half-generated.
            const auto replies = model.answer(queries, g);
            store::Transaction tx(db, QStringLiteral("pseudo annotations"));
            for (std::size_t i = start; i < end; ++i) {
                const backends::VlmReply &r = replies[i - start];
                store::SampleRecord rec;
                rec.imageId = todo[i].imageId;
                rec.task = p.task;
                rec.modelId = modelId;
                rec.runId = run.id();
                rec.source = source;
                rec.sourceKey = QStringLiteral("%1#%2").arg(todo[i].imageId).arg(todo[i].k);
                if (!r.error.isEmpty()) {
                    rec.parsed = false;
                    rec.rawText = QStringLiteral("[error] ") + r.error;
                    ++s.failed;
                } else {
                    rec.rawText = r.text;
                    const auto pair = parsePseudoAnnotation(r.text);
                    rec.parsed = pair.has_value();
                    if (pair) {
                        rec.question = pair->question;
                        rec.answer = pair->answer;
                    }
                }
                catalog.upsertSample(rec);
                ++s.done;
            }
            tx.commit();
            cancelled = !reportProgress(progress, s.done + s.skipped, static_cast<qint64>(todo.size()) + s.skipped, QStringLiteral("annotate"));
        }
        s.cancelled = cancelled && s.done + s.skipped < static_cast<qint64>(todo.size()) + s.skipped;
        run.finish(s.cancelled);
    } catch (const Error &e) {
        run.fail(e.message());
        throw;
    }
    return s;
}

} // namespace mpa::pipeline
