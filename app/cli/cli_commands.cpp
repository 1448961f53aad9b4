#include "cli_commands.h"

#include "cli_common.h"
#include "cli_job_commands.h"
#include "cli_model_commands.h"
#include "cli_demo_commands.h"

#include "backends/torch_runtime.h"
#include "datasets/exporter.h"
#include "datasets/importer.h"
#include "metrics/scoring.h"
#include "store/catalog.h"
#include "store/stats.h"
#include "store/workspace.h"
#include "util/error.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHash>
#include <QTextStream>
#include <cstdio>
#include <functional>
#include <unistd.h>

namespace mpa::cli {

namespace {

const char *kOverview = R"(usage: mpa <command> [options]

MPA Studio's command line: workspaces, datasets and metrics of the Model Parity Aligner.

commands:
  init WS                      create a workspace folder WS.mpaw
  import WS --images DIR       add every image under DIR (recursive; corrupt files recorded)
  import WS --dataset FORMAT FILE [--image-root DIR]
                               FORMAT: textvqa stvqa chartqa vqa llava mpa-pa mpa-pi mpa-eval jsonl
  export WS --format FORMAT OUT
                               FORMAT: llava sharegpt jsonl vqa-results
  score --metric METRIC PREDICTIONS [ANNOTATIONS]
                               METRIC: vqa anls relaxed mpa (no workspace or model needed)
  stats WS                     counts of images, samples by outcome and review, runs
  rename-run WS RUN NAME       a run's new name (also while it runs)
  annotate WS --model DIR [--task text|chart|knowledge]
                               Pseudo Annotator: the large model writes question-answer pairs
  identify WS --large DIR --small DIR [--criterion mpa]
                               Parity Identifier: both models answer; gaps are marked
  align WS --model DIR [--select approved-gaps] [--method full|lora]
                               Parity Leveler: fine-tune the small model on the knowledge gaps
  evaluate WS --model DIR --dataset NAME
                               official metric and MPA accuracy on an imported benchmark
  inspect-model DIR            architecture, parameters, dtype, memory, files of a model folder
  tokenize --tokenizer DIR|FILE [--decode] [--skip-special]
                               JSON lines on stdin ({"text"} or {"ids"}) -> {"text","ids"} lines
  generate --model DIR --image FILE --prompt TEXT
                               answer one question about an image with the native runtime
  serve --model DIR [--port N] an OpenAI-compatible server over the native runtime (loopback)
  demo create WS [--seed N]    a synthetic VQA world (text, charts, shapes) with test splits
  demo train-models OUT        train the demo teacher and student (Qwen2-VL folders) on 2 CPU cores
  demo run WS                  the whole MPA loop on the demo world with the demo models
  demo report WS               teacher, student before/after MPA and comparisons, per family
  convert-model DIR --dtype bf16
                               rewrite a model folder's weights in another dtype (in place)
  create-random-model DIR --tokenizer DIR [--arch qwen2_vl|qwen2_5_vl|idefics3]
                               a small random model folder to try the pipeline with
  version                      versions of MPA Studio and libtorch, CUDA availability

Run `mpa <command> --help` for a command's options.
)";

int cmdInit(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("init WS");
    if (!parse(parser, args, synopsis, QStringLiteral("Create a workspace folder WS.mpaw (SQLite database, thumbnail cache, runs).")))
        return 0;
    const QStringList p = requirePositional(parser, 1, 1, synopsis);
    const store::Workspace ws = store::Workspace::create(p.first());
    out() << "created " << ws.root() << " (schema " << ws.schemaVersion() << ")\n";
    return 0;
}

int cmdImport(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("import WS (--images DIR | --dataset FORMAT FILE) [options]");
    parser.addOptions({
        {QStringLiteral("images"), QStringLiteral("Add every image under DIR, recursively."), QStringLiteral("DIR")},
        {QStringLiteral("dataset"), QStringLiteral("Annotation format of FILE: textvqa, stvqa, chartqa, vqa (official questions file "
                                                   "with --annotations, or the merged list), llava (LLaVA / Qwen2-VL-Finetune "
                                                   "conversations), mpa-pa, mpa-pi, mpa-eval (the official MPA scripts' outputs), "
                                                   "jsonl (MPA Studio's export)."), QStringLiteral("FORMAT")},
        {QStringLiteral("image-root"), QStringLiteral("Folder the file's image paths are relative to (absolute paths from another "
                                                      "machine are re-based onto it)."), QStringLiteral("DIR")},
        {QStringLiteral("annotations"), QStringLiteral("vqa: the official annotations file beside the questions file."), QStringLiteral("FILE")},
        {QStringLiteral("split"), QStringLiteral("Benchmark split name (default: from the file)."), QStringLiteral("NAME")},
        {QStringLiteral("name"), QStringLiteral("Benchmark dataset name (e.g. okvqa for an OK-VQA file in VQA format)."), QStringLiteral("NAME")},
        {QStringLiteral("task"), QStringLiteral("llava: the task of the imported pairs (text, chart, knowledge)."), QStringLiteral("TASK")},
        {QStringLiteral("model"), QStringLiteral("mpa-pa / mpa-pi: the model's name (default: from the file name)."), QStringLiteral("NAME")},
        {QStringLiteral("role"), QStringLiteral("mpa-pi: whether the answering model is the large or the small one."), QStringLiteral("large|small")},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("Import images or an annotation file into a workspace. Re-importing updates "
                                                      "records in place. Images that do not exist here are recorded as missing.")))
        return 0;
    const QStringList p = parser.positionalArguments();
    const bool images = parser.isSet(QStringLiteral("images"));
    const bool dataset = parser.isSet(QStringLiteral("dataset"));
    if (images == dataset)
        throw UsageError{QStringLiteral("give either --images DIR or --dataset FORMAT FILE")};
    if (p.size() != (images ? 1 : 2))
        throw UsageError{QStringLiteral("expected: mpa %1").arg(synopsis)};

    const store::Workspace ws = store::Workspace::open(p.at(0));
    datasets::Importer importer(ws, stderrProgress());
    const QString root = parser.value(QStringLiteral("image-root"));
    datasets::ImportReport report;
    if (images) {
        report = importer.importImageFolder(parser.value(QStringLiteral("images")));
    } else {
        const QString format = parser.value(QStringLiteral("dataset"));
        if (!datasets::annotationFormats().contains(format))
            throw UsageError{QStringLiteral("unknown dataset format \"%1\" (%2)").arg(format, datasets::annotationFormats().join(QLatin1Char(' ')))};
        datasets::AnnotationImport r;
        r.format = format;
        r.file = p.at(1);
        r.imageRoot = root;
        r.split = parser.value(QStringLiteral("split"));
        r.annotationsFile = parser.value(QStringLiteral("annotations"));
        r.datasetName = parser.value(QStringLiteral("name"));
        r.task = parser.value(QStringLiteral("task"));
        r.model = parser.value(QStringLiteral("model"));
        r.role = parser.value(QStringLiteral("role"));
        report = datasets::importAnnotations(ws, r, stderrProgress());
    }
    out() << "imported: " << report.summary() << '\n';
    return 0;
}

int cmdExport(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("export WS --format FORMAT OUT [options]");
    parser.addOptions({
        {QStringLiteral("format"), QStringLiteral("llava (LLaVA / Qwen2-VL-Finetune JSON), sharegpt (LLaMA-Factory, writes "
                                                  "dataset_info.json beside OUT), jsonl (everything, re-importable), "
                                                  "vqa-results (a run's predictions)."), QStringLiteral("FORMAT")},
        {QStringLiteral("select"), QStringLiteral("Samples to export: approved-gaps (default: the training set), gaps, approved, all."),
         QStringLiteral("WHICH"), QStringLiteral("approved-gaps")},
        {QStringLiteral("image-root"), QStringLiteral("Write image paths relative to this folder."), QStringLiteral("DIR")},
        {QStringLiteral("dataset-name"), QStringLiteral("sharegpt: the dataset's key in dataset_info.json."), QStringLiteral("NAME"),
         QStringLiteral("mpa_gaps")},
        {QStringLiteral("run"), QStringLiteral("vqa-results: the run whose predictions to write (default: the latest)."), QStringLiteral("ID")},
        {QStringLiteral("force"), QStringLiteral("Replace OUT when it already exists.")},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("Export samples for training, or predictions for an official evaluator.")))
        return 0;
    const QStringList p = requirePositional(parser, 2, 2, synopsis);
    if (QFileInfo::exists(p.at(1)) && !parser.isSet(QStringLiteral("force")))
        throw UsageError{QStringLiteral("%1 already exists; pass --force to replace it").arg(p.at(1))};
    const auto format = datasets::exportFormatFromString(parser.value(QStringLiteral("format")));
    if (!format)
        throw UsageError{QStringLiteral("--format must be llava, sharegpt, jsonl or vqa-results")};
    const auto selection = datasets::exportSelectionFromString(parser.value(QStringLiteral("select")));
    if (!selection)
        throw UsageError{QStringLiteral("--select must be approved-gaps, gaps, approved or all")};
    datasets::ExportOptions options;
    options.format = *format;
    options.selection = *selection;
    options.imageRoot = parser.value(QStringLiteral("image-root"));
    options.datasetName = parser.value(QStringLiteral("dataset-name"));
    options.runId = parser.value(QStringLiteral("run")).toLongLong();
    const store::Workspace ws = openForReading(p.at(0));
    const qint64 n = datasets::exportWorkspace(ws, p.at(1), options);
    out() << "wrote " << n << " records to " << p.at(1) << '\n';
    return 0;
}

int cmdScore(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("score --metric METRIC PREDICTIONS [ANNOTATIONS]");
    parser.addOptions({
        {QStringLiteral("metric"), QStringLiteral("vqa (official VQA accuracy), anls (ST-VQA), relaxed (ChartQA), mpa (the MPA "
                                                  "code's substring accuracy on the majority answer)."), QStringLiteral("METRIC")},
        {QStringLiteral("per-question"), QStringLiteral("Also print each question's score.")},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("Score predictions ([{question_id, answer}] or an MPA Eval file) against "
                                                      "annotations (TextVQA, ST-VQA, ChartQA, VQA or merged VQA). Without "
                                                      "ANNOTATIONS, an MPA Eval file is scored against its own GT_answer.")))
        return 0;
    const QStringList p = requirePositional(parser, 1, 2, synopsis);
    const auto metric = metrics::metricFromString(parser.value(QStringLiteral("metric")));
    if (!metric)
        throw UsageError{QStringLiteral("--metric must be vqa, anls, relaxed or mpa")};
    const QHash<QString, QString> predictions = metrics::readPredictionsFile(p.at(0));
    const datasets::BenchmarkSet truth = datasets::readBenchmarkAuto(p.size() == 2 ? p.at(1) : p.at(0), {});
    const metrics::ScoreReport r = metrics::scorePredictions(*metric, predictions, truth, p.at(0));
    if (parser.isSet(QStringLiteral("per-question")))
        for (const auto &e : truth.entries)
            if (r.perQuestion.contains(e.questionId))
                out() << e.questionId << '\t' << QString::number(r.perQuestion.value(e.questionId), 'f', 4) << '\n';
    out() << metrics::metricName(*metric) << ": " << QString::number(100.0 * r.mean, 'f', 2) << " ("
          << r.scored << " questions";
    if (r.unanswered)
        out() << ", " << r.unanswered << " annotated questions without a prediction not scored";
    out() << ")\n";
    return 0;
}

int cmdStats(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("stats WS");
    if (!parse(parser, args, synopsis, QStringLiteral("Counts of images by status, samples by outcome and review state, runs.")))
        return 0;
    const QStringList p = requirePositional(parser, 1, 1, synopsis);
    const store::Workspace ws = openForReading(p.first());
    out() << store::formatStats(store::collectStats(ws));
    return 0;
}

int cmdRenameRun(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("rename-run WS RUN NAME");
    if (!parse(parser, args, synopsis, QStringLiteral("Give run RUN (an id from `mpa stats` or the Runs view) a new name, also while it runs.")))
        return 0;
    const QStringList p = requirePositional(parser, 3, 3, synopsis);
    bool ok = false;
    const qint64 run = p.at(1).toLongLong(&ok);
    if (!ok || run <= 0)
        throw UsageError{QStringLiteral("RUN must be a run id, e.g. 12")};
    const store::Workspace ws = store::Workspace::open(p.at(0));
    store::Catalog(ws).renameRun(run, p.at(2));
    out() << "run " << run << ": " << p.at(2).simplified() << "\n";
    return 0;
}

int cmdVersion()
{
    backends::initialiseTorchThreads();
    out() << "mpa " << MPA_VERSION << " (" << backends::describeTorchRuntime() << ")\n";
    return 0;
}

} // namespace

