// The review and run views, offscreen: the sample model pages through 100,000 rows, the
// keyboard review flow with undo/redo commits every decision at once (a second connection sees
// them, as a restarted app would), filters, a chart fed by a running job, the debiased EMA, and
// the alignment launcher's refusal.
#include "datasets/importer.h"
#include "backends/torch_runtime.h"
#include "ema.h"
#include "evaluation_view.h"
#include "image_pane.h"
#include "models_view.h"
#include "job_launcher.h"
#include "image_grid.h"
#include "thumbnail_cache.h"
#include "main_window.h"
#include "review_view.h"
#include "run_dashboard.h"
#include "sample_list_model.h"
#include "store/catalog.h"
#include "store/change_watcher.h"
#include "store/review_journal.h"
#include "store/sql_util.h"
#include "test_support.h"

#include <QDirIterator>
#include <QJsonObject>
#include <QComboBox>
#include <QListView>
#include <QStandardItemModel>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QtTest>
#include <qcustomplot.h>

using namespace mpa;

namespace {

// n samples on one image; every third one a gap.
void fill(const store::Workspace &ws, int n)
{
    QSqlDatabase db = ws.connection();
    store::Transaction tx(db, QStringLiteral("test data"));
    store::exec(db, QStringLiteral("INSERT INTO images(id, path, status, added_at) VALUES(1, '/x.jpg', 'missing', 0)"));
    store::exec(db, QStringLiteral("INSERT INTO runs(id, kind, status, created_at) VALUES(1, 'identify', 'finished', 0)"));
    store::exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < %1) "
                                   "INSERT INTO samples(id, image_id, task, question, answer, parse_status, source, source_key, created_at, outcome) "
                                   "SELECT v, 1, 'text', 'question ' || v, 'answer ' || v, 'ok', 't', v, 0, "
                                   "CASE v % 3 WHEN 0 THEN 'gap' ELSE 'both_right' END FROM n").arg(n));
    tx.commit();
}

} // namespace

class TestReviewUi : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void modelPagesThroughAHundredThousandRows();
    void keyboardReviewWithUndoSurvivesRestart();
    void filtersAndBulkDecisions();
    void chartFollowsARunningJob();
    void emaIsDebiased();
    void launcherRefusesWithTheReason();
    void imageGridPagesBadgesAndThumbnails();
    void imageGridFiltersByTaskAnnotatorAndText();
    void launchRefusalsNameTheReason();
    void evaluationViewAndFlipTable();
    void modelsViewValidatesBeforeRegistering();
};

void TestReviewUi::modelPagesThroughAHundredThousandRows()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    fill(ws, 100000);
    ui::SampleListModel model;
    model.setWorkspace(ws);
    QCOMPARE(model.totalCount(), 100000);
    QCOMPARE(model.rowCount(), ui::SampleListModel::kPageSize); // only the first page is read
    QVERIFY(model.canFetchMore({}));
    while (model.canFetchMore({}))
        model.fetchMore({});
    QCOMPARE(model.rowCount(), 100000);
    QCOMPARE(model.rowAt(99999)->id, 100000);
    store::SampleFilter gaps;
    gaps.outcome = QStringLiteral("gap");
    model.setFilter(gaps);
    QCOMPARE(model.totalCount(), 33333);
    QCOMPARE(model.data(model.index(0), ui::SampleListModel::OutcomeRole).toString(), QStringLiteral("gap"));
    // Gaps first, then the rest, paging by offset across pages.
    store::SampleFilter ordered;
    ordered.order = QStringLiteral("gaps-first");
    model.setFilter(ordered);
    while (model.rowCount() < 33400 && model.canFetchMore({}))
        model.fetchMore({});
    QCOMPARE(model.data(model.index(33332), ui::SampleListModel::OutcomeRole).toString(), QStringLiteral("gap"));
    QCOMPARE(model.data(model.index(33333), ui::SampleListModel::OutcomeRole).toString(), QStringLiteral("both_right"));
}

