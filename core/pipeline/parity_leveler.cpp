#include "pipeline/parity_leveler.h"

#include "pipeline/task_prompts.h"

#include "backends/torch_runtime.h"
#include "pipeline/adamw.h"
#include "pipeline/training_data.h"
#include "pipeline/training_stream.h"
#include "store/catalog.h"
#include "store/sql_util.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/chat_template.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/safetensors.h"
#include "vlm/tokenizer.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <cmath>
#include <random>

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
            {QStringLiteral("max_pixels"), static_cast<qint64>(maxPixels)}};
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
    return p;
}

namespace {

using namespace mpa::vlm;

enum class Group { Vision, Merger, Llm };

Group groupOf(const std::string &name)
{
    if (name.rfind("visual.merger.", 0) == 0)
        return Group::Merger;
    if (name.rfind("visual.", 0) == 0)
        return Group::Vision;
    return Group::Llm;
}

struct Trainable
{
    std::string name;
    torch::Tensor *tensor;
    torch::Tensor expAvg, expAvgSq;
    double lr;
    // Mixed precision: the float32 copy AdamW updates; the 16-bit parameter is its rounding.
    torch::Tensor master;
};

// How the weights are held while training (see AlignParams::dtype).
struct Precision
{
    torch::ScalarType compute = torch::kFloat32;
    bool mixed = false;      // float32 master weights and moments
    bool lossScaling = false; // float16: gradients would underflow without it
};

Precision parsePrecision(const QString &dtype)
{
    Precision p;
    const bool pure = dtype.endsWith(QLatin1String("-pure"));
    p.compute = parseDtype(pure ? dtype.chopped(5) : dtype);
    p.mixed = !pure && p.compute != torch::kFloat32;
    p.lossScaling = p.mixed && p.compute == torch::kFloat16;
    if (pure && p.compute != torch::kBFloat16)
        throw Error(QStringLiteral("unknown dtype \"%1\" (f32, bf16, f16, bf16-pure)").arg(dtype));
    return p;
}

// Keeps the newest `limit` checkpoint-* folders of a run (what --save-total-limit promises).
void pruneCheckpoints(const QString &runDir, int limit)
{
    if (limit <= 0)
        return;
    QStringList dirs = QDir(runDir).entryList({QStringLiteral("checkpoint-*")}, QDir::Dirs, QDir::Name);
    while (dirs.size() > limit)
        QDir(QDir(runDir).filePath(dirs.takeFirst())).removeRecursively();
}

// Copies the folder's tokenizer, chat template and preprocessor/generation configs next to
// the weights, so the checkpoint is a complete model folder.
void writeModelFolder(const QString &dir, const QString &baseDir, const Qwen2VLModel &model, const AlignParams &p)
{
    QDir().mkpath(dir);
    QJsonObject config = json::readFile(QDir(baseDir).filePath(QStringLiteral("config.json"))).object();
    // The weights are written in the dtype the model trained in (bf16-pure included).
    config.insert(QStringLiteral("torch_dtype"), p.dtype.startsWith(QLatin1String("bf16")) ? QStringLiteral("bfloat16")
                                                 : p.dtype == QLatin1String("f16") ? QStringLiteral("float16") : QStringLiteral("float32"));
    json::writeFile(QDir(dir).filePath(QStringLiteral("config.json")), QJsonDocument(config));
    for (const char *f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.json", "preprocessor_config.json",
                          "vocab.json", "merges.txt", "special_tokens_map.json"}) {
        const QString from = QDir(baseDir).filePath(QLatin1String(f)), to = QDir(dir).filePath(QLatin1String(f));
        if (QFileInfo::exists(from)) {
            QFile::remove(to);
            QFile::copy(from, to);
        }
    }
    model.save(dir);
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
        if (p.method != QLatin1String("full") && p.method != QLatin1String("lora"))
            throw Error(QStringLiteral("unknown method \"%1\" (full, lora)").arg(p.method));
        if (p.batchSize < 1 || p.gradAccum < 1 || p.epochs < 1)
            throw Error(QStringLiteral("batch size, gradient accumulation and epochs must be at least 1"));
        if (p.trainPrompt != QLatin1String("bare") && p.trainPrompt != QLatin1String("instructed"))
            throw Error(QStringLiteral("unknown train prompt \"%1\" (bare, instructed)").arg(p.trainPrompt));
        std::vector<TrainingSample> samples = selectTrainingSamples(ws, p.selection, p.seed);
        if (p.trainPrompt == QLatin1String("instructed"))
            for (TrainingSample &t : samples)
                t.question = parityPrompt(t.question);
        if (samples.empty())
            throw Error(QStringLiteral("%1: no training samples for selection \"%2\" (approve some gaps first, or choose another selection)")
                            .arg(ws.root(), p.selection));
        // A held-out slice (every k-th sample) for the periodic held-out loss.
        std::vector<TrainingSample> heldOut;
        if (p.heldOutFraction > 0 && samples.size() > 1) {
            const std::size_t every = std::max<std::size_t>(2, static_cast<std::size_t>(std::lround(1.0 / p.heldOutFraction)));
            std::vector<TrainingSample> train;
            for (std::size_t i = 0; i < samples.size(); ++i)
                (i % every == every - 1 ? heldOut : train).push_back(samples[i]);
            samples.swap(train);
        }

