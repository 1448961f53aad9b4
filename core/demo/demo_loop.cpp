#include "demo/demo_loop.h"

#include "backends/vlm_backend.h"
#include "datasets/synthetic_world.h"
#include "demo/demo_models.h"
#include "demo/demo_presets.h"
#include "demo/demo_report.h"
#include "pipeline/evaluator.h"
#include "pipeline/parity_identifier.h"
#include "pipeline/parity_leveler.h"
#include "pipeline/pseudo_annotator.h"
#include "store/review_journal.h"
#include "store/sql_util.h"
#include "util/error.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>

namespace mpa::demo {

namespace {

// Progress of the whole loop: each step gets a share of one bar.
struct Steps
{
    const ProgressFn &progress;
    qint64 total;
    qint64 done = 0;
    qint64 shown = 0; // never goes back (the identifier counts each model's pass from zero)
    ProgressFn step(const QString &what, qint64 weight)
    {
        const qint64 base = done;
        done += weight;
        return [this, base, weight, what](qint64 d, qint64 t, const QString &) {
            shown = std::max(shown, base + (t > 0 ? std::min(weight, weight * d / t) : 0));
            return reportProgress(progress, shown, total, what);
        };
    }
};

} // namespace

ScriptedReview scriptedReview(const store::Workspace &ws, bool readQuestions)
{
    QSqlDatabase db = ws.connection();
    QSet<QString> wellFormed;
    for (QString q : datasets::syntheticQuestions())
        wellFormed.insert(q.remove(QLatin1Char('?')).toLower());
    QList<qint64> approve, reject;
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT id, outcome, COALESCE(reviewed_question, question) FROM samples "
                                                 "WHERE review_state = 'pending' AND outcome IN ('gap', 'both_wrong') ORDER BY id"));
    while (q.next()) {
        const bool gap = q.value(1).toString() == QLatin1String("gap");
        const bool readable = !readQuestions || wellFormed.contains(q.value(2).toString().trimmed().toLower());
        (gap && readable ? approve : reject) << q.value(0).toLongLong();
    }
    store::ReviewJournal journal(ws);
    journal.recordMany(approve, store::Decision::Approve, QStringLiteral("demo script: a gap with a well-formed question"));
    journal.recordMany(reject, store::Decision::Reject, QStringLiteral("demo script: garbled question, or no model gives the pseudo answer"));
    return {approve.size(), reject.size()};
}

void runDemoLoop(const store::Workspace &ws, const DemoLoopOptions &o, const ProgressFn &progress)
{
    const QString models = o.modelsDir.isEmpty() ? findShippedDemoModels() : o.modelsDir;
    if (models.isEmpty())
        throw Error(QStringLiteral("no demo models found (resources/demo/models); create them with `mpa demo train-models DIR`"));
    const QString teacherDir = QDir(models).filePath(QStringLiteral("teacher"));
    const QString studentDir = QDir(models).filePath(QStringLiteral("student"));
    for (const QString &d : {teacherDir, studentDir})
        if (!QFileInfo::exists(QDir(d).filePath(QStringLiteral("config.json"))))
            throw Error(QStringLiteral("%1: not a model folder (no config.json)").arg(d));

    const QStringList families = datasets::syntheticFamilies();
    const int variants = o.comparisons ? 3 : 1;
    // Shares of the progress bar: world 10, annotate 3 x 10, identify 30, teacher and student
    // evaluations 2 x 3 x 2, then per alignment 40 and its evaluation 3 x 3.
    Steps steps{progress, 10 + 30 + 30 + 12 + variants * (40 + 9)};

    datasets::DemoWorldOptions world;
    world.seed = o.seed;
    world.poolPerFamily = o.poolPerFamily;
    world.testPerFamily = o.testPerFamily;
    datasets::createDemoWorld(ws, world, steps.step(QStringLiteral("demo world"), 10));

    const backends::NativeBackendOptions bo = demoBackendOptions();
    {
        auto teacher = backends::makeNativeBackend(teacherDir, bo);
        for (const QString &family : families) {
            pipeline::AnnotateParams a = pipeline::AnnotateParams::fromJson(demoRunSettings(jobs::JobKind::Annotate));
            a.task = family;
            a.images = QStringLiteral("*/pool/%1/*").arg(family);
            pipeline::runPseudoAnnotator(ws, *teacher, teacherDir, a, steps.step(QStringLiteral("annotate ") + family, 10));
        }
        auto student = backends::makeNativeBackend(studentDir, bo);
        const pipeline::IdentifyParams ip = pipeline::IdentifyParams::fromJson(demoRunSettings(jobs::JobKind::Identify));
        pipeline::runParityIdentifier(ws, *teacher, teacherDir, *student, studentDir, ip, steps.step(QStringLiteral("identify"), 30));
        scriptedReview(ws, o.review);
    }

    auto evaluate = [&](const QString &dir, qint64 weightPerBenchmark) {
        auto model = backends::makeNativeBackend(dir, bo);
        for (const QString &family : families) {
            pipeline::EvaluateParams e = pipeline::EvaluateParams::fromJson(demoRunSettings(jobs::JobKind::Evaluate));
            e.dataset = QStringLiteral("demo-") + family;
            e.split = QStringLiteral("test");
            e.metric = demoMetricFor(family);
            pipeline::runEvaluation(ws, *model, dir, e, steps.step(QStringLiteral("evaluate ") + QFileInfo(dir).fileName(), weightPerBenchmark));
        }
    };
    evaluate(teacherDir, 2);
    evaluate(studentDir, 2);

    QSqlDatabase db = ws.connection();
    if (store::scalar(db, QStringLiteral("SELECT count(*) FROM samples WHERE outcome = 'gap' AND review_state = 'approved'")).toLongLong() == 0)
        throw Error(QStringLiteral("%1: the Parity Identifier found no knowledge gap, so there is nothing to align on").arg(ws.root()));
    QStringList selections{QStringLiteral("approved-gaps")};
    if (o.comparisons)
        selections << QStringLiteral("all") << QStringLiteral("random");
    for (const QString &selection : selections) {
        // demoRunSettings: lr 3e-4 x 20 epochs, batch 16, the demo image budget, instructed
        // prompt; the options override what a test shrinks.
        pipeline::AlignParams p = pipeline::AlignParams::fromJson(demoRunSettings(jobs::JobKind::Align));
        p.selection = selection;
        p.seed = o.seed;
        p.lrLlm = p.lrMerger = p.lrVision = o.alignLearningRate;
        p.epochs = o.alignEpochs;
        p.batchSize = o.batchSize;
        p.name = jobs::defaultRunName(jobs::JobKind::Align, p.toJson());
        pipeline::AlignResult result;
        pipeline::runParityLeveler(ws, studentDir, p, steps.step(QStringLiteral("align on ") + selection, 40), 0, &result);
        evaluate(result.finalModelDir, 3);
    }
}

} // namespace mpa::demo