void TestReviewUi::keyboardReviewWithUndoSurvivesRestart()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    fill(ws, 6);
    ui::ReviewView view;
    view.setWorkspace(ws);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    auto *list = view.findChild<QListView *>();
    list->setFocus();
    QCOMPARE(view.currentSampleId(), 1);
    QTest::keyClick(list, Qt::Key_A);           // 1 approved, move to 2
    QCOMPARE(view.currentSampleId(), 2);
    QTest::keyClick(list, Qt::Key_R);           // 2 rejected, move to 3
    QTest::keyClick(list, Qt::Key_J);           // skip 3
    QTest::keyClick(list, Qt::Key_A);           // 4 approved
    QTest::keyClick(list, Qt::Key_K);           // back to 4
    QCOMPARE(view.currentSampleId(), 4);
    QTest::keyClick(&view, Qt::Key_Z, Qt::ControlModifier);                      // undo 4
    QTest::keyClick(&view, Qt::Key_Z, Qt::ControlModifier);                      // undo 2
    QTest::keyClick(&view, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);  // redo 2
    QVERIFY2(view.countsText().contains(QString::fromUtf8("1 approved · 1 rejected")), qPrintable(view.countsText()));
    // A fresh handle (a restarted app) sees every decision: each was committed at once.
    const store::Workspace again = store::Workspace::open(ws.root());
    store::ReviewJournal journal(again);
    QCOMPARE(journal.currentState(1), QStringLiteral("approved"));
    QCOMPARE(journal.currentState(2), QStringLiteral("rejected"));
    QCOMPARE(journal.currentState(3), QStringLiteral("pending"));
    QCOMPARE(journal.currentState(4), QStringLiteral("pending"));
    QCOMPARE(journal.history(2).size(), 3); // reject, undo (clear), redo (reject): nothing erased
}

void TestReviewUi::filtersAndBulkDecisions()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    fill(ws, 30);
    ui::ReviewView view;
    view.setWorkspace(ws);
    store::SampleFilter gaps;
    gaps.outcome = QStringLiteral("gap");
    view.model()->setFilter(gaps);
    view.decideAllFiltered(store::Decision::Approve);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("review_state = 'approved'")), 10);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("review_state = 'approved' AND outcome != 'gap'")), 0);
}

void TestReviewUi::chartFollowsARunningJob()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    store::Catalog c(ws);
    const qint64 run = c.createRun(store::RunKind::Align, QStringLiteral("live"), {});
    for (int s = 1; s <= 5; ++s)
        c.addMetric(run, QStringLiteral("loss"), s, 3.0 - 0.1 * s);
    ui::RunDashboard dash;
    dash.setWorkspace(ws);
    dash.showRuns({run});
    QCOMPARE(dash.pointCount(run), 5);
    // The job keeps writing from another thread; the dashboard picks up only the new rows.
    QThread *job = QThread::create([ws, run] {
        store::Catalog worker(ws);
        for (int s = 6; s <= 12; ++s)
            worker.addMetric(run, QStringLiteral("loss"), s, 3.0 - 0.1 * s);
        ws.releaseThreadConnection();
    });
    job->start();
    job->wait();
    delete job;
    dash.refresh();
    QCOMPARE(dash.pointCount(run), 12);
    dash.setSmoothing(0.0);
    QCOMPARE(dash.plot()->graphCount(), 1);
    QCOMPARE(dash.plot()->graph(0)->dataCount(), 12);
    dash.setLogScale(true);
    QTemporaryDir out;
    QVERIFY(dash.exportChart(out.filePath(QStringLiteral("loss.png"))));
    QVERIFY(QFileInfo(out.filePath(QStringLiteral("loss.png"))).size() > 0);
    QVERIFY(dash.exportChart(out.filePath(QStringLiteral("loss.svg"))));
    QFile svg(out.filePath(QStringLiteral("loss.svg")));
    QVERIFY(svg.open(QIODevice::ReadOnly));
    QVERIFY(svg.readAll().contains("<svg"));
    QVERIFY(dash.exportChart(out.filePath(QStringLiteral("loss.pdf"))));

    // Renamed while it runs: on the dashboard's worker, then in the legend and the database;
    // another connection's watcher sees the rename.
    QSqlDatabase db = ws.connection();
    store::ChangeWatcher watcher;
    watcher.setWorkspace(ws);
    quint32 seen = 0;
    connect(&watcher, &store::ChangeWatcher::changed, this, [&seen](quint32 tables) { seen |= tables; });
    QString error = QStringLiteral("pending");
    dash.renameRun(run, QStringLiteral("  lr 1e-5,   approved gaps  "), [&error](const QString &e) { error = e; });
    QCOMPARE(error, QStringLiteral("pending")); // not written on the calling (GUI) thread
    QTRY_VERIFY(error != QLatin1String("pending"));
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QTRY_COMPARE(dash.legendNames(), QStringList{QStringLiteral("lr 1e-5, approved gaps (#%1)").arg(run)});
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT name FROM runs WHERE id = ?"), {run}).toString(), QStringLiteral("lr 1e-5, approved gaps"));
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT status FROM runs WHERE id = ?"), {run}).toString(), QStringLiteral("running"));
    watcher.poll();
    QVERIFY(seen & store::Tables::Runs);
    // Refused, naming the run, with the name kept.
    error = QStringLiteral("pending");
    dash.renameRun(run, QStringLiteral("   "), [&error](const QString &e) { error = e; });
    QTRY_VERIFY(error != QLatin1String("pending"));
    QVERIFY2(error.contains(QStringLiteral("run %1").arg(run)) && error.contains(QLatin1String("empty")), qPrintable(error));
    error = QStringLiteral("pending");
    dash.renameRun(run + 100, QStringLiteral("ghost"), [&error](const QString &e) { error = e; });
    QTRY_VERIFY(error != QLatin1String("pending"));
    QVERIFY2(error.contains(QLatin1String("no such run")), qPrintable(error));
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT name FROM runs WHERE id = ?"), {run}).toString(), QStringLiteral("lr 1e-5, approved gaps"));
}