        const QString runDir = QDir(ws.runsDir()).filePath(QStringLiteral("run-%1").arg(run.id()));
        QDir().mkpath(runDir);
        // Resume from the newest checkpoint of this run, if any.
        QString resumeFrom;
        std::int64_t startStep = 0;
        for (const QString &d : QDir(runDir).entryList({QStringLiteral("checkpoint-*")}, QDir::Dirs, QDir::Name)) {
            const std::int64_t step = d.section(QLatin1Char('-'), 1).toLongLong();
            if (step > startStep && QFileInfo::exists(QDir(runDir).filePath(d + QStringLiteral("/trainer_state.json")))) {
                startStep = step;
                resumeFrom = QDir(runDir).filePath(d);
            }
        }

        const Qwen2VLConfig config = Qwen2VLConfig::load(baseDir);
        const auto tokenizer = Tokenizer::load(baseDir);
        ImageProcessorConfig images = QFileInfo::exists(QDir(baseDir).filePath(QStringLiteral("preprocessor_config.json")))
                                          ? ImageProcessorConfig::load(baseDir) : ImageProcessorConfig{};
        if (p.minPixels > 0)
            images.minPixels = p.minPixels;
        if (p.maxPixels > 0)
            images.maxPixels = p.maxPixels;
        const torch::Device device = parseDevice(p.device);
        const Precision precision = parsePrecision(p.dtype);
        const torch::ScalarType dtype = precision.compute;
        // The optimizer state's dtype: float32 unless the user chose pure bfloat16.
        const torch::ScalarType stateType = precision.mixed || dtype == torch::kFloat32 ? torch::kFloat32 : dtype;
        auto masterOf = [&](const torch::Tensor &t) {
            return precision.mixed ? t.detach().to(torch::kFloat32).clone() : torch::Tensor();
        };
        auto zerosState = [&](const torch::Tensor &t) { return torch::zeros(t.sizes(), t.options().dtype(stateType)); };
        // Full fine-tuning resumes from the checkpoint's weights; LoRA from the base weights
        // plus the saved adapters.
        const QString weightsDir = (!resumeFrom.isEmpty() && p.method == QLatin1String("full")) ? resumeFrom : baseDir;
        Qwen2VLModel model(config, Checkpoint::openFolder(weightsDir), device, dtype);
        model.setTraining(true);
        if (p.gradientCheckpointing != QLatin1String("auto") && p.gradientCheckpointing != QLatin1String("on")
            && p.gradientCheckpointing != QLatin1String("off"))
            throw Error(QStringLiteral("unknown gradient checkpointing \"%1\" (on, off, auto)").arg(p.gradientCheckpointing));
        model.setGradientCheckpointing(p.gradientCheckpointing == QLatin1String("on")
                                       || (p.gradientCheckpointing == QLatin1String("auto") && device.is_cuda()));

