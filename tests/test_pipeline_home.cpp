// The pipeline home, followed as a newcomer would: the start screen without a workspace, then
// an empty workspace through Import, Pseudo-annotate, Identify, Review, Align and Evaluate on
// the demo world with the demo models (small settings), the launchers' Demo world preset
// configuring every run; after each stage the home's counts equal the workspace's and the next
// action moves on. And an export from the Export dialog re-imports losslessly.
#include "datasets/importer.h"
#include "datasets/synthetic_world.h"
#include "demo/demo_loop.h"
#include "demo/demo_models.h"
#include "export_dialog.h"
#include "job_launcher.h"
#include "jobs/configured_job.h"
#include "jobs/job_runner.h"
#include "main_window.h"
#include "option_field.h"
#include "pipeline_home.h"
#include "image_detail.h"
#include "image_grid.h"
#include "prompt_editor.h"
#include "sample_list_model.h"
#include "pipeline/task_prompts.h"
#include "review_view.h"
#include "run_dashboard.h"
#include "row_table_model.h"
#include "store/rows.h"
#include "store/sql_util.h"
#include "test_support.h"

#include "store/change_watcher.h"

#include <QComboBox>
#include <QLabel>
#include <QTextBrowser>
#include <QHeaderView>
#include <QTableView>
#include <QDir>
#include <QPushButton>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace mpa;
using store::PipelineStage;

class TestPipelineHome : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void startScreenWithoutAWorkspace();
    void walkthroughFromEmptyToEvaluatedAlignment();
    void promptEditorAndEmptyStates();
};

namespace {

qint64 count(const store::Workspace &ws, const QString &sql)
{
    QSqlDatabase db = ws.connection();
    return store::scalar(db, sql).toLongLong();
}

// Runs one job the way the desktop launches it: the launcher's Demo world preset, the given
// fields, then the runner; waits for it to finish.
void launchAndWait(ui::MainWindow &window, jobs::JobKind kind, const QMap<QString, QString> &fields)
{
    ui::JobLauncherDialog dialog(*window.workspace(), kind);
    auto *preset = dialog.findChild<QComboBox *>(QStringLiteral("preset"));
    preset->setCurrentIndex(1); // Demo world
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        QVERIFY2(dialog.field(it.key()), qPrintable(it.key()));
        dialog.field(it.key())->setText(it.value());
    }
    const QJsonObject config = jobs::resolvedConfiguration(kind, dialog.configuration());
    QString why = ui::launchRefusal(*window.workspace(), kind, config);
    QVERIFY2(why.isEmpty(), qPrintable(why));
    bool finished = false, ok = false;
    QString message;
    QMetaObject::Connection c = QObject::connect(window.jobRunner(), &jobs::JobRunner::jobFinished, &window,
                                                 [&](int, bool success, bool, const QString &m, qint64) {
                                                     finished = true;
                                                     ok = success;
                                                     message = m;
                                                 });
    window.enqueueJob(config.value(QStringLiteral("name")).toString(), [kind, config](const store::Workspace &ws, const ProgressFn &progress) {
        return jobs::runConfiguredJob(ws, kind, config, 0, progress);
    });
    QTRY_VERIFY_WITH_TIMEOUT(finished, 300000);
    QObject::disconnect(c);
    QVERIFY2(ok, qPrintable(message));
}

} // namespace

void TestPipelineHome::startScreenWithoutAWorkspace()
{
    ui::MainWindow window;
    auto *tabs = window.findChild<QTabWidget *>();
    QCOMPARE(tabs->currentWidget(), window.home());
    QVERIFY(window.home()->isStartScreen());
    for (const char *b : {"start-new", "start-open", "start-demo"})
        QVERIFY2(window.home()->findChild<QPushButton *>(QLatin1String(b)), b);
}

