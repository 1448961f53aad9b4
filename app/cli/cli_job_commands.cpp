#include "cli_job_commands.h"

#include "cli_common.h"
#include "backends/http_backend.h"
#include "pipeline/evaluator.h"
#include "pipeline/parity_leveler.h"
#include "pipeline/training_data.h"
#include "pipeline/parity_identifier.h"
#include "pipeline/pseudo_annotator.h"
#include "util/error.h"
#include "util/json_file.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

namespace mpa::cli {

namespace {

QList<QCommandLineOption> backendOptions()
{
    return {
        {QStringLiteral("device"), QStringLiteral("cpu, cuda or cuda:N."), QStringLiteral("DEVICE"), QStringLiteral("cpu")},
        {QStringLiteral("dtype"), QStringLiteral("f32, bf16 or f16."), QStringLiteral("DTYPE"), QStringLiteral("f32")},
        {QStringLiteral("batch"), QStringLiteral("Questions per forward pass."), QStringLiteral("N"), QStringLiteral("4")},
        {QStringLiteral("min-pixels"), QStringLiteral("Image budget, fewest pixels (MPA: 100352 = 128 visual tokens; 'model': the "
                                                      "model's preprocessor_config.json)."), QStringLiteral("N")},
        {QStringLiteral("max-pixels"), QStringLiteral("Image budget, most pixels (MPA: 401408 = 512 visual tokens; 'model': the "
                                                      "model's preprocessor_config.json)."), QStringLiteral("N")},
        {QStringLiteral("limit"), QStringLiteral("Only the first N items (0: all)."), QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("max-new-tokens"), QStringLiteral("Longest generation (MPA: 128)."), QStringLiteral("N"), QStringLiteral("128")},
        {QStringLiteral("resume"), QStringLiteral("Continue run RUN (cancelled, failed, interrupted) where it stopped."), QStringLiteral("RUN")},
        {QStringLiteral("config"), QStringLiteral("Read the run's settings from FILE (a --save-config output); flags override."), QStringLiteral("FILE")},
        {QStringLiteral("save-config"), QStringLiteral("Write the run's settings to FILE and exit."), QStringLiteral("FILE")},
        {QStringLiteral("served-model"), QStringLiteral("With an http(s):// model: the served model id."), QStringLiteral("NAME")},
        {QStringLiteral("api-key-env"), QStringLiteral("With an http(s):// model: the environment variable holding the API key."),
         QStringLiteral("VAR"), QStringLiteral("OPENAI_API_KEY")},
    };
}

// --model DIR (native) or --model http(s)://host:port/v1 (an OpenAI-compatible server, with
// --served-model NAME or the first one it lists; the key comes from --api-key-env's variable).
std::unique_ptr<backends::VlmBackend> makeBackend(const QString &model, const QCommandLineParser &parser, const backends::NativeBackendOptions &native)
{
    if (model.startsWith(QLatin1String("http://")) || model.startsWith(QLatin1String("https://"))) {
        backends::HttpBackendOptions o;
        o.baseUrl = model;
        o.model = parser.value(QStringLiteral("served-model"));
        o.apiKeyEnv = parser.value(QStringLiteral("api-key-env"));
        o.concurrency = std::max(1, native.batchSize);
        return backends::makeHttpBackend(o);
    }
    return backends::makeNativeBackend(model, native);
}

QString modelLocation(const QString &model)
{
    return model.startsWith(QLatin1String("http")) ? model : QFileInfo(model).absoluteFilePath();
}

backends::NativeBackendOptions nativeOptions(const QCommandLineParser &parser, const QJsonObject &config)
{
    backends::NativeBackendOptions o;
    o.device = parser.isSet(QStringLiteral("device")) ? parser.value(QStringLiteral("device")) : config.value(QStringLiteral("device")).toString(QStringLiteral("cpu"));
    o.dtype = parser.isSet(QStringLiteral("dtype")) ? parser.value(QStringLiteral("dtype")) : config.value(QStringLiteral("dtype")).toString(QStringLiteral("f32"));
    o.batchSize = parser.value(QStringLiteral("batch")).toInt();
    auto pixels = [&](const char *flag, const char *key, std::optional<std::int64_t> &value) {
        const QString v = parser.isSet(QLatin1String(flag)) ? parser.value(QLatin1String(flag))
                        : config.value(QLatin1String(key)).isDouble() ? QString::number(config.value(QLatin1String(key)).toInteger())
                                                                       : config.value(QLatin1String(key)).toString();
        if (v.isEmpty())
            return;
        if (v == QLatin1String("model")) {
            value.reset();
            return;
        }
        bool ok = false;
        value = v.toLongLong(&ok);
        if (!ok || *value < 1)
            throw UsageError{QStringLiteral("--%1 takes a pixel count or 'model'").arg(QLatin1String(flag))};
    };
    pixels("min-pixels", "min_pixels", o.minPixels);
    pixels("max-pixels", "max_pixels", o.maxPixels);
    return o;
}

QJsonObject loadConfig(const QCommandLineParser &parser)
{
    if (!parser.isSet(QStringLiteral("config")))
        return {};
    return json::readFile(parser.value(QStringLiteral("config"))).object();
}

// Settings: flags when given, else the config file, else the default.
QString setting(const QCommandLineParser &parser, const QJsonObject &config, const char *flag, const char *key, const QString &fallback = {})
{
    if (parser.isSet(QLatin1String(flag)))
        return parser.value(QLatin1String(flag));
    const QJsonValue v = config.value(QLatin1String(key));
    if (v.isDouble())
        return QString::number(v.toInteger());
    return v.toString(fallback.isEmpty() ? parser.value(QLatin1String(flag)) : fallback);
}

bool saveConfigIfAsked(const QCommandLineParser &parser, const QJsonObject &settings)
{
    if (!parser.isSet(QStringLiteral("save-config")))
        return false;
    json::writeFile(parser.value(QStringLiteral("save-config")), QJsonDocument(settings));
    out() << "wrote " << parser.value(QStringLiteral("save-config")) << '\n';
    return true;
}

// Exit status: 0 when the job did its work, 1 when cancelled, 3 when every item it tried
// failed (an endpoint down, every image unreadable): a script must not take that for success.
int finish(const pipeline::JobSummary &s)
{
    out() << s.summary() << '\n';
    if (s.cancelled)
        return 1;
    if (s.failed > 0 && s.failed >= s.done) {
        err() << "every item failed (" << s.failed << "); the run can be resumed with --resume " << s.runId << " once the cause is fixed\n";
        return 3;
    }
    return 0;
}

} // namespace

int cmdAnnotate(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("annotate WS --model DIR [--task text|chart|knowledge] [options]");
    parser.addOptions({{QStringLiteral("model"), QStringLiteral("The large model's folder (the pseudo annotator)."), QStringLiteral("DIR")},
                       {QStringLiteral("task"), QStringLiteral("text (TextVQA/ST-VQA), chart (ChartQA), knowledge (OK-VQA)."), QStringLiteral("TASK"), QStringLiteral("text")},
                       {QStringLiteral("pairs"), QStringLiteral("Question-answer pairs per image."), QStringLiteral("N"), QStringLiteral("1")},
                       {QStringLiteral("images"), QStringLiteral("Only images whose path matches this GLOB (e.g. '*/signs/*')."), QStringLiteral("GLOB")}});
    parser.addOptions(backendOptions());
    if (!parse(parser, args, synopsis, QStringLiteral("Pseudo Annotator: the large model writes question-answer pairs for the workspace's "
                                                      "images with the task's prompt (editable per workspace). Outputs that do not parse "
                                                      "are kept with their raw text.")))
        return 0;
    const QStringList p = requirePositional(parser, 1, 1, synopsis);
    const QJsonObject config = loadConfig(parser);
    const QString model = setting(parser, config, "model", "model");
    pipeline::AnnotateParams params;
    params.task = setting(parser, config, "task", "task");
    params.images = setting(parser, config, "images", "images");
    params.pairsPerImage = setting(parser, config, "pairs", "pairs_per_image").toInt();
    params.batchSize = setting(parser, config, "batch", "batch_size").toInt();
    params.limit = setting(parser, config, "limit", "limit").toLongLong();
    params.maxNewTokens = setting(parser, config, "max-new-tokens", "max_new_tokens").toInt();
    QJsonObject settings = params.toJson();
    settings.insert(QStringLiteral("model"), model);
    const auto native = nativeOptions(parser, config);
    settings.insert(QStringLiteral("device"), native.device);
    settings.insert(QStringLiteral("dtype"), native.dtype);
    if (saveConfigIfAsked(parser, settings))
        return 0;
    if (model.isEmpty() && !parser.isSet(QStringLiteral("resume")))
        throw UsageError{QStringLiteral("--model DIR is required")};
    const store::Workspace ws = store::Workspace::open(p.first());
    auto backend = makeBackend(model, parser, native);
    return finish(pipeline::runPseudoAnnotator(ws, *backend, modelLocation(model), params, stderrProgress(),
                                               parser.value(QStringLiteral("resume")).toLongLong()));
}

int cmdIdentify(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("identify WS --large DIR --small DIR [--criterion mpa|vqa|anls|relaxed] [options]");
    parser.addOptions({{QStringLiteral("large"), QStringLiteral("The large model's folder."), QStringLiteral("DIR")},
                       {QStringLiteral("small"), QStringLiteral("The small model's folder."), QStringLiteral("DIR")},
                       {QStringLiteral("criterion"), QStringLiteral("mpa (official substring), vqa, anls, relaxed."), QStringLiteral("NAME"), QStringLiteral("mpa")},
                       {QStringLiteral("task"), QStringLiteral("Only samples of this task."), QStringLiteral("TASK")},
                       {QStringLiteral("source"), QStringLiteral("Only samples from this source (e.g. pa:run3)."), QStringLiteral("SOURCE")}});
    parser.addOptions(backendOptions());
    if (!parse(parser, args, synopsis, QStringLiteral("Parity Identifier: both models answer every parsed pseudo question (the large one "
                                                      "first, then the small one); each sample gets its outcome: gap, both right, S-only "
                                                      "or both wrong.")))
        return 0;
    const QStringList p = requirePositional(parser, 1, 1, synopsis);
    const QJsonObject config = loadConfig(parser);
    const QString large = setting(parser, config, "large", "large_model");
    const QString small = setting(parser, config, "small", "small_model");
    pipeline::IdentifyParams params;
    params.criterion = setting(parser, config, "criterion", "criterion");
    params.task = setting(parser, config, "task", "task");
    params.source = setting(parser, config, "source", "source");
    params.batchSize = setting(parser, config, "batch", "batch_size").toInt();
    params.limit = setting(parser, config, "limit", "limit").toLongLong();
    params.maxNewTokens = setting(parser, config, "max-new-tokens", "max_new_tokens").toInt();
    if (!pipeline::parityCriteria().contains(params.criterion))
        throw UsageError{QStringLiteral("--criterion must be one of %1").arg(pipeline::parityCriteria().join(QStringLiteral(", ")))};
    QJsonObject settings = params.toJson();
    settings.insert(QStringLiteral("large_model"), large);
    settings.insert(QStringLiteral("small_model"), small);
    if (saveConfigIfAsked(parser, settings))
        return 0;
    if (large.isEmpty() || small.isEmpty())
        throw UsageError{QStringLiteral("--large DIR and --small DIR are required")};
    const store::Workspace ws = store::Workspace::open(p.first());
    const auto native = nativeOptions(parser, config);
    auto l = makeBackend(large, parser, native);
    auto s = makeBackend(small, parser, native);
    return finish(pipeline::runParityIdentifier(ws, *l, modelLocation(large), *s, modelLocation(small), params,
                                                stderrProgress(), parser.value(QStringLiteral("resume")).toLongLong()));
}

int cmdEvaluate(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("evaluate WS (--model DIR --dataset NAME [--split S] | --compare RUN_A RUN_B) [options]");
    parser.addOptions({{QStringLiteral("model"), QStringLiteral("The model's folder."), QStringLiteral("DIR")},
                       {QStringLiteral("dataset"), QStringLiteral("An imported benchmark (textvqa, stvqa, chartqa, okvqa, ...)."), QStringLiteral("NAME")},
                       {QStringLiteral("split"), QStringLiteral("Its split (needed when it has several)."), QStringLiteral("SPLIT")},
                       {QStringLiteral("metric"), QStringLiteral("vqa, anls or relaxed (default: the benchmark's official one)."), QStringLiteral("METRIC")},
                       {QStringLiteral("compare"), QStringLiteral("Compare two evaluation runs question by question (give RUN_B as the positional argument after WS).")
                                                   , QStringLiteral("RUN_A")}});
    parser.addOptions(backendOptions());
    if (!parse(parser, args, synopsis, QStringLiteral("Evaluate a model on an imported benchmark with the MPA prompt: its official metric "
                                                      "and MPA's substring accuracy; predictions are stored. --compare prints the flip "
                                                      "table between two runs (fixed, broken, still right, still wrong).")))
        return 0;
    if (parser.isSet(QStringLiteral("compare"))) {
        const QStringList p = requirePositional(parser, 2, 2, QStringLiteral("evaluate WS --compare RUN_A RUN_B"));
        const store::Workspace ws = openForReading(p.first());
        const pipeline::FlipTable t = pipeline::compareEvaluationRuns(ws, parser.value(QStringLiteral("compare")).toLongLong(), p.at(1).toLongLong());
        out() << QStringLiteral("fixed: %1\nbroken: %2\nstill right: %3\nstill wrong: %4\n").arg(t.fixed).arg(t.broken).arg(t.stillRight).arg(t.stillWrong);
        return 0;
    }
    const QStringList p = requirePositional(parser, 1, 1, synopsis);
    const QJsonObject config = loadConfig(parser);
    const QString model = setting(parser, config, "model", "model");
    pipeline::EvaluateParams params;
    params.dataset = setting(parser, config, "dataset", "dataset");
    params.split = setting(parser, config, "split", "split");
    params.metric = setting(parser, config, "metric", "metric");
    params.batchSize = setting(parser, config, "batch", "batch_size").toInt();
    params.limit = setting(parser, config, "limit", "limit").toLongLong();
    params.maxNewTokens = setting(parser, config, "max-new-tokens", "max_new_tokens").toInt();
    QJsonObject settings = params.toJson();
    settings.insert(QStringLiteral("model"), model);
    if (saveConfigIfAsked(parser, settings))
        return 0;
    if (model.isEmpty() || params.dataset.isEmpty())
        throw UsageError{QStringLiteral("--model DIR and --dataset NAME are required")};
    const store::Workspace ws = store::Workspace::open(p.first());
    auto backend = makeBackend(model, parser, nativeOptions(parser, config));
    pipeline::EvaluationScores scores;
    const pipeline::JobSummary s = pipeline::runEvaluation(ws, *backend, modelLocation(model), params, stderrProgress(),
                                                           parser.value(QStringLiteral("resume")).toLongLong(), &scores);
    out() << QStringLiteral("%1: %2 = %3, MPA accuracy = %4 (%5 questions)\n")
                 .arg(params.dataset, scores.metric)
                 .arg(100 * scores.official, 0, 'f', 2)
                 .arg(100 * scores.mpaAccuracy, 0, 'f', 2)
                 .arg(scores.questions);
    return finish(s);
}

} // namespace mpa::cli