        std::vector<Trainable> trainables;
        auto lrFor = [&](Group g) { return g == Group::Vision ? p.lrVision : g == Group::Merger ? p.lrMerger : p.lrLlm; };
        auto frozen = [&](Group g) { return g == Group::Vision ? p.freezeVision : g == Group::Merger ? p.freezeMerger : p.freezeLlm; };
        if (p.method == QLatin1String("full")) {
            for (auto &[name, t] : model.parameters()) {
                const Group g = groupOf(name);
                if (frozen(g))
                    continue;
                t.set_requires_grad(true);
                trainables.push_back({name, &t, zerosState(t), zerosState(t), lrFor(g), masterOf(t)});
            }
        } else {
            torch::manual_seed(p.seed);
            for (auto &[name, t] : model.parameters()) {
                const Group g = groupOf(name);
                if (frozen(g) || t.dim() != 2 || name.find("embed_tokens") != std::string::npos)
                    continue;
                bool target = false;
                for (const QString &tgt : p.loraTargets)
                    target = target || name.find("." + tgt.toStdString() + ".weight") != std::string::npos;
                if (!target)
                    continue;
                LoraAdapter a;
                a.a = (torch::randn({p.loraRank, t.size(1)}) / std::sqrt(static_cast<double>(t.size(1)))).to(device, dtype).set_requires_grad(true);
                a.b = torch::zeros({t.size(0), p.loraRank}).to(device, dtype).set_requires_grad(true);
                a.scale = p.loraAlpha / p.loraRank;
                a.dropout = p.loraDropout;
                model.loraAdapters()[name] = a;
            }
            if (model.loraAdapters().empty())
                throw Error(QStringLiteral("no weight matches the LoRA targets %1").arg(p.loraTargets.join(QStringLiteral(", "))));
            for (auto &[name, a] : model.loraAdapters()) {
                const double lr = lrFor(groupOf(name));
                trainables.push_back({name + ".lora_A", &a.a, zerosState(a.a), zerosState(a.a), lr, masterOf(a.a)});
                trainables.push_back({name + ".lora_B", &a.b, zerosState(a.b), zerosState(a.b), lr, masterOf(a.b)});
            }
        }
        if (trainables.empty())
            throw Error(QStringLiteral("every part of the model is frozen: nothing to train"));

        // Optimizer state (and LoRA adapters) of the checkpoint we resume from.
        QJsonArray lossHistory;
        if (!resumeFrom.isEmpty()) {
            const auto state = SafetensorsFile::open(QDir(resumeFrom).filePath(QStringLiteral("optimizer.safetensors")));
            for (Trainable &t : trainables) {
                const QString n = QString::fromStdString(t.name);
                t.expAvg = tensorFromFile(*state, n + QStringLiteral(".exp_avg")).to(device, stateType);
                t.expAvgSq = tensorFromFile(*state, n + QStringLiteral(".exp_avg_sq")).to(device, stateType);
                torch::NoGradGuard noGrad;
                if (p.method == QLatin1String("lora"))
                    t.tensor->copy_(tensorFromFile(*state, n + QStringLiteral(".value")));
                // The float32 master weights: the 16-bit checkpoint is only their rounding, so
                // resuming from it alone would not continue the same run.
                if (t.master.defined()) {
                    if (!state->find(n + QStringLiteral(".master")))
                        throw Error(QStringLiteral("%1: the checkpoint has no float32 master weights for %2 (written by a pure-precision run?)")
                                        .arg(resumeFrom, n));
                    t.master = tensorFromFile(*state, n + QStringLiteral(".master")).to(device, torch::kFloat32).clone();
                    t.tensor->copy_(t.master);
                }
            }
            lossHistory = json::readFile(QDir(resumeFrom).filePath(QStringLiteral("trainer_state.json"))).object().value(QStringLiteral("losses")).toArray();
        }

