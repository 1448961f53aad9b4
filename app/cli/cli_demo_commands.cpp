#include "cli_demo_commands.h"

#include "cli_common.h"
#include "datasets/synthetic_world.h"
#include "demo/demo_loop.h"
#include "demo/demo_models.h"
#include "demo/demo_report.h"
#include "util/error.h"

namespace mpa::cli {

namespace {

int intOption(const QCommandLineParser &parser, const QString &name, int min)
{
    bool ok = false;
    const int v = parser.value(name).toInt(&ok);
    if (!ok || v < min)
        throw UsageError{QStringLiteral("--%1 takes an integer of at least %2").arg(name).arg(min)};
    return v;
}

int demoCreate(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("demo create WS [--seed N] [--pool N] [--test N]");
    parser.addOptions({
        {QStringLiteral("seed"), QStringLiteral("The world's seed (1)."), QStringLiteral("N"), QStringLiteral("1")},
        {QStringLiteral("pool"), QStringLiteral("Unlabeled images per family (200)."), QStringLiteral("N"), QStringLiteral("200")},
        {QStringLiteral("test"), QStringLiteral("Labeled test questions per family (50)."), QStringLiteral("N"), QStringLiteral("50")},
        {QStringLiteral("train"), QStringLiteral("Also write N labeled training images per family (LLaVA pairs in WS/demo/train/pairs.json)."),
         QStringLiteral("N"), QStringLiteral("0")},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("Create the synthetic demo world in a new workspace: text in scenes, bar and line charts "
                                                      "and shapes, deterministic from the seed; an unlabeled pool for MPA and labeled "
                                                      "test splits (benchmarks demo-text, demo-chart, demo-knowledge).")))
        return 0;
    const QStringList p = requirePositional(parser, 2, 2, synopsis);
    datasets::DemoWorldOptions o;
    o.seed = parser.value(QStringLiteral("seed")).toULongLong();
    o.poolPerFamily = intOption(parser, QStringLiteral("pool"), 0);
    o.testPerFamily = intOption(parser, QStringLiteral("test"), 0);
    o.trainPerFamily = intOption(parser, QStringLiteral("train"), 0);
    const store::Workspace ws = store::Workspace::create(p.at(1));
    const datasets::DemoWorldReport r = datasets::createDemoWorld(ws, o, stderrProgress());
    out() << "created " << ws.root() << ": " << r.poolImages << " unlabeled images, " << r.testQuestions << " test questions";
    if (!r.trainPairs.isEmpty())
        out() << ", training pairs in " << r.trainPairs;
    out() << "\n";
    return 0;
}

int demoTrainModels(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("demo train-models OUT [--seed N] [--images N] [--teacher-steps N] [--student-steps N]");
    const demo::DemoModelOptions d;
    parser.addOptions({
        {QStringLiteral("seed"), QStringLiteral("Seed of the training images and the initial weights (1)."), QStringLiteral("N"), QStringLiteral("1")},
        {QStringLiteral("images"), QStringLiteral("Labeled training images per family."), QStringLiteral("N"), QString::number(d.imagesPerFamily)},
        {QStringLiteral("teacher-steps"), QStringLiteral("Optimizer steps for the teacher."), QStringLiteral("N"), QString::number(d.teacherSteps)},
        {QStringLiteral("student-steps"), QStringLiteral("Optimizer steps for the student."), QStringLiteral("N"), QString::number(d.studentSteps)},
        {QStringLiteral("hidden"), QStringLiteral("Hidden size of the language model."), QStringLiteral("N"), QString::number(d.hiddenSize)},
        {QStringLiteral("layers"), QStringLiteral("Language model layers."), QStringLiteral("N"), QString::number(d.layers)},
        {QStringLiteral("batch"), QStringLiteral("Samples per optimizer step."), QStringLiteral("N"), QString::number(d.batchSize)},
        {QStringLiteral("lr"), QStringLiteral("Learning rate (all parts)."), QStringLiteral("LR"), QString::number(d.learningRate)},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("Train the demo world's teacher (every family, and writing pairs from the Pseudo "
                                                      "Annotator prompts) and student (never sees the text family) with MPA Studio's own "
                                                      "trainer; writes OUT/teacher and OUT/student as Qwen2-VL model folders.")))
        return 0;
    const QStringList p = requirePositional(parser, 2, 2, synopsis);
    demo::DemoModelOptions o;
    o.seed = parser.value(QStringLiteral("seed")).toULongLong();
    o.imagesPerFamily = intOption(parser, QStringLiteral("images"), 1);
    o.teacherSteps = intOption(parser, QStringLiteral("teacher-steps"), 1);
    o.studentSteps = intOption(parser, QStringLiteral("student-steps"), 1);
    o.hiddenSize = intOption(parser, QStringLiteral("hidden"), 16);
    o.layers = intOption(parser, QStringLiteral("layers"), 1);
    o.batchSize = intOption(parser, QStringLiteral("batch"), 1);
    o.learningRate = parser.value(QStringLiteral("lr")).toDouble();
    if (o.hiddenSize % 16 != 0)
        throw UsageError{QStringLiteral("--hidden must be a multiple of 16 (head size 16)")};
    const demo::DemoModelReport r = demo::trainDemoModels(p.at(1), o, stderrProgress());
    out() << "teacher: " << r.teacherDir << " (" << r.teacherParameters << " parameters, " << r.teacherSamples << " training records, last loss "
          << r.teacherLastLoss << ")\n"
          << "student: " << r.studentDir << " (" << r.studentParameters << " parameters, " << r.studentSamples << " training records, last loss "
          << r.studentLastLoss << ")\n"
          << "took " << qRound(r.seconds) << " s\n";
    return 0;
}

int demoRun(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("demo run WS [--models DIR] [--seed N] [--pool N] [--test N] [--no-comparisons]");
    const demo::DemoLoopOptions d;
    parser.addOptions({
        {QStringLiteral("models"), QStringLiteral("Folder with teacher/ and student/ (default: the shipped demo models)."), QStringLiteral("DIR")},
        {QStringLiteral("seed"), QStringLiteral("The world's seed (1)."), QStringLiteral("N"), QStringLiteral("1")},
        {QStringLiteral("pool"), QStringLiteral("Unlabeled images per family."), QStringLiteral("N"), QString::number(d.poolPerFamily)},
        {QStringLiteral("test"), QStringLiteral("Labeled test questions per family."), QStringLiteral("N"), QString::number(d.testPerFamily)},
        {QStringLiteral("epochs"), QStringLiteral("Alignment epochs."), QStringLiteral("N"), QString::number(d.alignEpochs)},
        {QStringLiteral("lr"), QStringLiteral("Alignment learning rate (all parts)."), QStringLiteral("LR"), QString::number(d.alignLearningRate)},
        {QStringLiteral("no-comparisons"), QStringLiteral("Align on the approved gaps only (skip training on all pairs and on a random subset).")},
        {QStringLiteral("no-review"), QStringLiteral("Approve every gap unread (instead of the scripted review that rejects garbled questions).")},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("The whole MPA loop on a new demo workspace: create the world, annotate the pool "
                                                      "with the teacher, identify gaps against the student, a scripted review (gaps "
                                                      "approved, pairs neither model confirms rejected), evaluate both, align the student "
                                                      "and evaluate it; with the paper's comparisons. Then prints `demo report`.")))
        return 0;
    const QStringList p = requirePositional(parser, 2, 2, synopsis);
    demo::DemoLoopOptions o;
    o.modelsDir = parser.value(QStringLiteral("models"));
    o.seed = parser.value(QStringLiteral("seed")).toULongLong();
    o.poolPerFamily = intOption(parser, QStringLiteral("pool"), 1);
    o.testPerFamily = intOption(parser, QStringLiteral("test"), 1);
    o.alignEpochs = intOption(parser, QStringLiteral("epochs"), 1);
    o.alignLearningRate = parser.value(QStringLiteral("lr")).toDouble();
    o.comparisons = !parser.isSet(QStringLiteral("no-comparisons"));
    o.review = !parser.isSet(QStringLiteral("no-review"));
    const store::Workspace ws = store::Workspace::create(p.at(1));
    demo::runDemoLoop(ws, o, stderrProgress());
    out() << demo::formatDemoReport(demo::demoReport(ws));
    return 0;
}

int demoReport(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("demo report WS");
    if (!parse(parser, args, synopsis, QStringLiteral("The demo world's results from the workspace's runs: teacher, student before, "
                                                      "after MPA and the comparisons, per family, with each model's training samples.")))
        return 0;
    const QStringList p = requirePositional(parser, 2, 2, synopsis);
    out() << demo::formatDemoReport(demo::demoReport(openForReading(p.at(1))));
    return 0;
}

} // namespace

int cmdDemo(const QStringList &args)
{
    const QString sub = args.size() > 1 ? args.at(1) : QString();
    if (sub == QLatin1String("create"))
        return demoCreate(args);
    if (sub == QLatin1String("train-models"))
        return demoTrainModels(args);
    if (sub == QLatin1String("run"))
        return demoRun(args);
    if (sub == QLatin1String("report"))
        return demoReport(args);
    if (sub == QLatin1String("--help") || sub == QLatin1String("-h") || sub.isEmpty()) {
        out() << "usage: mpa demo create WS | train-models OUT | run WS | report WS   (each with --help)\n"
                 "  create WS          the synthetic world: unlabeled pool and labeled test splits\n"
                 "  train-models OUT   train the demo teacher and student models with MPA Studio's trainer\n"
                 "  run WS             the whole MPA loop on a new demo workspace, then the report\n"
                 "  report WS          teacher, student before/after MPA and the comparisons, per family\n";
        return sub.isEmpty() ? 2 : 0;
    }
    throw UsageError{QStringLiteral("unknown demo command \"%1\" (create, train-models, run, report)").arg(sub)};
}

} // namespace mpa::cli