void TestReviewUi::emaIsDebiased()
{
    // A constant series stays constant from its first point (no pull towards zero).
    const QVector<double> flat = ui::debiasedEma({2.0, 2.0, 2.0, 2.0}, 0.9);
    for (double v : flat)
        QVERIFY(std::abs(v - 2.0) < 1e-12);
    // Hand-computed: beta 0.5 on [1, 3]: s1 = 0.5 -> 1.0; s2 = 0.25 + 1.5 = 1.75 -> 1.75 / 0.75.
    const QVector<double> two = ui::debiasedEma({1.0, 3.0}, 0.5);
    QCOMPARE(two[0], 1.0);
    QVERIFY(std::abs(two[1] - 1.75 / 0.75) < 1e-12);
}

void TestReviewUi::launcherRefusesWithTheReason()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    fill(ws, 6);
    ui::MainWindow window;
    QVERIFY(!window.alignRefusal().isEmpty()); // no workspace
    QVERIFY(window.openWorkspace(ws.root()));
    QVERIFY(window.alignRefusal().contains(QLatin1String("No approved knowledge gaps")));
    store::ReviewJournal(ws).record(3, store::Decision::Approve); // sample 3 is a gap
    QVERIFY2(window.alignRefusal().isEmpty(), qPrintable(window.alignRefusal()));
}

