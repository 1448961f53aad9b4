#include "jobs/job_options.h"

#include "backends/http_backend.h"
#include "backends/model_identity.h"
#include "backends/vlm_backend.h"
#include "demo/demo_presets.h"
#include "pipeline/evaluator.h"
#include "pipeline/parity_identifier.h"
#include "pipeline/parity_leveler.h"
#include "pipeline/pseudo_annotator.h"
#include "pipeline/task_prompts.h"
#include "pipeline/training_data.h"
#include "util/error.h"
#include "util/input_limits.h"

#include <QJsonArray>
#include <QRegularExpression>

#include <cmath>

namespace mpa::jobs {

QString jobKindName(JobKind kind)
{
    switch (kind) {
    case JobKind::Annotate: return QStringLiteral("annotate");
    case JobKind::Identify: return QStringLiteral("identify");
    case JobKind::Align: return QStringLiteral("align");
    case JobKind::Evaluate: return QStringLiteral("evaluate");
    }
    return {};
}

std::optional<JobKind> jobKindFromName(const QString &name)
{
    for (JobKind k : allJobKinds())
        if (jobKindName(k) == name)
            return k;
    return std::nullopt;
}

QList<JobKind> allJobKinds()
{
    return {JobKind::Annotate, JobKind::Identify, JobKind::Align, JobKind::Evaluate};
}

namespace {

JobOption model(const char *flag, const char *key, const QString &label, const QString &help, const char *role)
{
    JobOption o{QLatin1String(flag), QLatin1String(key), OptionType::Model, label, help, QStringLiteral("DIR"), QString()};
    o.modelRole = QLatin1String(role);
    return o;
}

JobOption text(const char *flag, const char *key, const QString &label, const QString &help, const char *valueName, bool advanced = false)
{
    JobOption o{QLatin1String(flag), QLatin1String(key), OptionType::Text, label, help, QLatin1String(valueName), QString()};
    o.advanced = advanced;
    return o;
}

JobOption choice(const char *flag, const char *key, const QString &label, const QString &help, const QStringList &choices, const QJsonValue &def,
                 bool advanced = false)
{
    JobOption o{QLatin1String(flag), QLatin1String(key), OptionType::Choice, label, help, QStringLiteral("NAME"), def};
    o.choices = choices;
    o.advanced = advanced;
    return o;
}

JobOption integer(const char *flag, const char *key, const QString &label, const QString &help, const QJsonValue &def, double lo, double hi,
                  bool advanced = false)
{
    JobOption o{QLatin1String(flag), QLatin1String(key), OptionType::Integer, label, help, QStringLiteral("N"), def, lo, hi};
    o.advanced = advanced;
    return o;
}

JobOption number(const char *flag, const char *key, const QString &label, const QString &help, const QJsonValue &def, double lo, double hi,
                 bool advanced = false)
{
    JobOption o{QLatin1String(flag), QLatin1String(key), OptionType::Number, label, help, QStringLiteral("X"), def, lo, hi};
    o.advanced = advanced;
    return o;
}

JobOption pixels(const char *flag, const char *key, const QString &label, const QString &help, std::int64_t def)
{
    return {QLatin1String(flag), QLatin1String(key), OptionType::Pixels, label, help, QStringLiteral("N"), static_cast<qint64>(def), 1,
            static_cast<double>(limits::kMaxBudgetPixels)};
}

JobOption runName()
{
    return text("name", "name", QObject::tr("Run name"),
                QObject::tr("The run's name in Runs, Evaluation, Models and chart legends (default: from the kind and the key settings)."), "TEXT");
}

// The inference jobs' backend: device, precision, batch, image budget, generation length and
// the endpoint settings for an http(s):// model.
QList<JobOption> inferenceOptions()
{
    const backends::NativeBackendOptions native;
    const backends::HttpBackendOptions http;
    JobOption device{QStringLiteral("device"), QStringLiteral("device"), OptionType::Device, QObject::tr("Device"), QObject::tr("cpu, cuda or cuda:N."),
                     QStringLiteral("DEVICE"), native.device};
    return {
        device,
        choice("dtype", "dtype", QObject::tr("Precision"), QObject::tr("f32, bf16 or f16."), {QStringLiteral("f32"), QStringLiteral("bf16"), QStringLiteral("f16")},
               native.dtype),
        integer("batch", "batch_size", QObject::tr("Batch"), QObject::tr("Questions per forward pass (with an endpoint: requests in flight)."), native.batchSize, 1,
                256),
        integer("max-new-tokens", "max_new_tokens", QObject::tr("Max new tokens"), QObject::tr("Longest generation (MPA: 128)."), 128, 1, limits::kMaxNewTokens),
        pixels("min-pixels", "min_pixels", QObject::tr("Image budget, fewest pixels"),
               QObject::tr("Fewest pixels an image is resized to (MPA: 100352 = 128 visual tokens; 'model': the model's preprocessor_config.json)."),
               *native.minPixels),
        pixels("max-pixels", "max_pixels", QObject::tr("Image budget, most pixels"),
               QObject::tr("Most pixels an image is resized to (MPA: 401408 = 512 visual tokens; 'model': the model's preprocessor_config.json)."),
               *native.maxPixels),
        integer("limit", "limit", QObject::tr("Only the first N items"), QObject::tr("Only the first N items (0: all)."), 0, 0, 1e12, true),
        text("served-model", "served_model", QObject::tr("Served model id"), QObject::tr("With an http(s):// model: the served model id (default: the first listed)."),
             "NAME", true),
        [&] {
            JobOption o = text("api-key-env", "api_key_env", QObject::tr("API key variable"),
                               QObject::tr("With an http(s):// model: the environment variable holding the API key."), "VAR", true);
            o.defaultValue = http.apiKeyEnv;
            return o;
        }(),
        runName(),
    };
}

QList<JobOption> annotateOptions()
{
    const pipeline::AnnotateParams d;
    QList<JobOption> o{
        model("model", "model", QObject::tr("Large model"), QObject::tr("The large model's folder (the pseudo annotator)."), "large"),
        choice("task", "task", QObject::tr("Task"), QObject::tr("text (TextVQA/ST-VQA), chart (ChartQA), knowledge (OK-VQA)."), pipeline::builtInTasks(), d.task),
        integer("pairs", "pairs_per_image", QObject::tr("Pairs per image"), QObject::tr("Question-answer pairs per image."), d.pairsPerImage, 1, 64),
        text("images", "images", QObject::tr("Only images matching"), QObject::tr("Only images whose path matches this GLOB (e.g. '*/signs/*')."), "GLOB"),
    };
    return o + inferenceOptions();
}

QList<JobOption> identifyOptions()
{
    const pipeline::IdentifyParams d;
    QList<JobOption> o{
        model("large", "large_model", QObject::tr("Large model"), QObject::tr("The large model's folder."), "large"),
        model("small", "small_model", QObject::tr("Small model"), QObject::tr("The small model's folder."), "small"),
        choice("criterion", "criterion", QObject::tr("Criterion"), QObject::tr("mpa (official substring), vqa, anls, relaxed."), pipeline::parityCriteria(),
               d.criterion),
        choice("task", "task", QObject::tr("Only task"), QObject::tr("Only samples of this task (empty: all)."), QStringList{QString()} + pipeline::builtInTasks(),
               QString(), true),
        text("source", "source", QObject::tr("Only source"), QObject::tr("Only samples from this source (e.g. pa:run3)."), "SOURCE", true),
    };
    return o + inferenceOptions();
}

QList<JobOption> evaluateOptions()
{
    QList<JobOption> o{
        model("model", "model", QObject::tr("Model"), QObject::tr("The model's folder."), ""),
        text("dataset", "dataset", QObject::tr("Benchmark"), QObject::tr("An imported benchmark (textvqa, stvqa, chartqa, okvqa, ...)."), "NAME"),
        text("split", "split", QObject::tr("Split"), QObject::tr("Its split (needed when it has several)."), "SPLIT"),
        choice("metric", "metric", QObject::tr("Metric"), QObject::tr("vqa, anls, relaxed or mpa (empty: the benchmark's official one)."),
               {QString(), QStringLiteral("vqa"), QStringLiteral("anls"), QStringLiteral("relaxed"), QStringLiteral("mpa")}, QString()),
    };
    return o + inferenceOptions();
}

QList<JobOption> alignOptions()
{
    const pipeline::AlignParams d;
    JobOption device{QStringLiteral("device"), QStringLiteral("device"), OptionType::Device, QObject::tr("Device"), QObject::tr("cpu, cuda or cuda:N."),
                     QStringLiteral("DEVICE"), d.device};
    JobOption targets{QStringLiteral("lora-targets"), QStringLiteral("lora_targets"), OptionType::List, QObject::tr("LoRA targets"),
                      QObject::tr("Comma-separated module names (q_proj,...,down_proj)."), QStringLiteral("LIST"), QJsonArray::fromStringList(d.loraTargets)};
    targets.advanced = true;
    JobOption freeze{QStringLiteral("freeze"), QStringLiteral("freeze_"), OptionType::FlagSet, QObject::tr("Freeze"),
                     QObject::tr("Freeze parts: comma-separated vision, merger, llm."), QStringLiteral("LIST"), QString()};
    freeze.choices = {QStringLiteral("vision"), QStringLiteral("merger"), QStringLiteral("llm")};
    freeze.advanced = true;
    return {
        model("model", "model", QObject::tr("Small model"), QObject::tr("The small model's folder (the one to align)."), "small"),
        choice("select", "selection", QObject::tr("Training set"),
               QObject::tr("approved-gaps (only gaps a person approved), gaps (every gap not rejected), all (every parsed pair), random (a gap-sized random subset)."), pipeline::trainingSelections(), d.selection),
        choice("method", "method", QObject::tr("Method"), QObject::tr("full or lora."), {QStringLiteral("full"), QStringLiteral("lora")}, d.method),
        integer("epochs", "epochs", QObject::tr("Epochs"), QObject::tr("Passes over the training set."), d.epochs, 1, 10000),
        number("lr", "lr_llm", QObject::tr("Learning rate (LLM)"), QObject::tr("Learning rate of the language model."), d.lrLlm, 0, 1),
        number("lr-merger", "lr_merger", QObject::tr("Learning rate (connector)"), QObject::tr("Learning rate of the merger / connector."), d.lrMerger, 0, 1),
        number("lr-vision", "lr_vision", QObject::tr("Learning rate (vision)"), QObject::tr("Learning rate of the vision tower."), d.lrVision, 0, 1),
        integer("max-steps", "max_steps", QObject::tr("Max steps"), QObject::tr("Stop after N optimizer steps (0: the epochs decide)."), d.maxSteps, 0, 1e9),
        choice("train-prompt", "train_prompt", QObject::tr("Training prompt"),
               QObject::tr("bare (official: the question alone) or instructed (question + the single-word instruction PI and evaluation ask with)."),
               {QStringLiteral("bare"), QStringLiteral("instructed")}, d.trainPrompt),
        integer("batch", "batch_size", QObject::tr("Micro-batch"), QObject::tr("Samples per micro-batch."), d.batchSize, 1, 1024),
        integer("grad-accum", "grad_accum", QObject::tr("Gradient accumulation"), QObject::tr("Micro-batches per optimizer step."), d.gradAccum, 1, 4096),
        device,
        choice("dtype", "dtype", QObject::tr("Precision"),
               QObject::tr("f32; bf16 or f16: mixed precision (float32 master weights; f16 with loss scaling); bf16-pure: all in bfloat16 "
                           "(less memory, but at lr 1e-5 most updates round to nothing)."),
               {QStringLiteral("f32"), QStringLiteral("bf16"), QStringLiteral("f16"), QStringLiteral("bf16-pure")}, d.dtype),
        pixels("min-pixels", "min_pixels", QObject::tr("Image budget, fewest pixels"), QObject::tr("Fewest pixels (MPA: 100352; 'model': the model's own)."),
               d.minPixels),
        pixels("max-pixels", "max_pixels", QObject::tr("Image budget, most pixels"), QObject::tr("Most pixels (MPA: 401408; 'model': the model's own)."),
               d.maxPixels),
        integer("lora-rank", "lora_rank", QObject::tr("LoRA rank"), QObject::tr("LoRA rank."), d.loraRank, 1, 4096, true),
        number("lora-alpha", "lora_alpha", QObject::tr("LoRA alpha"), QObject::tr("LoRA alpha."), d.loraAlpha, 0, 1e6, true),
        number("lora-dropout", "lora_dropout", QObject::tr("LoRA dropout"), QObject::tr("LoRA dropout."), d.loraDropout, 0, 0.99, true),
        targets,
        freeze,
        number("warmup", "warmup_ratio", QObject::tr("Warm-up"), QObject::tr("Warm-up fraction of the steps."), d.warmupRatio, 0, 1, true),
        number("weight-decay", "weight_decay", QObject::tr("Weight decay"), QObject::tr("AdamW weight decay."), d.weightDecay, 0, 10, true),
        number("adam-beta1", "beta1", QObject::tr("AdamW beta1"), QObject::tr("AdamW's first-moment decay."), d.beta1, 0, 0.999999, true),
        number("adam-beta2", "beta2", QObject::tr("AdamW beta2"), QObject::tr("AdamW's second-moment decay."), d.beta2, 0, 0.999999, true),
        number("adam-eps", "eps", QObject::tr("AdamW epsilon"), QObject::tr("AdamW's epsilon."), d.eps, 0, 1, true),
        number("max-grad-norm", "max_grad_norm", QObject::tr("Gradient clipping"), QObject::tr("Clip the gradient norm to X (0: off)."), d.maxGradNorm, 0, 1e6, true),
        integer("save-every", "save_every", QObject::tr("Checkpoint every"), QObject::tr("Checkpoint every N steps (0: at the end)."), d.saveEvery, 0, 1e9, true),
        integer("save-total-limit", "save_total_limit", QObject::tr("Keep checkpoints"), QObject::tr("Keep only the newest N checkpoints of the run (0: all)."),
                d.saveTotalLimit, 0, 1e6, true),
        integer("eval-every", "eval_every", QObject::tr("Held-out loss every"), QObject::tr("Held-out loss every N steps (0: never)."), d.evalEvery, 0, 1e9, true),
        number("held-out", "held_out_fraction", QObject::tr("Held-out fraction"), QObject::tr("Fraction of the training set held out."), d.heldOutFraction, 0, 0.9,
               true),
        integer("seed", "seed", QObject::tr("Seed"), QObject::tr("Data order, LoRA init, dropout."), static_cast<qint64>(d.seed), 0, 9.0e15, true),
        choice("gradient-checkpointing", "gradient_checkpointing", QObject::tr("Activation checkpointing"),
               QObject::tr("on, off or auto (on with CUDA): recompute each layer's activations in backward instead of keeping them."),
               {QStringLiteral("auto"), QStringLiteral("on"), QStringLiteral("off")}, d.gradientCheckpointing, true),
        runName(),
    };
}

// Learning rates as people write them: 3e-4, 1e-5, 2.5e-6 (QString's 'g' gives 0.0003).
QString shortNumber(double v)
{
    if (v <= 0 || v >= 0.01)
        return QString::number(v, 'g', 3);
    int exponent = static_cast<int>(std::floor(std::log10(v)));
    double mantissa = v / std::pow(10.0, exponent);
    if (mantissa >= 9.995) { // 9.999e-5 rounds to 1e-4
        mantissa /= 10;
        ++exponent;
    }
    return QStringLiteral("%1e%2").arg(QString::number(mantissa, 'g', 3)).arg(exponent);
}

} // namespace

const QList<JobOption> &jobOptions(JobKind kind)
{
    static const QList<JobOption> annotate = annotateOptions(), identify = identifyOptions(), align = alignOptions(), evaluate = evaluateOptions();
    switch (kind) {
    case JobKind::Annotate: return annotate;
    case JobKind::Identify: return identify;
    case JobKind::Align: return align;
    case JobKind::Evaluate: return evaluate;
    }
    return annotate;
}

const JobOption *findJobOption(JobKind kind, const QString &flag)
{
    for (const JobOption &o : jobOptions(kind))
        if (o.flag == flag)
            return &o;
    return nullptr;
}

QStringList jobMetaFlags()
{
    return {QStringLiteral("config"), QStringLiteral("save-config"), QStringLiteral("resume")};
}

namespace {

QJsonValue converted(const JobOption &o, const QString &raw)
{
    const QString v = raw.trimmed();
    auto refuse = [&](const QString &accepted) {
        return Error(QStringLiteral("--%1: \"%2\" is not accepted (%3)").arg(o.flag, v, accepted));
    };
    switch (o.type) {
    case OptionType::Model:
    case OptionType::Text:
        return v;
    case OptionType::Choice:
        if (!o.choices.contains(v))
            throw refuse(QStringLiteral("one of %1").arg(QStringList(o.choices).filter(QRegularExpression(QStringLiteral("."))).join(QStringLiteral(", "))));
        return v;
    case OptionType::Device:
        if (!QRegularExpression(QStringLiteral("^(cpu|cuda(:[0-9]+)?)$")).match(v).hasMatch())
            throw refuse(QStringLiteral("cpu, cuda or cuda:N"));
        return v;
    case OptionType::Integer: {
        bool ok = false;
        const double d = v.toDouble(&ok);
        if (!ok || d != std::floor(d) || d < o.minimum || d > o.maximum)
            throw refuse(QStringLiteral("an integer from %1 to %2").arg(o.minimum, 0, 'g', 16).arg(o.maximum, 0, 'g', 16));
        return static_cast<qint64>(d);
    }
    case OptionType::Number: {
        bool ok = false;
        const double d = v.toDouble(&ok);
        if (!ok || !std::isfinite(d) || d < o.minimum || d > o.maximum)
            throw refuse(QStringLiteral("a number from %1 to %2").arg(o.minimum, 0, 'g', 6).arg(o.maximum, 0, 'g', 6));
        return d;
    }
    case OptionType::Pixels: {
        if (v == QLatin1String("model"))
            return 0;
        bool ok = false;
        const qint64 n = v.toLongLong(&ok);
        if (!ok || n < o.minimum || n > o.maximum)
            throw refuse(QStringLiteral("'model' or a pixel count from 1 to %1").arg(static_cast<qint64>(o.maximum)));
        return n;
    }
    case OptionType::List: {
        QJsonArray a;
        for (const QString &part : v.split(QLatin1Char(','), Qt::SkipEmptyParts))
            a.append(part.trimmed());
        return a;
    }
    case OptionType::FlagSet:
        for (const QString &part : v.split(QLatin1Char(','), Qt::SkipEmptyParts))
            if (!o.choices.contains(part.trimmed()))
                throw refuse(QStringLiteral("comma-separated %1").arg(o.choices.join(QStringLiteral(", "))));
        return v;
    }
    return v;
}

} // namespace

QJsonObject runConfiguration(JobKind kind, const std::function<std::optional<QString>(const QString &flag)> &given, const QJsonObject &base)
{
    QJsonObject c = base;
    for (const JobOption &o : jobOptions(kind)) {
        if (o.type == OptionType::FlagSet) {
            for (const QString &name : o.choices)
                if (!c.contains(o.key + name))
                    c.insert(o.key + name, false);
        } else if (!c.contains(o.key) && !o.defaultValue.isUndefined()) {
            c.insert(o.key, o.defaultValue);
        }
        const std::optional<QString> v = given ? given(o.flag) : std::nullopt;
        if (!v)
            continue;
        const QJsonValue value = converted(o, *v);
        if (o.type == OptionType::FlagSet) {
            const QStringList on = value.toString().split(QLatin1Char(','), Qt::SkipEmptyParts);
            for (const QString &name : o.choices)
                c.insert(o.key + name, on.contains(name));
        } else {
            c.insert(o.key, value);
        }
    }
    return c;
}

QString optionText(const JobOption &o, const QJsonObject &c)
{
    if (o.type == OptionType::FlagSet) {
        QStringList on;
        for (const QString &name : o.choices)
            if (c.value(o.key + name).toBool())
                on << name;
        return on.join(QLatin1Char(','));
    }
    const QJsonValue v = c.value(o.key);
    switch (o.type) {
    case OptionType::Pixels:
        return v.toInteger() == 0 && v.isDouble() ? QStringLiteral("model") : v.isDouble() ? QString::number(v.toInteger()) : QString();
    case OptionType::Integer:
        return v.isDouble() ? QString::number(v.toInteger()) : QString();
    case OptionType::Number:
        return v.isDouble() ? QString::number(v.toDouble(), 'g', 12) : QString();
    case OptionType::List: {
        QStringList parts;
        for (const QJsonValue &x : v.toArray())
            parts << x.toString();
        return parts.join(QLatin1Char(','));
    }
    default:
        return v.toString();
    }
}

QString defaultRunName(JobKind kind, const QJsonObject &c)
{
    // An aligned checkpoint is called after its run (backends/model_identity.h).
    auto folder = [&](const char *key) { return backends::modelDisplayName(c.value(QLatin1String(key)).toString()); };
    switch (kind) {
    case JobKind::Annotate:
        return QStringLiteral("annotate %1 · %2").arg(c.value(QStringLiteral("task")).toString(QStringLiteral("text")), folder("model"));
    case JobKind::Identify:
        return QStringLiteral("identify %1 vs %2 · %3").arg(folder("large_model"), folder("small_model"), c.value(QStringLiteral("criterion")).toString());
    case JobKind::Evaluate: {
        const QString metric = c.value(QStringLiteral("metric")).toString();
        return QStringLiteral("evaluate %1 on %2%3").arg(folder("model"), c.value(QStringLiteral("dataset")).toString(),
                                                         metric.isEmpty() ? QString() : QStringLiteral(" · ") + metric);
    }
    case JobKind::Align: {
        QString name = QStringLiteral("align %1 · lr %2 × %3").arg(c.value(QStringLiteral("selection")).toString(QStringLiteral("approved-gaps")),
                                                                   shortNumber(c.value(QStringLiteral("lr_llm")).toDouble(1e-5)))
                           .arg(c.value(QStringLiteral("epochs")).toInt(1));
        if (c.value(QStringLiteral("max_steps")).toInt() > 0)
            name += QStringLiteral(" · ≤%1 steps").arg(c.value(QStringLiteral("max_steps")).toInt());
        if (c.value(QStringLiteral("method")).toString() == QLatin1String("lora"))
            name += QStringLiteral(" · LoRA r%1").arg(c.value(QStringLiteral("lora_rank")).toInt(8));
        if (c.value(QStringLiteral("train_prompt")).toString() == QLatin1String("instructed"))
            name += QStringLiteral(" · instructed");
        return name;
    }
    }
    return {};
}

QList<JobPreset> jobPresets(JobKind kind)
{
    QList<JobPreset> presets{{QObject::tr("Paper defaults (MPA's settings)"), {}}};
    presets.append({QObject::tr("Demo world (what mpa demo run uses)"), demo::demoRunSettings(kind)});
    if (kind != JobKind::Align) {
        presets.append({QObject::tr("Quick look (batch 1, 32 new tokens)"), {{QStringLiteral("batch_size"), 1}, {QStringLiteral("max_new_tokens"), 32}}});
        presets.append({QObject::tr("GPU server (CUDA, bfloat16, batch 16)"),
                        {{QStringLiteral("device"), QStringLiteral("cuda")}, {QStringLiteral("dtype"), QStringLiteral("bf16")}, {QStringLiteral("batch_size"), 16}}});
    } else {
        presets.append({QObject::tr("GPU server (CUDA, bf16 mixed precision, checkpointing)"),
                        {{QStringLiteral("device"), QStringLiteral("cuda")}, {QStringLiteral("dtype"), QStringLiteral("bf16")},
                         {QStringLiteral("gradient_checkpointing"), QStringLiteral("on")}}});
    }
    return presets;
}

} // namespace mpa::jobs