        const std::int64_t perStep = static_cast<std::int64_t>(p.batchSize) * p.gradAccum;
        // The data stream runs across epoch boundaries (position = step * perStep + i), so the
        // step count is that of the whole stream; counting whole steps per epoch would leave
        // empty steps at the end (they used to record a loss of 0).
        std::int64_t totalSteps = (static_cast<std::int64_t>(samples.size()) * p.epochs + perStep - 1) / perStep;
        if (p.maxSteps > 0)
            totalSteps = std::min<std::int64_t>(totalSteps, p.maxSteps);
        const std::int64_t warmup = static_cast<std::int64_t>(std::ceil(p.warmupRatio * static_cast<double>(totalSteps)));
        auto lrFactor = [&](std::int64_t step) { // HF get_cosine_schedule_with_warmup, 0-based step
            if (step < warmup)
                return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
            const double progressRatio = static_cast<double>(step - warmup) / static_cast<double>(std::max<std::int64_t>(1, totalSteps - warmup));
            return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progressRatio)));
        };
        // Examples are built on the stream's loader thread (and, for the held-out loss, here),
        // never cached: memory does not grow with the number of samples.
        auto build = [&](const TrainingSample &ts) { return buildTrainingExample(ts, *tokenizer, images, config.imageTokenId); };
        // Right-padded micro-batch (as Qwen2-VL-Finetune's collator) -> mean loss over its labels.
        auto lossOf = [&](const std::vector<const TrainingExample *> &batch, std::int64_t *tokens) {
            // Mean over the micro-batch's answer tokens (Qwen2VLModel::causalLmLoss).
            std::size_t longest = 0;
            std::int64_t rows = 0;
            for (auto *e : batch) {
                longest = std::max(longest, e->ids.size());
                rows += e->rows;
            }
            const std::int64_t B = static_cast<std::int64_t>(batch.size()), L = static_cast<std::int64_t>(longest);
            const std::int64_t pad = config.bosTokenId.value_or(0);
            auto ids = torch::full({B, L}, pad, torch::kInt64), labels = torch::full({B, L}, -100, torch::kInt64), mask = torch::zeros({B, L}, torch::kInt64);
            VisionInput vision;
            std::vector<float> pixels;
            for (std::int64_t b = 0; b < B; ++b) {
                const TrainingExample &e = *batch[static_cast<std::size_t>(b)];
                for (std::size_t i = 0; i < e.ids.size(); ++i) {
                    ids[b][static_cast<std::int64_t>(i)] = e.ids[i];
                    labels[b][static_cast<std::int64_t>(i)] = e.labels[i];
                    mask[b][static_cast<std::int64_t>(i)] = 1;
                }
                pixels.insert(pixels.end(), e.pixels.begin(), e.pixels.end());
                vision.grids.push_back(e.grid);
            }
            vision.pixelValues = torch::from_blob(pixels.data(), {rows, static_cast<std::int64_t>(images.rowSize())}, torch::kFloat32).clone();
            *tokens += mask.sum().item<std::int64_t>();
            auto logits = model.forward(ids, mask, &vision, nullptr).logits;
            return Qwen2VLModel::causalLmLoss(logits, labels);
        };

        store::Catalog catalog(ws);
        QSqlDatabase db = ws.connection();
        // How many samples this run trains on (step 0), for reports comparing selections.
        catalog.addMetric(run.id(), QStringLiteral("train_samples"), 0, static_cast<double>(samples.size()));
        s.skipped = startStep;
        double lastLoss = 0;
        QElapsedTimer clock;
        clock.start();
        bool cancelled = false;
        auto saveCheckpoint = [&](std::int64_t step) {
            const QString dir = QDir(runDir).filePath(QStringLiteral("checkpoint-%1").arg(step, 6, 10, QLatin1Char('0')));
            // A model folder with the adapters merged (what transformers and vLLM load) ...
            if (p.method == QLatin1String("lora")) {
                Qwen2VLModel merged(config, Checkpoint::openFolder(baseDir), torch::kCPU, dtype);
                for (const auto &[name, a] : model.loraAdapters())
                    merged.loraAdapters()[name] = LoraAdapter{a.a.detach().to(torch::kCPU), a.b.detach().to(torch::kCPU), a.scale, 0.0};
                merged.mergeLora();
                writeModelFolder(dir, baseDir, merged, p);
            } else {
                writeModelFolder(dir, baseDir, model, p);
            }
            // ... and what resuming needs: optimizer moments (and the raw adapters), step, losses.
            std::vector<torch::Tensor> keep;
            std::vector<TensorToWrite> state;
            for (const Trainable &t : trainables) {
                const QString n = QString::fromStdString(t.name);
                for (auto [suffix, tensor] : {std::pair<const char *, const torch::Tensor *>{".exp_avg", &t.expAvg}, {".exp_avg_sq", &t.expAvgSq},
                                              {".value", t.master.defined() ? &t.master : t.tensor}, {".master", &t.master}}) {
                    if (QLatin1String(suffix) == QLatin1String(".value") && p.method != QLatin1String("lora"))
                        continue;
                    if (QLatin1String(suffix) == QLatin1String(".master") && !t.master.defined())
                        continue;
                    auto c = tensor->detach().to(torch::kCPU, torch::kFloat32).contiguous();
                    keep.push_back(c);
                    state.push_back({n + QLatin1String(suffix), DType::F32, c.sizes().vec(), c.data_ptr()});
                }
            }
            writeSafetensors(QDir(dir).filePath(QStringLiteral("optimizer.safetensors")), state);
            json::writeFile(QDir(dir).filePath(QStringLiteral("trainer_state.json")),
                            QJsonDocument(QJsonObject{{QStringLiteral("step"), static_cast<qint64>(step)}, {QStringLiteral("losses"), lossHistory},
                                                      {QStringLiteral("total_steps"), static_cast<qint64>(totalSteps)}}));
            return dir;
        };

        QString lastCheckpoint = resumeFrom;
        StreamLayout layout;
        layout.startStep = startStep;
        layout.totalSteps = totalSteps;
        layout.gradAccum = p.gradAccum;
        layout.batchSize = p.batchSize;
        layout.epochs = p.epochs;
        layout.seed = p.seed;
        TrainingStream stream(samples, layout, build);
        // float16 only: dynamic loss scaling (torch.cuda.amp.GradScaler's defaults). A step whose
        // gradients overflow is skipped and the scale halved; 2000 good steps double it.
        double lossScale = precision.lossScaling ? 65536.0 : 1.0;
        int goodSteps = 0;
        for (std::int64_t step = startStep; step < totalSteps; ++step) {
            const double factor = lrFactor(step);
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
                auto loss = lossOf(batch, &tokens) * weight;
                (precision.lossScaling ? loss * lossScale : loss).backward();
                stepLoss += loss.item<double>();
            }
            // Global gradient norm and clipping (torch.nn.utils.clip_grad_norm_), in float64
            // over the unscaled gradients.
            double norm2 = 0;
            for (Trainable &t : trainables)
                if (t.tensor->grad().defined())
                    norm2 += t.tensor->grad().to(torch::kFloat64).pow(2).sum().item<double>();
            const double gradNorm = std::sqrt(norm2) / lossScale;
            const bool overflow = !std::isfinite(gradNorm);
            const double clip = (p.maxGradNorm > 0 && gradNorm > p.maxGradNorm) ? p.maxGradNorm / (gradNorm + 1e-6) : 1.0;
            for (Trainable &t : trainables) {
                if (!t.tensor->grad().defined())
                    continue;
                if (!overflow) {
                    torch::NoGradGuard noGrad;
                    if (t.master.defined()) {
                        // Mixed precision: AdamW on the float32 master, then round into the
                        // 16-bit weight the next forward uses.
                        auto g = t.tensor->grad().to(torch::kFloat32) * (clip / lossScale);
                        adamwStep(t.master, g, t.expAvg, t.expAvgSq, step + 1, t.lr * factor, p.beta1, p.beta2, p.eps, p.weightDecay);
                        t.tensor->copy_(t.master);
                    } else {
                        auto g = t.tensor->grad() * clip;
                        adamwStep(*t.tensor, g, t.expAvg, t.expAvgSq, step + 1, t.lr * factor, p.beta1, p.beta2, p.eps, p.weightDecay);
                    }
                }
                t.tensor->mutable_grad() = torch::Tensor();
            }
            if (precision.lossScaling) {
                if (overflow) {
                    lossScale = std::max(1.0, lossScale / 2);
                    goodSteps = 0;
                } else if (++goodSteps == 2000) {
                    lossScale *= 2;
                    goodSteps = 0;
                }
            }
            lastLoss = stepLoss;
            lossHistory.append(stepLoss);
            const double elapsed = clock.nsecsElapsed() / 1e9;
            const double perStepSeconds = elapsed / static_cast<double>(step + 1 - startStep);
            {
                store::Transaction tx(db, QStringLiteral("training metrics"));
                catalog.addMetric(run.id(), QStringLiteral("loss"), step + 1, stepLoss);
                catalog.addMetric(run.id(), QStringLiteral("lr"), step + 1, p.lrLlm * factor);
                catalog.addMetric(run.id(), QStringLiteral("grad_norm"), step + 1, gradNorm);
                catalog.addMetric(run.id(), QStringLiteral("tokens_per_s"), step + 1, static_cast<double>(tokens) / std::max(1e-9, perStepSeconds));
                catalog.addMetric(run.id(), QStringLiteral("eta_s"), step + 1, perStepSeconds * static_cast<double>(totalSteps - step - 1));
                // The share of the run's time the training thread waited for the data loader.
                catalog.addMetric(run.id(), QStringLiteral("data_wait_fraction"), step + 1, stream.waitSeconds() / std::max(1e-9, elapsed));
                if (precision.lossScaling)
                    catalog.addMetric(run.id(), QStringLiteral("loss_scale"), step + 1, lossScale);
                tx.commit();
            }
            if (p.evalEvery > 0 && !heldOut.empty() && (step + 1) % p.evalEvery == 0) {
                torch::NoGradGuard noGrad;
                model.setTraining(false);
                double sum = 0;
                std::int64_t ignored = 0;
                for (const TrainingSample &h : heldOut) {
                    const TrainingExample e = build(h);
                    sum += lossOf({&e}, &ignored).item<double>();
                }
                model.setTraining(true);
                catalog.addMetric(run.id(), QStringLiteral("eval_loss"), step + 1, sum / static_cast<double>(heldOut.size()));
            }
            ++s.done;
            cancelled = !reportProgress(progress, step + 1, totalSteps, QStringLiteral("align"));
            const bool last = step + 1 == totalSteps;
            if (cancelled || last || (p.saveEvery > 0 && (step + 1) % p.saveEvery == 0)) {
                lastCheckpoint = saveCheckpoint(step + 1);
                pruneCheckpoints(runDir, p.saveTotalLimit);
            }
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