void TestReviewUi::imageGridPagesBadgesAndThumbnails()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    // 100,000 image records (paths that do not exist), plus three real images.
    {
        QSqlDatabase db = ws.connection();
        store::Transaction tx(db, QStringLiteral("test data"));
        store::exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 100000) "
                                       "INSERT INTO images(id, path, status, added_at) SELECT v, '/nowhere/' || v || '.jpg', 'missing', 0 FROM n"));
        tx.commit();
    }
    for (int i = 0; i < 3; ++i)
        test::writeJpeg(tmp.filePath(QStringLiteral("real/%1.jpg").arg(i)), 640, 480, i);
    datasets::Importer(ws).importImageFolder(tmp.filePath(QStringLiteral("real")));
    ui::ThumbnailCache thumbs;
    ui::ImageGridModel model(&thumbs);
    model.setWorkspace(ws);
    QCOMPARE(model.totalCount(), 100003);
    QCOMPARE(model.rowCount(), ui::ImageGridModel::kPageSize);
    QCOMPARE(model.data(model.index(0), ui::ImageGridModel::BadgeRole).toString(), QStringLiteral("missing"));
    model.setBadgeFilter({QStringLiteral("no pair")});
    QCOMPARE(model.totalCount(), 3);
    model.setSortByPath(true);
    QVERIFY(model.data(model.index(0), Qt::DisplayRole).toString() == QStringLiteral("0.jpg"));
    model.setSortByPath(false);
    // Asking for a thumbnail returns at once; it arrives from the worker thread and is cached on disk.
    QSignalSpy ready(&thumbs, &ui::ThumbnailCache::ready);
    QVERIFY(model.data(model.index(0), Qt::DecorationRole).isNull());
    QVERIFY(ready.wait(5000));
    const QPixmap pix = model.data(model.index(0), Qt::DecorationRole).value<QPixmap>();
    QVERIFY(!pix.isNull());
    QVERIFY(pix.width() <= ui::ThumbnailCache::kSize && pix.height() <= ui::ThumbnailCache::kSize);
    QDirIterator it(ws.thumbnailDir(), {QStringLiteral("*.jpg")}, QDir::Files, QDirIterator::Subdirectories);
    QVERIFY(it.hasNext());
}

void TestReviewUi::imageGridFiltersByTaskAnnotatorAndText()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    {
        // Image 1: a text pair from run 1; images 2 and 3: pairs from run 2 (3 is a chart); image 4: none.
        QSqlDatabase db = ws.connection();
        store::Transaction tx(db, QStringLiteral("test data"));
        store::exec(db, QStringLiteral("INSERT INTO images(id, path, status, added_at) VALUES(1, '/1.jpg', 'missing', 0), (2, '/2.jpg', 'missing', 0), "
                                       "(3, '/3.jpg', 'missing', 0), (4, '/4.jpg', 'missing', 0)"));
        store::exec(db, QStringLiteral("INSERT INTO samples(id, image_id, task, question, answer, parse_status, source, source_key, created_at) VALUES"
                                       "(1, 1, 'text', 'What does the sign say?', 'STOP', 'ok', 'pa:run1', '1', 0),"
                                       "(2, 2, 'text', 'What is written?', 'exit', 'ok', 'pa:run2', '2', 0),"
                                       "(3, 3, 'chart', 'Highest bar?', 'Stop', 'ok', 'pa:run2', '3', 0)"));
        tx.commit();
    }
    ui::ThumbnailCache thumbs;
    ui::ImageGridModel model(&thumbs);
    model.setWorkspace(ws);
    QCOMPARE(model.totalCount(), 4);
    model.setSampleFilter({}, QStringLiteral("pa:run2"), {});
    QCOMPARE(model.totalCount(), 2);
    model.setSampleFilter(QStringLiteral("chart"), QStringLiteral("pa:run2"), {});
    QCOMPARE(model.totalCount(), 1);
    QCOMPARE(model.data(model.index(0), Qt::DisplayRole).toString(), QStringLiteral("3.jpg"));
    model.setSampleFilter({}, QStringLiteral("pa:run1"), {});
    QCOMPARE(model.totalCount(), 1);
    model.setSampleFilter({}, QStringLiteral("pa:run9"), {});
    QCOMPARE(model.totalCount(), 0);
    model.setSampleFilter({}, {}, QStringLiteral("stop")); // case-insensitive, question or answer
    QCOMPARE(model.totalCount(), 2);
    model.setSampleFilter({}, QStringLiteral("pa:run1"), QStringLiteral("stop"));
    QCOMPARE(model.totalCount(), 1);
    model.setSampleFilter({}, {}, {});
    QCOMPARE(model.totalCount(), 4);
}