void TestPipelineHome::walkthroughFromEmptyToEvaluatedAlignment()
{
    const QString models = demo::findShippedDemoModels();
    if (models.isEmpty())
        QSKIP("no shipped demo models (resources/demo/models)");
    const QString teacher = QDir(models).filePath(QStringLiteral("teacher")), student = QDir(models).filePath(QStringLiteral("student"));
    QTemporaryDir tmp;
    ui::MainWindow window;
    QVERIFY(window.openWorkspace(tmp.filePath(QStringLiteral("walk.mpaw")), true));
    ui::PipelineHome *home = window.home();
    QVERIFY(!home->isStartScreen());
    auto *next = home->findChild<QPushButton *>(QStringLiteral("next-action"));
    const store::Workspace ws = *window.workspace();
    auto nextIs = [&](PipelineStage stage) { return home->progress().next() == stage; };
    QTRY_VERIFY(nextIs(PipelineStage::Import));
    QCOMPARE(next->text(), QStringLiteral("Import image folder…"));
    QVERIFY(home->stageText(PipelineStage::Import).startsWith(QLatin1String("0 unlabeled images")));

    // 1. Import: the demo world (unlabeled pool and labeled benchmarks).
    window.enqueueJob(QStringLiteral("demo world"), [](const store::Workspace &w, const ProgressFn &progress) {
        datasets::DemoWorldOptions o;
        o.poolPerFamily = 8;
        o.testPerFamily = 6;
        datasets::createDemoWorld(w, o, progress);
        return pipeline::JobSummary{};
    });
    QTRY_COMPARE_WITH_TIMEOUT(home->progress().poolImages, 24, 60000);
    QTRY_VERIFY(nextIs(PipelineStage::Annotate));
    QCOMPARE(home->progress().benchmarkImages, count(ws, QStringLiteral("SELECT count(DISTINCT image_id) FROM benchmark_items")));
    QVERIFY(home->stageText(PipelineStage::Import).startsWith(QLatin1String("24 unlabeled images")));

    // The Images table sorts by a header click (path, descending), paging through the whole set.
    {
        auto *tabs = window.findChild<QTabWidget *>();
        auto *images = qobject_cast<QTableView *>(tabs->widget(2));
        QVERIFY(images);
        images->horizontalHeader()->setSortIndicator(1, Qt::DescendingOrder);
        QCOMPARE(window.imageTable()->sortColumn(), 1);
        QSqlDatabase db = ws.connection();
        QCOMPARE(window.imageTable()->value(0, 1).toString(), store::scalar(db, QStringLiteral("SELECT max(path) FROM images")).toString());
        while (window.imageTable()->canFetchMore({}))
            window.imageTable()->fetchMore({});
        QCOMPARE(window.imageTable()->rowCount(), count(ws, QStringLiteral("SELECT count(*) FROM images")));
        QStringList paths;
        for (int r = 0; r < window.imageTable()->rowCount(); ++r)
            paths << window.imageTable()->value(r, 1).toString();
        QStringList expected = paths;
        std::sort(expected.begin(), expected.end(), std::greater<>());
        QCOMPARE(paths, expected);
        QCOMPARE(QSet<QString>(paths.begin(), paths.end()).size(), paths.size()); // OFFSET paging: no row twice
        images->horizontalHeader()->setSortIndicator(0, Qt::AscendingOrder);
    }

    // 2. Pseudo-annotate each family with its task, as the demo does.
    for (const QString &family : datasets::syntheticFamilies())
        launchAndWait(window, jobs::JobKind::Annotate, {{QStringLiteral("model"), teacher}, {QStringLiteral("task"), family},
                                                        {QStringLiteral("images"), QStringLiteral("*/pool/%1/*").arg(family)}});
    QTRY_COMPARE_WITH_TIMEOUT(home->progress().pseudoPairs + home->progress().parseFailures, 24, 30000);
    QVERIFY(nextIs(PipelineStage::Identify));
    QCOMPARE(home->progress().pseudoPairs, count(ws, QStringLiteral("SELECT count(*) FROM samples WHERE parse_status = 'ok'")));
    QCOMPARE(home->progress().pairsByTask.size(), 3);

    // 3. Identify.
    launchAndWait(window, jobs::JobKind::Identify, {{QStringLiteral("large"), teacher}, {QStringLiteral("small"), student}});
    QTRY_VERIFY_WITH_TIMEOUT(home->progress().identified() == home->progress().pseudoPairs, 30000);
    const qint64 gaps = count(ws, QStringLiteral("SELECT count(*) FROM samples WHERE outcome = 'gap'"));
    QCOMPARE(home->progress().outcomes.value(QStringLiteral("gap")), gaps);
    QVERIFY2(gaps > 0, "the demo teacher finds knowledge gaps of the demo student");
    QVERIFY(nextIs(PipelineStage::Review));
    QVERIFY(home->stageText(PipelineStage::Identify).contains(QStringLiteral("%1 knowledge gaps").arg(gaps)));

    // The Browser: pool vs benchmark images with a match count; an image opens with its
    // samples and verdicts, and its samples open in Review.
    window.showView(QStringLiteral("browser"));
    auto *dataset = window.findChild<QComboBox *>(QStringLiteral("dataset-filter"));
    auto *matches = window.findChild<QLabel *>(QStringLiteral("matches"));
    dataset->setCurrentIndex(dataset->findData(QStringLiteral("pool")));
    QTRY_COMPARE(matches->text(), QStringLiteral("24 image(s)"));
    dataset->setCurrentIndex(dataset->findData(QStringLiteral("demo-text")));
    QTRY_COMPARE(matches->text(), QStringLiteral("%1 image(s)").arg(count(ws, QStringLiteral("SELECT count(DISTINCT image_id) FROM benchmark_items WHERE dataset = 'demo-text'"))));
    dataset->setCurrentIndex(dataset->findData(QStringLiteral("pool")));
    auto *grid = window.findChild<ui::ImageGridView *>();
    QTRY_VERIFY(grid->model()->rowCount() > 0);
    const QModelIndex first = grid->model()->index(0, 0);
    const qint64 imageId = first.data(ui::ImageGridModel::ImageIdRole).toLongLong();
    Q_EMIT grid->activated(first);
    ui::ImageDetailDialog *detail = window.findChild<ui::ImageDetailDialog *>();
    QVERIFY(detail);
    QCOMPARE(detail->sampleCount(), count(ws, QStringLiteral("SELECT count(*) FROM samples WHERE image_id = %1").arg(imageId)));
    detail->findChild<QPushButton *>(QStringLiteral("review-image"))->click();
    QCOMPARE(window.reviewView()->imageFilter(), imageId);
    QTRY_COMPARE(window.reviewView()->model()->totalCount(), count(ws, QStringLiteral("SELECT count(*) FROM samples WHERE image_id = %1").arg(imageId)));
    window.reviewView()->showSamplesOfImage(0);

    // 4. Review: the demo's scripted reviewer (reads the questions, approves well-formed gaps).
    const demo::ScriptedReview review = demo::scriptedReview(ws);
    QVERIFY(review.approved > 0);
    // Written on this thread's connection, which the change watcher does not see (SQLite's
    // data_version counts other connections' commits); the Review view signals its own writes.
    home->refresh();
    QTRY_VERIFY_WITH_TIMEOUT(nextIs(PipelineStage::Align), 30000);
    QCOMPARE(home->progress().approvedGaps, review.approved);
    QCOMPARE(home->progress().reviewed, review.approved + review.rejected);
    // Verdicts are explained: readable outcomes in the Samples table, a legend, the criterion
    // and which model was right in the inspector.
    QVERIFY(window.reviewView()->findChild<QLabel *>(QStringLiteral("legend"))->text().contains(QLatin1String("Only approved knowledge gaps train by default")));
    QTRY_VERIFY(window.sampleTable()->rowCount() == 24);
    QStringList outcomes;
    for (int r = 0; r < window.sampleTable()->rowCount(); ++r)
        outcomes << window.sampleTable()->index(r, 6).data().toString();
    QVERIFY2(outcomes.contains(QStringLiteral("knowledge gap")), qPrintable(outcomes.join(QLatin1Char(','))));
    QVERIFY(!outcomes.contains(QStringLiteral("gap")) && !outcomes.contains(QStringLiteral("both_right")));
    window.showView(QStringLiteral("review"));
    auto *details = window.reviewView()->findChild<QTextBrowser *>();
    QTRY_VERIFY(details->toPlainText().contains(QLatin1String("Criterion: MPA substring match")));

    // 5. Align on the approved gaps with the demo's settings (fewer epochs).
    launchAndWait(window, jobs::JobKind::Align, {{QStringLiteral("model"), student}, {QStringLiteral("epochs"), QStringLiteral("2")}});
    QTRY_VERIFY_WITH_TIMEOUT(nextIs(PipelineStage::Evaluate), 30000);
    QCOMPARE(home->progress().alignmentRuns, 1);
    // The run and its checkpoint carry a name that says what it was trained on.
    QString runName;
    {
        QSqlDatabase db = ws.connection();
        runName = store::scalar(db, QStringLiteral("SELECT name FROM runs WHERE kind = 'align'")).toString();
    }
    QVERIFY2(runName == QStringLiteral("align approved-gaps · lr 3e-4 × 2 · instructed"), qPrintable(runName));
    const QString checkpoint = QDir(ws.root() + QStringLiteral("/runs")).entryList({QStringLiteral("run-*")}, QDir::Dirs).value(0);
    QVERIFY(!checkpoint.isEmpty());
    // The Runs view's detail panel: settings, final metrics, checkpoints, the runs it came from.
    window.showView(QStringLiteral("runs"));
    QTRY_VERIFY(window.runDashboard()->detailText().contains(runName));
    for (const char *part : {"Final metrics", "train_samples", "Checkpoints", "checkpoint-", "Came from", "identify", "lr_llm: 0.0003"})
        QVERIFY2(window.runDashboard()->detailText().contains(QLatin1String(part)), part);

    // 6. Evaluate the aligned model on a demo benchmark with its official metric.
    const QString aligned = QDir(ws.root() + QStringLiteral("/runs/") + checkpoint).absoluteFilePath(
        QDir(ws.root() + QStringLiteral("/runs/") + checkpoint).entryList({QStringLiteral("checkpoint-*")}, QDir::Dirs).value(0));
    launchAndWait(window, jobs::JobKind::Evaluate, {{QStringLiteral("model"), aligned}, {QStringLiteral("dataset"), QStringLiteral("demo-knowledge")}});
    QTRY_VERIFY_WITH_TIMEOUT(nextIs(PipelineStage::Done), 30000);
    QCOMPARE(home->progress().evaluations, 1);
    {
        QSqlDatabase db = ws.connection();
        const QString evalName = store::scalar(db, QStringLiteral("SELECT name FROM runs WHERE kind = 'evaluate'")).toString();
        QVERIFY2(evalName.contains(runName), qPrintable(evalName)); // the model is named after its run, not "checkpoint-…"
        QCOMPARE(store::scalar(db, QStringLiteral("SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.kind = 'evaluate' AND m.name = 'mpa'")).toInt(), 1);
    }
    QCOMPARE(next->text(), QStringLiteral("Compare evaluations"));

    // Export from the dialog (JSONL, every sample) and re-import into a fresh workspace.
    ui::ExportDialog dialog(ws);
    dialog.setFormat(datasets::ExportFormat::Jsonl);
    dialog.setSelection(datasets::ExportSelection::All);
    const QString out = tmp.filePath(QStringLiteral("all.jsonl"));
    dialog.setOutputPath(out);
    const qint64 written = datasets::exportWorkspace(ws, dialog.outputPath(), dialog.options());
    QCOMPARE(written, count(ws, QStringLiteral("SELECT count(*) FROM samples")));
    const store::Workspace copy = store::Workspace::create(tmp.filePath(QStringLiteral("copy.mpaw")));
    datasets::Importer(copy).importJsonl(out, {});
    auto pairs = [](const store::Workspace &w) {
        QSqlDatabase db = w.connection();
        QStringList rows;
        for (const QVariantList &r : store::readRows(db, QStringLiteral("SELECT task, question, answer, parse_status, review_state, "
                                                                        "COALESCE(outcome, '') FROM samples")).rows) {
            QStringList cells;
            for (const QVariant &v : r)
                cells << v.toString();
            rows << cells.join(QLatin1Char('|'));
        }
        rows.sort();
        return rows;
    };
    QCOMPARE(pairs(copy), pairs(ws));
}