namespace mpa::cli {

int cmdAlign(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("align WS --model DIR [--select approved-gaps|gaps|all|random] [--method full|lora] [options]");
    parser.addOptions({
        {QStringLiteral("model"), QStringLiteral("The small model's folder (the one to align)."), QStringLiteral("DIR")},
        {QStringLiteral("select"), QStringLiteral("Training set: approved-gaps (default), gaps, all, random (gap-sized random subset)."), QStringLiteral("WHICH")},
        {QStringLiteral("method"), QStringLiteral("full (default) or lora."), QStringLiteral("METHOD")},
        {QStringLiteral("lora-rank"), QStringLiteral("LoRA rank (8)."), QStringLiteral("N")},
        {QStringLiteral("lora-alpha"), QStringLiteral("LoRA alpha (16)."), QStringLiteral("X")},
        {QStringLiteral("lora-dropout"), QStringLiteral("LoRA dropout (0.05)."), QStringLiteral("X")},
        {QStringLiteral("lora-targets"), QStringLiteral("Comma-separated module names (q_proj,...,down_proj)."), QStringLiteral("LIST")},
        {QStringLiteral("lr"), QStringLiteral("Learning rate of the LLM (1e-5)."), QStringLiteral("X")},
        {QStringLiteral("lr-merger"), QStringLiteral("Learning rate of the merger (1e-5)."), QStringLiteral("X")},
        {QStringLiteral("lr-vision"), QStringLiteral("Learning rate of the vision tower (2e-6)."), QStringLiteral("X")},
        {QStringLiteral("freeze"), QStringLiteral("Freeze parts: comma-separated vision, merger, llm."), QStringLiteral("LIST")},
        {QStringLiteral("epochs"), QStringLiteral("Passes over the training set (1)."), QStringLiteral("N")},
        {QStringLiteral("batch"), QStringLiteral("Samples per micro-batch (1)."), QStringLiteral("N")},
        {QStringLiteral("grad-accum"), QStringLiteral("Micro-batches per optimizer step (16)."), QStringLiteral("N")},
        {QStringLiteral("max-steps"), QStringLiteral("Stop after N optimizer steps."), QStringLiteral("N")},
        {QStringLiteral("warmup"), QStringLiteral("Warm-up fraction of the steps (0.03)."), QStringLiteral("X")},
        {QStringLiteral("weight-decay"), QStringLiteral("AdamW weight decay (0)."), QStringLiteral("X")},
        {QStringLiteral("save-every"), QStringLiteral("Checkpoint every N steps (default: at the end)."), QStringLiteral("N")},
        {QStringLiteral("eval-every"), QStringLiteral("Held-out loss every N steps."), QStringLiteral("N")},
        {QStringLiteral("held-out"), QStringLiteral("Fraction of the training set held out (0)."), QStringLiteral("X")},
        {QStringLiteral("seed"), QStringLiteral("Data order, LoRA init, dropout (0)."), QStringLiteral("N")},
        {QStringLiteral("device"), QStringLiteral("cpu, cuda or cuda:N."), QStringLiteral("DEVICE")},
        {QStringLiteral("dtype"), QStringLiteral("f32 (default); bf16 or f16: mixed precision (16-bit compute, float32 master weights and "
                                                 "AdamW moments; f16 with loss scaling; bf16 is the usual choice on CUDA); bf16-pure: all in "
                                                 "bfloat16 (less memory, but at lr 1e-5 most updates round to nothing)."), QStringLiteral("DTYPE")},
        {QStringLiteral("gradient-checkpointing"), QStringLiteral("on, off or auto (default: on with CUDA): recompute each layer's "
                                                                  "activations in backward instead of keeping them."), QStringLiteral("MODE")},
        {QStringLiteral("save-total-limit"), QStringLiteral("Keep only the newest N checkpoints of the run (default: all)."), QStringLiteral("N")},
        {QStringLiteral("min-pixels"), QStringLiteral("Image budget, fewest pixels (MPA: 100352; 'model': the model's own)."), QStringLiteral("N")},
        {QStringLiteral("max-pixels"), QStringLiteral("Image budget, most pixels (MPA: 401408; 'model': the model's own)."), QStringLiteral("N")},
        {QStringLiteral("train-prompt"), QStringLiteral("bare (official: the question alone) or instructed (question + the single-word "
                                                        "instruction PI and evaluation ask with)."), QStringLiteral("STYLE")},
        {QStringLiteral("resume"), QStringLiteral("Continue run RUN from its last checkpoint."), QStringLiteral("RUN")},
        {QStringLiteral("config"), QStringLiteral("Read settings from FILE; flags override."), QStringLiteral("FILE")},
        {QStringLiteral("save-config"), QStringLiteral("Write the run's settings to FILE and exit."), QStringLiteral("FILE")},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("Parity Leveler: fine-tune the small model on the selected samples (answer tokens "
                                                      "only). Checkpoints are complete Hugging Face folders under WS/runs/run-N/.")))
        return 0;
    const QStringList p = requirePositional(parser, 1, 1, synopsis);
    QJsonObject settings = parser.isSet(QStringLiteral("config")) ? json::readFile(parser.value(QStringLiteral("config"))).object()
                                                                  : pipeline::AlignParams{}.toJson();
    auto put = [&](const char *flag, const char *key, bool number) {
        if (!parser.isSet(QLatin1String(flag)))
            return;
        const QString v = parser.value(QLatin1String(flag));
        const bool pixelFlag = QLatin1String(flag).endsWith(QLatin1String("-pixels"));
        if (pixelFlag && v == QLatin1String("model")) {
            settings.insert(QLatin1String(key), 0); // the model's own preprocessor_config.json
            return;
        }
        if (number) {
            bool ok = false;
            const double d = v.toDouble(&ok);
            if (!ok)
                throw UsageError{QStringLiteral("--%1 must be a number").arg(QLatin1String(flag))};
            settings.insert(QLatin1String(key), d);
        } else {
            settings.insert(QLatin1String(key), v);
        }
    };
    put("select", "selection", false);
    put("method", "method", false);
    put("lora-rank", "lora_rank", true);
    put("lora-alpha", "lora_alpha", true);
    put("lora-dropout", "lora_dropout", true);
    put("lr", "lr_llm", true);
    put("lr-merger", "lr_merger", true);
    put("lr-vision", "lr_vision", true);
    put("epochs", "epochs", true);
    put("batch", "batch_size", true);
    put("grad-accum", "grad_accum", true);
    put("max-steps", "max_steps", true);
    put("warmup", "warmup_ratio", true);
    put("weight-decay", "weight_decay", true);
    put("save-every", "save_every", true);
    put("save-total-limit", "save_total_limit", true);
    put("gradient-checkpointing", "gradient_checkpointing", false);
    put("eval-every", "eval_every", true);
    put("held-out", "held_out_fraction", true);
    put("seed", "seed", true);
    put("device", "device", false);
    put("dtype", "dtype", false);
    put("min-pixels", "min_pixels", true);
    put("max-pixels", "max_pixels", true);
    put("train-prompt", "train_prompt", false);
    if (parser.isSet(QStringLiteral("lora-targets")))
        settings.insert(QStringLiteral("lora_targets"), QJsonArray::fromStringList(parser.value(QStringLiteral("lora-targets")).split(QLatin1Char(','))));
    if (parser.isSet(QStringLiteral("freeze"))) {
        for (const QString &part : parser.value(QStringLiteral("freeze")).split(QLatin1Char(','))) {
            if (part != QLatin1String("vision") && part != QLatin1String("merger") && part != QLatin1String("llm"))
                throw UsageError{QStringLiteral("--freeze takes vision, merger, llm")};
            settings.insert(QStringLiteral("freeze_") + part, true);
        }
    }
    if (!pipeline::trainingSelections().contains(settings.value(QStringLiteral("selection")).toString(QStringLiteral("approved-gaps"))))
        throw UsageError{QStringLiteral("--select must be one of %1").arg(pipeline::trainingSelections().join(QStringLiteral(", ")))};
    const QString model = parser.isSet(QStringLiteral("model")) ? parser.value(QStringLiteral("model")) : settings.value(QStringLiteral("model")).toString();
    settings.insert(QStringLiteral("model"), model);
    if (saveConfigIfAsked(parser, settings))
        return 0;
    if (model.isEmpty() && !parser.isSet(QStringLiteral("resume")))
        throw UsageError{QStringLiteral("--model DIR is required")};
    const store::Workspace ws = store::Workspace::open(p.first());
    pipeline::AlignResult result;
    const pipeline::JobSummary s = pipeline::runParityLeveler(ws, model, pipeline::AlignParams::fromJson(settings), stderrProgress(),
                                                              parser.value(QStringLiteral("resume")).toLongLong(), &result);
    out() << QStringLiteral("trained on %1 samples, %2 steps, last loss %3; model: %4\n")
                 .arg(result.trainSamples).arg(result.steps).arg(result.lastLoss, 0, 'f', 4).arg(result.finalModelDir);
    return finish(s);
}

} // namespace mpa::cli