void TestReviewUi::launchRefusalsNameTheReason()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    using jobs::JobKind;
    auto config = [](JobKind kind, const QJsonObject &settings) { return jobs::runConfiguration(kind, {}, settings); };
    QJsonObject a{{QStringLiteral("model"), tmp.filePath(QStringLiteral("nowhere"))}};
    QVERIFY(ui::launchRefusal(ws, JobKind::Annotate, config(JobKind::Annotate, a)).contains(QLatin1String("does not exist")));
    // A folder that is not a model.
    QDir().mkpath(tmp.filePath(QStringLiteral("empty")));
    a.insert(QStringLiteral("model"), tmp.filePath(QStringLiteral("empty")));
    QVERIFY(!ui::launchRefusal(ws, JobKind::Annotate, config(JobKind::Annotate, a)).isEmpty());
    a.insert(QStringLiteral("device"), QStringLiteral("cuda"));
    if (!backends::torchRuntimeInfo().cudaAvailable)
        QVERIFY(ui::launchRefusal(ws, JobKind::Annotate, config(JobKind::Annotate, a)).contains(QLatin1String("CUDA was requested")));
    a.insert(QStringLiteral("device"), QStringLiteral("cpu"));
    if (!test::fixturesDir().isEmpty()) {
        a.insert(QStringLiteral("model"), test::fixture(QStringLiteral("qwen2vl-tiny"))); // no tokenizer.json there
        QVERIFY(ui::launchRefusal(ws, JobKind::Annotate, config(JobKind::Annotate, a)).contains(QLatin1String("tokenizer.json")));
    }
    // An endpoint is checked when the run connects; the workspace still needs images.
    const QString endpoint = QStringLiteral("http://127.0.0.1:9/v1");
    a.insert(QStringLiteral("model"), endpoint);
    QVERIFY(ui::launchRefusal(ws, JobKind::Annotate, config(JobKind::Annotate, a)).contains(QLatin1String("no readable images")));
    QJsonObject i{{QStringLiteral("large_model"), endpoint}, {QStringLiteral("small_model"), endpoint}};
    QVERIFY(ui::launchRefusal(ws, JobKind::Identify, config(JobKind::Identify, i)).contains(QLatin1String("same folder")));
    i.insert(QStringLiteral("small_model"), QStringLiteral("http://127.0.0.1:10/v1"));
    QVERIFY(ui::launchRefusal(ws, JobKind::Identify, config(JobKind::Identify, i)).contains(QLatin1String("no parsed pseudo")));
    QJsonObject al{{QStringLiteral("model"), endpoint}};
    QVERIFY(ui::launchRefusal(ws, JobKind::Align, config(JobKind::Align, al)).contains(QLatin1String("No approved knowledge gaps")));
    // The dialog shows the configuration and disables Launch while refused.
    ui::JobLauncherDialog dialog(ws, ui::JobKind::Align);
    QVERIFY(!dialog.refusal().isEmpty());
    const auto *preview = dialog.findChild<QPlainTextEdit *>();
    QVERIFY(preview->toPlainText().contains(QLatin1String("\"selection\": \"approved-gaps\"")));
    // The GPU preset fills device and precision; without CUDA the launch is refused for that.
    auto *preset = dialog.findChild<QComboBox *>(QStringLiteral("preset"));
    QVERIFY(preset);
    preset->setCurrentIndex(2); // GPU server
    QVERIFY(preview->toPlainText().contains(QLatin1String("\"dtype\": \"bf16\"")));
    if (!backends::torchRuntimeInfo().cudaAvailable)
        QVERIFY(dialog.refusal().contains(QLatin1String("CUDA")));
}