void TestPipelineHome::promptEditorAndEmptyStates()
{
    QTemporaryDir tmp;
    ui::MainWindow window;
    window.resize(1024, 700);
    window.show();
    QVERIFY(window.openWorkspace(tmp.filePath(QStringLiteral("p.mpaw")), true));
    const store::Workspace ws = *window.workspace();
    // Empty views say what to do.
    window.showView(QStringLiteral("samples"));
    QLabel *empty = nullptr;
    for (QLabel *l : window.findChildren<QLabel *>(QStringLiteral("empty-state")))
        if (l->isVisible())
            empty = l;
    QVERIFY(empty);
    QVERIFY2(empty->text().contains(QLatin1String("No samples yet")), qPrintable(empty->text()));
    // The prompt editor: edit and save per task, reset to the official prompt, preview the parse.
    ui::PromptEditorDialog editor(ws);
    editor.setTask(QStringLiteral("chart"));
    QCOMPARE(editor.promptText(), pipeline::builtInPrompt(QStringLiteral("chart")));
    editor.setPromptText(QStringLiteral("Ask one question about the chart. Question: ...? Answer: ..."));
    QVERIFY(editor.save());
    QCOMPARE(pipeline::taskPrompt(ws, QStringLiteral("chart")), QStringLiteral("Ask one question about the chart. Question: ...? Answer: ..."));
    QCOMPARE(pipeline::taskPrompt(ws, QStringLiteral("text")), pipeline::builtInPrompt(QStringLiteral("text"))); // untouched
    editor.resetToOfficial();
    QVERIFY(editor.save());
    QCOMPARE(pipeline::taskPrompt(ws, QStringLiteral("chart")), pipeline::builtInPrompt(QStringLiteral("chart")));
    editor.setSampleOutput(QStringLiteral("Question: What is the highest bar? Answer: B"));
    QVERIFY2(editor.parsePreview().contains(QLatin1String("\"What is the highest bar\"")), qPrintable(editor.parsePreview()));
    editor.setSampleOutput(QStringLiteral("The chart shows bars."));
    QVERIFY(editor.parsePreview().startsWith(QLatin1String("Does not parse")));
}

QTEST_MAIN(TestPipelineHome)
#include "test_pipeline_home.moc"
