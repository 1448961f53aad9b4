#include "pipeline/parity_leveler.h"

#include "store/run_detail.h"

#include "pipeline/task_prompts.h"

#include "backends/model_identity.h"
#include "backends/torch_runtime.h"
#include "pipeline/leveler_checkpoints.h"
#include "pipeline/leveler_optimizer.h"
#include "pipeline/trainable_vlm.h"
#include "pipeline/training_data.h"
#include "pipeline/training_stream.h"
#include "store/catalog.h"
#include "store/sql_util.h"
#include "util/error.h"
#include "vlm/model_registry.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/safetensors.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <cmath>

namespace mpa::pipeline {

QJsonObject AlignParams::toJson() const
{
    return {{QStringLiteral("selection"), selection}, {QStringLiteral("seed"), static_cast<qint64>(seed)}, {QStringLiteral("method"), method},
            {QStringLiteral("lora_rank"), loraRank}, {QStringLiteral("lora_alpha"), loraAlpha}, {QStringLiteral("lora_dropout"), loraDropout},
            {QStringLiteral("lora_targets"), QJsonArray::fromStringList(loraTargets)}, {QStringLiteral("lr_llm"), lrLlm},
            {QStringLiteral("lr_merger"), lrMerger}, {QStringLiteral("lr_vision"), lrVision}, {QStringLiteral("freeze_vision"), freezeVision},
            {QStringLiteral("freeze_merger"), freezeMerger}, {QStringLiteral("freeze_llm"), freezeLlm}, {QStringLiteral("beta1"), beta1},
            {QStringLiteral("beta2"), beta2}, {QStringLiteral("eps"), eps}, {QStringLiteral("weight_decay"), weightDecay},
            {QStringLiteral("warmup_ratio"), warmupRatio}, {QStringLiteral("epochs"), epochs}, {QStringLiteral("batch_size"), batchSize},
            {QStringLiteral("grad_accum"), gradAccum}, {QStringLiteral("max_grad_norm"), maxGradNorm}, {QStringLiteral("max_steps"), maxSteps},
            {QStringLiteral("save_every"), saveEvery}, {QStringLiteral("save_total_limit"), saveTotalLimit}, {QStringLiteral("eval_every"), evalEvery}, {QStringLiteral("held_out_fraction"), heldOutFraction},
            {QStringLiteral("train_prompt"), trainPrompt},
            {QStringLiteral("device"), device}, {QStringLiteral("dtype"), dtype}, {QStringLiteral("gradient_checkpointing"), gradientCheckpointing}, {QStringLiteral("min_pixels"), static_cast<qint64>(minPixels)},
            {QStringLiteral("max_pixels"), static_cast<qint64>(maxPixels)}, {QStringLiteral("name"), name}};
}

AlignParams AlignParams::fromJson(const QJsonObject &o)
{
    AlignParams p;
    auto num = [&](const char *k, double d) { return o.value(QLatin1String(k)).toDouble(d); };
    auto integer = [&](const char *k, qint64 d) { return o.value(QLatin1String(k)).toInteger(d); };
    auto flag = [&](const char *k, bool d) { return o.value(QLatin1String(k)).toBool(d); };
    p.selection = o.value(QStringLiteral("selection")).toString(p.selection);
    p.seed = static_cast<std::uint64_t>(integer("seed", 0));
    p.method = o.value(QStringLiteral("method")).toString(p.method);
    p.loraRank = static_cast<int>(integer("lora_rank", p.loraRank));
    p.loraAlpha = num("lora_alpha", p.loraAlpha);
    p.loraDropout = num("lora_dropout", p.loraDropout);
    if (o.value(QStringLiteral("lora_targets")).isArray()) {
        p.loraTargets.clear();
        for (const QJsonValue &v : o.value(QStringLiteral("lora_targets")).toArray())
            p.loraTargets << v.toString();
    }
    p.lrLlm = num("lr_llm", p.lrLlm);
    p.lrMerger = num("lr_merger", p.lrMerger);
    p.lrVision = num("lr_vision", p.lrVision);
    p.freezeVision = flag("freeze_vision", p.freezeVision);
    p.freezeMerger = flag("freeze_merger", p.freezeMerger);
    p.freezeLlm = flag("freeze_llm", p.freezeLlm);
    p.beta1 = num("beta1", p.beta1);
    p.beta2 = num("beta2", p.beta2);
    p.eps = num("eps", p.eps);
    p.weightDecay = num("weight_decay", p.weightDecay);
    p.warmupRatio = num("warmup_ratio", p.warmupRatio);
    p.epochs = static_cast<int>(integer("epochs", p.epochs));
    p.batchSize = static_cast<int>(integer("batch_size", p.batchSize));
    p.gradAccum = static_cast<int>(integer("grad_accum", p.gradAccum));
    p.maxGradNorm = num("max_grad_norm", p.maxGradNorm);
    p.maxSteps = static_cast<int>(integer("max_steps", p.maxSteps));
    p.saveEvery = static_cast<int>(integer("save_every", p.saveEvery));
    p.saveTotalLimit = static_cast<int>(integer("save_total_limit", p.saveTotalLimit));
    p.evalEvery = static_cast<int>(integer("eval_every", p.evalEvery));
    p.heldOutFraction = num("held_out_fraction", p.heldOutFraction);
    p.trainPrompt = o.value(QStringLiteral("train_prompt")).toString(p.trainPrompt);
    p.device = o.value(QStringLiteral("device")).toString(p.device);
    p.dtype = o.value(QStringLiteral("dtype")).toString(p.dtype);
    p.gradientCheckpointing = o.value(QStringLiteral("gradient_checkpointing")).toString(p.gradientCheckpointing);
    p.minPixels = integer("min_pixels", p.minPixels);
    p.maxPixels = integer("max_pixels", p.maxPixels);
    p.name = o.value(QStringLiteral("name")).toString();
    return p;
}

namespace {

double learningRateFor(const AlignParams &p, ModelPart part)
{
    return part == ModelPart::Vision ? p.lrVision : part == ModelPart::Connector ? p.lrMerger : p.lrLlm;
}

bool isFrozen(const AlignParams &p, ModelPart part)
{
    return part == ModelPart::Vision ? p.freezeVision : part == ModelPart::Connector ? p.freezeMerger : p.freezeLlm;
}

void validate(const AlignParams &p)
{
    if (p.method != QLatin1String("full") && p.method != QLatin1String("lora"))
        throw Error(QStringLiteral("unknown method \"%1\" (full, lora)").arg(p.method));
    if (p.batchSize < 1 || p.gradAccum < 1 || p.epochs < 1)
        throw Error(QStringLiteral("batch size, gradient accumulation and epochs must be at least 1"));
    if (p.trainPrompt != QLatin1String("bare") && p.trainPrompt != QLatin1String("instructed"))
        throw Error(QStringLiteral("unknown train prompt \"%1\" (bare, instructed)").arg(p.trainPrompt));
    if (p.gradientCheckpointing != QLatin1String("auto") && p.gradientCheckpointing != QLatin1String("on")
        && p.gradientCheckpointing != QLatin1String("off"))
        throw Error(QStringLiteral("unknown gradient checkpointing \"%1\" (on, off, auto)").arg(p.gradientCheckpointing));
}

// The run's training samples (the question in the chosen prompt style) and, with a held-out
// fraction, every k-th sample set aside for the periodic held-out loss.
std::pair<std::vector<TrainingSample>, std::vector<TrainingSample>> trainingSet(const store::Workspace &ws, const AlignParams &p)
{
    std::vector<TrainingSample> samples = selectTrainingSamples(ws, p.selection, p.seed);
    if (p.trainPrompt == QLatin1String("instructed"))
        for (TrainingSample &t : samples)
            t.question = parityPrompt(t.question);
    if (samples.empty())
        throw Error(QStringLiteral("%1: no training samples for selection \"%2\" (approve some gaps first, or choose another selection)")
                        .arg(ws.root(), p.selection));
    std::vector<TrainingSample> heldOut;
    if (p.heldOutFraction > 0 && samples.size() > 1) {
        const std::size_t every = std::max<std::size_t>(2, static_cast<std::size_t>(std::lround(1.0 / p.heldOutFraction)));
        std::vector<TrainingSample> train;
        for (std::size_t i = 0; i < samples.size(); ++i)
            (i % every == every - 1 ? heldOut : train).push_back(samples[i]);
        samples.swap(train);
    }
    return {std::move(samples), std::move(heldOut)};
}

} // namespace

JobSummary runParityLeveler(const store::Workspace &ws, const QString &modelDirIn, const AlignParams &requested, const ProgressFn &progress,
                            qint64 resumeRunId, AlignResult *result)
{
    QJsonObject params = requested.toJson();
    const QString modelDir = QFileInfo(modelDirIn).absoluteFilePath();
    params.insert(QStringLiteral("model"), modelDir);
    RunScope run(ws, store::RunKind::Align, QStringLiteral("align %1 (%2, %3)").arg(QFileInfo(modelDir).fileName(), requested.selection, requested.method),
                 params, resumeRunId);
    const AlignParams p = AlignParams::fromJson(run.params());
    const QString baseDir = run.params().value(QStringLiteral("model")).toString(modelDir);
    JobSummary s;
    s.runId = run.id();
    try {
        backends::initialiseTorchThreads();
        validate(p);
        auto [samples, heldOut] = trainingSet(ws, p);
        {
            QList<qint64> ids;
            for (const auto *set : {&samples, &heldOut})
                for (const TrainingSample &t : *set)
                    ids << t.sampleId;
            store::recordTrainingSources(ws, run.id(), ids); // the Runs view's "came from"
        }
        const bool lora = p.method == QLatin1String("lora");

        const QString runDir = QDir(ws.runsDir()).filePath(QStringLiteral("run-%1").arg(run.id()));
        QDir().mkpath(runDir);
        const CheckpointRef resume = latestCheckpoint(runDir);
        const std::int64_t startStep = resume.step;

        // The model, through its architecture's trainer interface. Full fine-tuning resumes
        // from the checkpoint's weights; LoRA from the base weights plus the saved adapters.
        const Precision precision = Precision::parse(p.dtype);
        TrainableOptions options;
        options.device = vlm::parseDevice(p.device);
        options.dtype = precision.compute;
        options.minPixels = p.minPixels;
        options.maxPixels = p.maxPixels;
        const vlm::Architecture &architecture = vlm::architectureForFolder(baseDir);
        if (!architecture.train)
            throw Error(QStringLiteral("%1: training %2 models is not supported yet").arg(baseDir, architecture.modelType));
        const std::unique_ptr<TrainableVlm> model = architecture.train(baseDir, !resume.dir.isEmpty() && !lora ? resume.dir : baseDir, options);
        model->setTraining(true);
        model->setGradientCheckpointing(p.gradientCheckpointing == QLatin1String("on")
                                        || (p.gradientCheckpointing == QLatin1String("auto") && options.device.is_cuda()));

        LevelerOptimizer optimizer(precision, {p.beta1, p.beta2, p.eps, p.weightDecay, p.maxGradNorm});
        if (!lora) {
            for (const NamedParameter &np : model->parameters()) {
                if (isFrozen(p, np.part))
                    continue;
                np.tensor->set_requires_grad(true);
                optimizer.add(np, learningRateFor(p, np.part));
            }
        } else {
            LoraSpec spec{p.loraRank, p.loraAlpha, p.loraDropout, p.loraTargets, p.seed, {}};
            for (ModelPart part : {ModelPart::Vision, ModelPart::Connector, ModelPart::Llm})
                if (isFrozen(p, part))
                    spec.frozen.push_back(part);
            for (const NamedParameter &np : model->attachLora(spec))
                optimizer.add(np, learningRateFor(p, np.part));
        }
        if (optimizer.empty())
            throw Error(QStringLiteral("every part of the model is frozen: nothing to train"));

        // Optimizer state (and LoRA adapters) of the checkpoint we resume from.
        QJsonArray lossHistory;
        if (!resume.dir.isEmpty()) {
            optimizer.restore(*vlm::SafetensorsFile::open(QDir(resume.dir).filePath(QStringLiteral("optimizer.safetensors"))), lora, resume.dir);
            lossHistory = readLossHistory(resume.dir);
        }

        const std::int64_t perStep = static_cast<std::int64_t>(p.batchSize) * p.gradAccum;
        // The data stream runs across epoch boundaries (position = step * perStep + i), so the
        // step count is that of the whole stream; counting whole steps per epoch would leave
        // empty steps at the end (they used to record a loss of 0).
        std::int64_t totalSteps = (static_cast<std::int64_t>(samples.size()) * p.epochs + perStep - 1) / perStep;
        if (p.maxSteps > 0)
            totalSteps = std::min<std::int64_t>(totalSteps, p.maxSteps);
        const std::int64_t warmup = static_cast<std::int64_t>(std::ceil(p.warmupRatio * static_cast<double>(totalSteps)));

        store::Catalog catalog(ws);
        QSqlDatabase db = ws.connection();
        // How many samples this run trains on (step 0), for reports comparing selections.
        catalog.addMetric(run.id(), QStringLiteral("train_samples"), 0, static_cast<double>(samples.size()));
        s.skipped = startStep;
        double lastLoss = 0;
        QElapsedTimer clock;
        clock.start();
        bool cancelled = false;
        // A complete model folder (adapters merged) plus what resuming needs: optimizer state
        // (moments, masters, raw adapters), step and losses.
        const QString runName = [&] {
            QSqlDatabase db = ws.connection();
            return store::scalar(db, QStringLiteral("SELECT name FROM runs WHERE id = ?"), {run.id()}).toString();
        }();
        auto saveCheckpoint = [&](std::int64_t step) {
            const QString dir = checkpointDir(runDir, step);
            model->saveModelFolder(dir);
            backends::writeCheckpointRecord(dir, run.id(), runName, step);
            std::vector<torch::Tensor> keep;
            vlm::writeSafetensors(QDir(dir).filePath(QStringLiteral("optimizer.safetensors")), optimizer.state(keep, lora));
            writeTrainerState(dir, step, totalSteps, lossHistory);
            pruneCheckpoints(runDir, p.saveTotalLimit);
            return dir;
        };

        QString lastCheckpoint = resume.dir;
        StreamLayout layout;
        layout.startStep = startStep;
        layout.totalSteps = totalSteps;
        layout.gradAccum = p.gradAccum;
        layout.batchSize = p.batchSize;
        layout.epochs = p.epochs;
        layout.seed = p.seed;
        // Examples are built on the stream's loader thread (and, for the held-out loss, here),
        // never cached: memory does not grow with the number of samples.
        TrainingStream stream(samples, layout, [&model](const TrainingSample &ts) { return model->example(ts); });
        for (std::int64_t step = startStep; step < totalSteps; ++step) {
            const double factor = cosineWithWarmup(step, warmup, totalSteps);
            std::int64_t tokens = 0;
            double stepLoss = 0;
            const StepBatch data = stream.next();
            for (std::size_t micro = 0; micro < data.micro.size(); ++micro) {
                std::vector<const TrainingExample *> batch;
                std::int64_t microTokens = 0;
                for (const TrainingExample &e : data.micro[micro]) {
                    batch.push_back(&e);
                    microTokens += countAnswerTokens(e);
                }
                torch::manual_seed(p.seed + static_cast<std::uint64_t>(step * p.gradAccum + static_cast<std::int64_t>(micro))); // reproducible dropout
                // Normalised by the answer tokens of the whole step, across its micro-batches
                // (transformers' num_items_in_batch): a long answer weighs what its tokens weigh.
                const double weight = data.answerTokens > 0 ? static_cast<double>(microTokens) / static_cast<double>(data.answerTokens) : 0.0;
                auto loss = model->loss(batch, &tokens) * weight;
                (optimizer.lossScale() != 1.0 ? loss * optimizer.lossScale() : loss).backward();
                stepLoss += loss.item<double>();
            }
            const LevelerOptimizer::StepResult update = optimizer.step(step + 1, factor);
            lastLoss = stepLoss;
            lossHistory.append(stepLoss);
            const double elapsed = clock.nsecsElapsed() / 1e9;
            const double perStepSeconds = elapsed / static_cast<double>(step + 1 - startStep);
            {
                store::Transaction tx(db, QStringLiteral("training metrics"));
                catalog.addMetric(run.id(), QStringLiteral("loss"), step + 1, stepLoss);
                catalog.addMetric(run.id(), QStringLiteral("lr"), step + 1, p.lrLlm * factor);
                catalog.addMetric(run.id(), QStringLiteral("grad_norm"), step + 1, update.gradNorm);
                catalog.addMetric(run.id(), QStringLiteral("tokens_per_s"), step + 1, static_cast<double>(tokens) / std::max(1e-9, perStepSeconds));
                catalog.addMetric(run.id(), QStringLiteral("eta_s"), step + 1, perStepSeconds * static_cast<double>(totalSteps - step - 1));
                // The share of the run's time the training thread waited for the data loader.
                catalog.addMetric(run.id(), QStringLiteral("data_wait_fraction"), step + 1, stream.waitSeconds() / std::max(1e-9, elapsed));
                if (precision.lossScaling)
                    catalog.addMetric(run.id(), QStringLiteral("loss_scale"), step + 1, optimizer.lossScale());
                tx.commit();
            }
            if (p.evalEvery > 0 && !heldOut.empty() && (step + 1) % p.evalEvery == 0) {
                torch::NoGradGuard noGrad;
                model->setTraining(false);
                double sum = 0;
                std::int64_t ignored = 0;
                for (const TrainingSample &h : heldOut) {
                    const TrainingExample e = model->example(h);
                    sum += model->loss({&e}, &ignored).item<double>();
                }
                model->setTraining(true);
                catalog.addMetric(run.id(), QStringLiteral("eval_loss"), step + 1, sum / static_cast<double>(heldOut.size()));
            }
            ++s.done;
            cancelled = !reportProgress(progress, step + 1, totalSteps, QStringLiteral("align"));
            const bool last = step + 1 == totalSteps;
            if (cancelled || last || (p.saveEvery > 0 && (step + 1) % p.saveEvery == 0))
                lastCheckpoint = saveCheckpoint(step + 1);
            if (cancelled)
                break;
        }
        if (result) {
            result->finalModelDir = lastCheckpoint;
            result->trainSamples = static_cast<qint64>(samples.size());
            result->steps = totalSteps;
            result->lastLoss = lastLoss;
        }
        s.cancelled = cancelled;
        run.finish(cancelled);
    } catch (const Error &e) {
        run.fail(e.message());
        throw;
    } catch (const c10::Error &e) {
        const QString message = QStringLiteral("training failed: %1").arg(QString::fromStdString(e.what_without_backtrace()));
        run.fail(message);
        throw Error(message);
    }
    return s;
}

} // namespace mpa::pipeline