void TestReviewUi::evaluationViewAndFlipTable()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    // A ChartQA-style benchmark of 4 questions and two evaluation runs' predictions.
    test::writeText(tmp.filePath(QStringLiteral("q.json")), R"([{"imgname":"a.png","query":"q1","label":"10"},{"imgname":"b.png","query":"q2","label":"20"},
        {"imgname":"c.png","query":"q3","label":"red"},{"imgname":"d.png","query":"q4","label":"4"}])");
    datasets::Importer(ws).importBenchmark(datasets::BenchmarkFormat::ChartQa, tmp.filePath(QStringLiteral("q.json")), {});
    store::Catalog c(ws);
    QJsonObject params{{QStringLiteral("dataset"), QStringLiteral("chartqa")}, {QStringLiteral("model"), QStringLiteral("/m/student")}};
    const qint64 before = c.createRun(store::RunKind::Evaluate, QStringLiteral("before"), params, store::RunStatus::Finished);
    const qint64 after = c.createRun(store::RunKind::Evaluate, QStringLiteral("after"), params, store::RunStatus::Finished);
    const QStringList b = {QStringLiteral("10"), QStringLiteral("7"), QStringLiteral("blue"), QStringLiteral("4")};
    const QStringList a = {QStringLiteral("10"), QStringLiteral("20"), QStringLiteral("blue"), QStringLiteral("5")};
    for (qint64 item = 1; item <= 4; ++item) {
        c.upsertPrediction(before, item, std::nullopt, b[item - 1]);
        c.upsertPrediction(after, item, std::nullopt, a[item - 1]);
    }
    ui::EvaluationView view;
    view.setWorkspace(ws);
    // Scored on a worker: nothing is filled before the event loop runs the landing.
    QCOMPARE(view.resultsModel()->rowCount(), 0);
    QVERIFY(view.isReading());
    QTRY_COMPARE(view.resultsModel()->rowCount(), 2);
    QCOMPARE(view.resultsModel()->item(0, 4)->data(Qt::DisplayRole).toDouble(), 50.0); // 10 and 4 right
    view.compare(before, after);
    QCOMPARE(view.flipModel()->rowCount(), 0);
    QTRY_COMPARE(view.flipModel()->rowCount(), 4);
    QVERIFY2(view.flipSummary().contains(QLatin1String("1 fixed, 1 broken, 1 still right, 1 still wrong")), qPrintable(view.flipSummary()));
    // Selecting a flip row shows that question: references, both answers, and its image (missing here).
    QTableView *flips = nullptr;
    for (QTableView *t : view.findChildren<QTableView *>())
        if (t->model() == view.flipModel())
            flips = t;
    QVERIFY(flips);
    flips->sortByColumn(1, Qt::DescendingOrder); // rows move (fixed goes from row 1 to 2); the detail must follow the row, not its position
    const QList<QStandardItem *> fixed = view.flipModel()->findItems(QStringLiteral("fixed"), Qt::MatchExactly, 1);
    QCOMPARE(fixed.size(), 1);
    QCOMPARE(fixed.first()->row(), 2);
    flips->setCurrentIndex(view.flipModel()->index(fixed.first()->row(), 0));
    const QString detail = view.questionDetail();
    QVERIFY2(detail.contains(QLatin1String("q2")) && detail.contains(QLatin1String("References: 20")), qPrintable(detail));
    QVERIFY2(detail.contains(QLatin1String("Before: 7")) && detail.contains(QLatin1String("After: 20")), qPrintable(detail));
    QCOMPARE(view.questionImage()->stateText(), QStringLiteral("image missing"));
}

void TestReviewUi::modelsViewValidatesBeforeRegistering()
{
    if (test::fixturesDir().isEmpty())
        QSKIP("golden fixtures not found");
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    ui::ModelsView view;
    view.setWorkspace(ws);
    bool finished = false, ok = true;
    // qwen2vl-tiny has weights but no tokenizer: reported, not registered.
    view.addFolder(test::fixture(QStringLiteral("qwen2vl-tiny")), store::ModelRole::Small, [&](bool good, const QString &) {
        finished = true;
        ok = good;
    });
    QTRY_VERIFY_WITH_TIMEOUT(finished, 10000);
    QVERIFY(!ok);
    QVERIFY(view.lastReport().contains(QLatin1String("tokenizer.json")));
    QCOMPARE(test::countRows(ws, QStringLiteral("models")), 0);
    // An endpoint nobody listens on: a clear failure.
    finished = false;
    view.addEndpoint(QStringLiteral("http://127.0.0.1:9/v1"), [&](bool good, const QString &) {
        finished = true;
        ok = good;
    });
    QTRY_VERIFY_WITH_TIMEOUT(finished, 15000);
    QVERIFY(!ok);
    QVERIFY(view.lastReport().contains(QLatin1String("Connection failed")));
}

QTEST_MAIN(TestReviewUi)
#include "test_review_ui.moc"