int run(const QStringList &arguments)
{
    const QStringList args = arguments.mid(1);
    if (args.isEmpty() || args.first() == QLatin1String("--help") || args.first() == QLatin1String("-h") || args.first() == QLatin1String("help")) {
        out() << kOverview;
        return args.isEmpty() ? 2 : 0;
    }
    const QString command = args.first();
    static const QHash<QString, std::function<int(const QStringList &)>> commands = {
        {QStringLiteral("init"), cmdInit},
        {QStringLiteral("import"), cmdImport},
        {QStringLiteral("export"), cmdExport},
        {QStringLiteral("score"), cmdScore},
        {QStringLiteral("stats"), cmdStats},
        {QStringLiteral("rename-run"), cmdRenameRun},
        {QStringLiteral("annotate"), cmdAnnotate},
        {QStringLiteral("identify"), cmdIdentify},
        {QStringLiteral("evaluate"), cmdEvaluate},
        {QStringLiteral("align"), cmdAlign},
        {QStringLiteral("inspect-model"), cmdInspectModel},
        {QStringLiteral("tokenize"), cmdTokenize},
        {QStringLiteral("generate"), cmdGenerate},
        {QStringLiteral("serve"), cmdServe},
        {QStringLiteral("create-random-model"), cmdCreateRandomModel},
        {QStringLiteral("demo"), cmdDemo},
        {QStringLiteral("convert-model"), cmdConvertModel},
        {QStringLiteral("version"), [](const QStringList &) { return cmdVersion(); }},
        {QStringLiteral("--version"), [](const QStringList &) { return cmdVersion(); }},
    };
    try {
        auto it = commands.constFind(command);
        if (it == commands.cend())
            throw UsageError{QStringLiteral("unknown command \"%1\" (run mpa --help)").arg(command)};
        const int code = (*it)(args);
        out().flush();
        return code;
    } catch (const UsageError &e) {
        out().flush();
        err() << "mpa " << command << ": " << e.message << '\n';
        return 2;
    } catch (const Error &e) {
        out().flush();
        err() << "mpa " << command << ": error: " << e.message() << '\n';
        return 1;
    } catch (const std::exception &e) {
        out().flush();
        err() << "mpa " << command << ": error: " << e.what() << '\n';
        return 1;
    }
}

} // namespace mpa::cli
