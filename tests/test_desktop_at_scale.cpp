// The desktop at the size users work at (offscreen): a workspace of 2,000+ images and 1,000+
// samples, the four MPA jobs run through the window's JobRunner while its views are open, then
// hundreds of review decisions, also while a second process writes runs and metrics every
// 100 ms. What the views show must be what the database holds, and no decision may be lost.
// The second process is this executable started again with --metrics-writer (metrics_writer.h).
#include "backends/vlm_backend.h"
#include "datasets/synthetic_world.h"
#include "demo/demo_models.h"
#include "jobs/job_runner.h"
#include "jobs_panel.h"
#include "evaluation_view.h"
#include "main_window.h"
#include "pipeline/evaluator.h"
#include "pipeline/parity_identifier.h"
#include "pipeline/parity_leveler.h"
#include "pipeline/pseudo_annotator.h"
#include "pipeline/run_scope.h"
#include "review_view.h"
#include "row_table_model.h"
#include "run_dashboard.h"
#include "sample_list_model.h"
#include "store/catalog.h"
#include "store/change_watcher.h"
#include "store/decision_queue.h"
#include "store/rows.h"
#include "store/sql_util.h"
#include "evaluation_rows.h"
#include "metrics_writer.h"
#include "test_support.h"

#include <QApplication>
#include <QComboBox>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QStandardItemModel>
#include <QTableView>
#include <QElapsedTimer>
#include <QProcess>
#include <QtTest>
#include <cstring>

using namespace mpa;

namespace {

constexpr int kBulkImages = 2000;
constexpr int kBulkSamples = 1000;

// What an import of a large folder and its pseudo pairs leaves behind: rows (the files are not
// needed for these views; they are recorded as missing, as an import of a moved folder does).
void addBulkRows(const store::Workspace &ws)
{
    QSqlDatabase db = ws.connection();
    store::Transaction tx(db, QStringLiteral("bulk rows"));
    store::exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < %1) "
                                   "INSERT INTO images(path, status, added_at) SELECT '/bulk/img' || v || '.jpg', 'missing', 0 FROM n").arg(kBulkImages));
    store::exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < %1) "
                                   "INSERT INTO samples(image_id, task, question, answer, parse_status, source, source_key, created_at, outcome) "
                                   "SELECT (SELECT id FROM images WHERE path = '/bulk/img' || v || '.jpg'), 'chart', 'bulk question ' || v, 'answer ' || v, "
                                   "'ok', 'bulk', v, 0, CASE v % 2 WHEN 0 THEN 'gap' ELSE 'both_right' END FROM n").arg(kBulkSamples));
    tx.commit();
}

// A fresh connection on another thread, as a restarted app or another process would read.
qint64 freshCount(const store::Workspace &ws, const QString &sql)
{
    qint64 n = -1;
    QThread *t = QThread::create([&] {
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("fresh-reader"));
            db.setDatabaseName(ws.databasePath());
            if (db.open())
                n = store::readRows(db, sql).at(0, 0).toLongLong();
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("fresh-reader"));
    });
    t->start();
    t->wait();
    delete t;
    return n;
}

// The GUI connection must never be left with an unfinished statement between event-loop turns.
void checkNoOpenStatement(const ui::MainWindow &w)
{
    QSqlDatabase db = w.workspace()->connection();
    QCOMPARE(store::unfinishedStatements(db), 0);
    QVERIFY(!store::inTransaction(db));
}

// `write` on its own thread and connection, as another process writing the workspace would.
void onOtherConnection(const store::Workspace &ws, const std::function<void(const store::Workspace &)> &write)
{
    QThread *t = QThread::create([&] {
        write(ws);
        ws.releaseThreadConnection();
    });
    t->start();
    t->wait();
    delete t;
}

void settle(int ms)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
}

} // namespace

class TestDesktopAtScale : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void jobsThenDecisionsAtScale();
    void secondProcessWritesWhileReviewing();
    void bulkApproveThenUndo();
    void jobIdsAfterReopening();
    void editMakesTheVerdictStale();
    void sortedTablesPageThroughEverything();
    void evaluationsAtBenchmarkSize();
};

void TestDesktopAtScale::jobsThenDecisionsAtScale()
{
    const QString models = demo::findShippedDemoModels();
    if (models.isEmpty())
        QSKIP("no shipped demo models (resources/demo/models)");
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("scale")));
    datasets::DemoWorldOptions world;
    world.poolPerFamily = 6;
    world.testPerFamily = 4;
    datasets::createDemoWorld(ws, world);
    addBulkRows(ws);
    QVERIFY(freshCount(ws, QStringLiteral("SELECT count(*) FROM images")) >= kBulkImages);

    ui::MainWindow window;
    window.resize(1100, 700);
    window.show();
    QVERIFY(window.openWorkspace(ws.root()));
    settle(200);
    checkNoOpenStatement(window);
    // The tables read a first page only, and hold no statement open doing it.
    QCOMPARE(window.sampleTable()->rowCount(), ui::RowTableModel::kPageSize);
    QVERIFY(window.sampleTable()->canFetchMore({}));

    const QString teacher = QDir(models).filePath(QStringLiteral("teacher"));
    const QString student = QDir(models).filePath(QStringLiteral("student"));
    const backends::NativeBackendOptions bo = demo::demoBackendOptions();
    QList<int> jobIds;
    jobIds << window.enqueueJob(QStringLiteral("annotate"), [=](const store::Workspace &w, const ProgressFn &p) {
        auto b = backends::makeNativeBackend(teacher, bo);
        pipeline::AnnotateParams a;
        a.task = QStringLiteral("text");
        a.images = QStringLiteral("*/pool/text/*");
        a.maxNewTokens = 32;
        return pipeline::runPseudoAnnotator(w, *b, teacher, a, p);
    });
    jobIds << window.enqueueJob(QStringLiteral("identify"), [=](const store::Workspace &w, const ProgressFn &p) {
        auto l = backends::makeNativeBackend(teacher, bo);
        auto s = backends::makeNativeBackend(student, bo);
        pipeline::IdentifyParams ip;
        ip.task = QStringLiteral("text");
        ip.maxNewTokens = 12;
        return pipeline::runParityIdentifier(w, *l, teacher, *s, student, ip, p);
    });
    jobIds << window.enqueueJob(QStringLiteral("evaluate"), [=](const store::Workspace &w, const ProgressFn &p) {
        auto b = backends::makeNativeBackend(student, bo);
        pipeline::EvaluateParams e;
        e.dataset = QStringLiteral("demo-text");
        e.split = QStringLiteral("test");
        e.maxNewTokens = 12;
        return pipeline::runEvaluation(w, *b, student, e, p);
    });
    jobIds << window.enqueueJob(QStringLiteral("align"), [=](const store::Workspace &w, const ProgressFn &p) {
        pipeline::AlignParams a;
        a.selection = QStringLiteral("all");
        a.maxSteps = 2;
        a.gradAccum = 1;
        a.batchSize = 2;
        a.minPixels = demo::kDemoMinPixels;
        a.maxPixels = demo::kDemoMinPixels * 4;
        return pipeline::runParityLeveler(w, student, a, p);
    });
    // While the jobs run, the GUI keeps turning and never holds a statement open.
    QElapsedTimer clock;
    clock.start();
    while (!window.jobRunner()->isIdle() && clock.elapsed() < 600000) {
        settle(100);
        checkNoOpenStatement(window);
    }
    QVERIFY(window.jobRunner()->isIdle());
    settle(1500); // one watcher tick after the last commit
    for (int id : jobIds)
        QVERIFY2(window.jobsPanel()->rowText(id).contains(QLatin1String("finished")), qPrintable(window.jobsPanel()->rowText(id)));

    // Every new run is in the Runs view; the Review view shows the identify run's outcomes.
    const store::Rows runs = [&] {
        QSqlDatabase db = ws.connection();
        return store::readRows(db, QStringLiteral("SELECT id FROM runs WHERE kind IN ('annotate','identify','evaluate','align')"));
    }();
    QCOMPARE(runs.size(), 4);
    for (const QVariantList &r : runs.rows)
        QVERIFY2(window.runDashboard()->runsModel()->rowOfKey(r[0].toLongLong()) >= 0, "a finished run is missing from the Runs view");
    const qint64 samples = freshCount(ws, QStringLiteral("SELECT count(*) FROM samples"));
    QVERIFY(samples > kBulkSamples);
    QCOMPARE(window.reviewView()->model()->totalCount(), samples);
    const qint64 identified = freshCount(ws, QStringLiteral("SELECT count(*) FROM samples WHERE task = 'text' AND outcome IS NOT NULL"));
    QVERIFY(identified > 0);

    // 200 decisions, one after another as a person makes them: all land, all visible elsewhere.
    ui::ReviewView *review = window.reviewView();
    window.showView(QStringLiteral("review"));
    for (int i = 0; i < 200; ++i) {
        review->decide(i % 3 == 0 ? store::Decision::Reject : store::Decision::Approve);
        QCoreApplication::processEvents();
    }
    QTRY_COMPARE_WITH_TIMEOUT(review->decisionQueue()->pendingCount(), 0, 10000);
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT count(*) FROM reviews")), 200);
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT count(*) FROM samples WHERE review_state != 'pending'")), 200);
    QVERIFY2(review->countsText().contains(QString::fromUtf8("133 approved · 67 rejected")), qPrintable(review->countsText()));
    checkNoOpenStatement(window);
}

void TestDesktopAtScale::secondProcessWritesWhileReviewing()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("busy")));
    addBulkRows(ws);
    ui::MainWindow window;
    window.show();
    QVERIFY(window.openWorkspace(ws.root()));
    settle(100);

    QProcess writer;
    writer.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--metrics-writer"), ws.root(), QStringLiteral("12")});
    QVERIFY(writer.waitForStarted());
    QVERIFY(writer.waitForReadyRead(10000));
    const qint64 run = QString::fromLatin1(writer.readLine()).section(QLatin1Char(' '), 1).trimmed().toLongLong();
    QVERIFY(run > 0);
    QElapsedTimer seen;
    seen.start();
    // The other process's run appears in Runs within 2 s (the watcher polls every 500 ms).
    QTRY_VERIFY_WITH_TIMEOUT(window.runDashboard()->runsModel()->rowOfKey(run) >= 0, 2000);
    qInfo("the other process's run appeared after %lld ms", static_cast<long long>(seen.elapsed()));
    window.runDashboard()->showRuns({run});

    ui::ReviewView *review = window.reviewView();
    int decisions = 0;
    int maxPending = 0;
    while (decisions < 500) {
        review->decide(decisions % 2 ? store::Decision::Approve : store::Decision::Reject);
        ++decisions;
        maxPending = std::max(maxPending, review->decisionQueue()->pendingCount());
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        QThread::msleep(5);
    }
    QTRY_COMPARE_WITH_TIMEOUT(review->decisionQueue()->pendingCount(), 0, 15000);
    qInfo("500 decisions under a writer every 100 ms: at most %d waited for the lock", maxPending);
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT count(*) FROM reviews")), 500);
    // The loss curve grew while the other process trained.
    const int points = window.runDashboard()->pointCount(run);
    QVERIFY2(points > 0, "no loss point of the other process's run was drawn");
    QTRY_VERIFY_WITH_TIMEOUT(window.runDashboard()->pointCount(run) > points, 3000);
    QVERIFY(window.runDashboard()->legendNames().join(QLatin1Char(',')).contains(QLatin1String("terminal align")));
    QVERIFY(writer.waitForFinished(30000));
    QCOMPARE(writer.exitCode(), 0);
    checkNoOpenStatement(window);
}

void TestDesktopAtScale::bulkApproveThenUndo()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("bulk")));
    addBulkRows(ws);
    ui::ReviewView view;
    view.setWorkspace(ws);
    QString said;
    connect(&view, &ui::ReviewView::message, this, [&](const QString &m) { said = m; });
    // One single decision first, on a sample the gap filter will hide (sample 1 is both_right).
    QCOMPARE(view.currentSampleId(), 1);
    view.decide(store::Decision::Reject);
    auto *outcome = view.findChildren<QComboBox *>().first();
    outcome->setCurrentIndex(outcome->findData(QStringLiteral("gap")));
    QCOMPARE(view.model()->totalCount(), kBulkSamples / 2);
    view.decideAllFiltered(store::Decision::Approve);
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT count(*) FROM samples WHERE review_state = 'approved'")), kBulkSamples / 2);
    // One undo takes back the whole bulk, and says so; the earlier single decision stays.
    view.undo();
    QVERIFY2(said.contains(QLatin1String("500 samples")), qPrintable(said));
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT count(*) FROM samples WHERE review_state = 'approved'")), 0);
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT review_state = 'rejected' FROM samples WHERE id = 1")), 1);
    // Redo, undo again; then the next undo is the single decision, hidden by the filter.
    view.redo();
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT count(*) FROM samples WHERE review_state = 'approved'")), kBulkSamples / 2);
    view.undo();
    view.undo();
    QVERIFY2(said.contains(QLatin1String("sample 1")) && said.contains(QLatin1String("hidden")), qPrintable(said));
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT count(*) FROM samples WHERE review_state != 'pending'")), 0);
}

void TestDesktopAtScale::jobIdsAfterReopening()
{
    QTemporaryDir tmp;
    const store::Workspace a = store::Workspace::create(tmp.filePath(QStringLiteral("a")));
    const store::Workspace b = store::Workspace::create(tmp.filePath(QStringLiteral("b")));
    ui::MainWindow window;
    QVERIFY(window.openWorkspace(a.root()));
    auto quickJob = [](const store::Workspace &ws, const ProgressFn &progress) {
        pipeline::RunScope run(ws, store::RunKind::Evaluate, QStringLiteral("quick"), {}, 0);
        progress(1, 1, QStringLiteral("quick"));
        run.finish(false);
        pipeline::JobSummary s;
        s.runId = run.id();
        s.done = 1;
        return s;
    };
    const int first = window.enqueueJob(QStringLiteral("one"), quickJob);
    QTRY_VERIFY(window.jobsPanel()->rowText(first).contains(QLatin1String("finished")));
    QCOMPARE(window.jobsPanel()->progressPercent(first), 100);
    QVERIFY(window.openWorkspace(b.root()));
    QCOMPARE(window.jobsPanel()->rowCount(), 0); // the other workspace's jobs are not listed
    QVERIFY(window.openWorkspace(a.root()));
    const int second = window.enqueueJob(QStringLiteral("two"), quickJob);
    QVERIFY2(second > first, "a job id was reused after reopening");
    QTRY_VERIFY(window.jobsPanel()->rowText(second).contains(QLatin1String("finished")));
    QCOMPARE(window.jobsPanel()->rowCount(), 1);
    QVERIFY(window.jobsPanel()->findChildren<QPushButton *>(QStringLiteral("resume")).isEmpty()); // nothing to resume
    // A job that fails inside its run offers to resume that run.
    const int failing = window.enqueueJob(QStringLiteral("three"), [](const store::Workspace &ws, const ProgressFn &) -> pipeline::JobSummary {
        pipeline::RunScope run(ws, store::RunKind::Evaluate, QStringLiteral("fails"), {}, 0);
        throw Error(QStringLiteral("the endpoint went away"));
    });
    QTRY_VERIFY(window.jobsPanel()->rowText(failing).contains(QLatin1String("failed")));
    QCOMPARE(window.jobsPanel()->findChildren<QPushButton *>(QStringLiteral("resume")).size(), 1);
}

void TestDesktopAtScale::editMakesTheVerdictStale()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("stale")));
    addBulkRows(ws);
    {
        // Real verdict rows for two gaps (the cache trigger sets their outcome).
        store::Catalog c(ws);
        const qint64 run = c.createRun(store::RunKind::Identify, QStringLiteral("pi"), {});
        c.upsertVerdict(2, run, true, false, store::Outcome::Gap, QStringLiteral("mpa"));
        c.upsertVerdict(4, run, true, false, store::Outcome::Gap, QStringLiteral("mpa"));
        c.finishRun(run, store::RunStatus::Finished);
    }
    ui::ReviewView view;
    view.show();
    view.setWorkspace(ws);
    view.next(); // sample 2
    QCOMPARE(view.currentSampleId(), 2);
    auto edits = view.findChildren<QLineEdit *>();
    QLineEdit *answer = nullptr;
    for (QLineEdit *e : edits)
        if (e->text() == QLatin1String("answer 2"))
            answer = e;
    QVERIFY(answer);
    answer->setFocus();
    answer->setText(QStringLiteral("a new answer"));
    QTest::keyClick(answer, Qt::Key_Return);
    QTRY_COMPARE(view.decisionQueue()->pendingCount(), 0);
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT verdict_stale FROM samples WHERE id = 2")), 1);
    QVERIFY(view.model()->data(view.model()->index(1), ui::SampleListModel::StaleRole).toBool());
    // Enter handed the keyboard back to the list: A decides instead of typing.
    auto *list = view.findChild<QListView *>();
    QVERIFY(list->hasFocus() || !QApplication::focusWidget() || QApplication::focusWidget() == list);
    // The default training selection leaves the stale gap out until it is re-identified.
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT count(*) FROM samples WHERE outcome = 'gap' AND verdict_stale = 0 AND id IN (2, 4)")), 1);
    {
        store::Catalog c(ws);
        const qint64 run = c.createRun(store::RunKind::Identify, QStringLiteral("pi again"), {});
        c.upsertVerdict(2, run, true, true, store::Outcome::BothRight, QStringLiteral("mpa"));
        c.finishRun(run, store::RunStatus::Finished);
    }
    QCOMPARE(freshCount(ws, QStringLiteral("SELECT verdict_stale FROM samples WHERE id = 2")), 0);
}

void TestDesktopAtScale::sortedTablesPageThroughEverything()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("sorted")));
    addBulkRows(ws);
    ui::MainWindow window;
    QVERIFY(window.openWorkspace(ws.root()));
    ui::RowTableModel *samples = window.sampleTable();
    samples->sort(3, Qt::DescendingOrder); // question, as a header click does
    QCOMPARE(samples->rowCount(), ui::RowTableModel::kPageSize);
    while (samples->canFetchMore({}))
        samples->fetchMore({});
    QCOMPARE(samples->rowCount(), kBulkSamples);
    QStringList questions;
    QSet<qint64> keys;
    for (int r = 0; r < samples->rowCount(); ++r) {
        questions << samples->value(r, 3).toString();
        keys.insert(samples->keyAt(r));
    }
    QCOMPARE(keys.size(), kBulkSamples); // OFFSET paging in (expression, key) order: no row twice or missing
    QStringList expected = questions;
    std::sort(expected.begin(), expected.end(), std::greater<>());
    QCOMPARE(questions, expected);
    // Another process adds a sample: the sorted table picks it up at its place.
    {
        const store::Workspace other = store::Workspace::open(ws.root());
        QSqlDatabase db = other.connection();
        store::exec(db, QStringLiteral("INSERT INTO samples(image_id, task, question, answer, parse_status, source, source_key, created_at) "
                                       "VALUES((SELECT min(id) FROM images), 'chart', 'zzz last question', 'a', 'ok', 'other', 'x', 0)"));
        other.releaseThreadConnection();
    }
    samples->refresh();
    QCOMPARE(samples->rowCount(), kBulkSamples + 1);
    QCOMPARE(samples->value(0, 3).toString(), QStringLiteral("zzz last question"));
    samples->sort(-1);
    QCOMPARE(samples->sortColumn(), -1);
}


// A benchmark of a real split's size (DocVQA val: 5,349 questions; here 5,000 ANLS questions,
// evaluation_rows.h) and six evaluation runs: the Evaluation view scores 30,000 predictions. It does so off the
// GUI thread, shows what the workspace holds, and keeps the compared pair and the person's
// place in the flip table while another connection adds a run.
void TestDesktopAtScale::evaluationsAtBenchmarkSize()
{
    constexpr int kQuestions = 5000;
    constexpr int kRuns = 6;
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("eval")));
    const QList<qint64> runs = test::addEvaluatedBenchmark(ws, kQuestions, kRuns);
    ui::MainWindow window;
    QVERIFY(window.openWorkspace(ws.root()));
    ui::EvaluationView *view = window.evaluationView();
    QTRY_COMPARE_WITH_TIMEOUT(view->resultsModel()->rowCount(), kRuns, 60000);
    QTRY_VERIFY(!view->isReading());
    for (int row = 0; row < kRuns; ++row) {
        const qint64 id = view->resultsModel()->item(row, 0)->data(Qt::DisplayRole).toLongLong();
        const int r = static_cast<int>(runs.indexOf(id));
        QVERIFY(r >= 0);
        const double expected = std::round(1000.0 * (kQuestions / (r + 1)) / kQuestions) / 10; // floor(N / (r + 1)) right
        QCOMPARE(view->resultsModel()->item(row, 3)->text(), QStringLiteral("anls"));
        QCOMPARE(view->resultsModel()->item(row, 4)->data(Qt::DisplayRole).toDouble(), expected);
        QCOMPARE(view->resultsModel()->item(row, 6)->data(Qt::DisplayRole).toLongLong(), kQuestions);
    }
    // Run 0 (all right) before run 1 (even ids right): the odd ids broke.
    QVERIFY(window.compareEvaluations(runs[0], runs[1]));
    QVERIFY(!window.compareEvaluations(runs[1], 999999)); // not a run: refused at once
    QTRY_COMPARE_WITH_TIMEOUT(view->flipModel()->rowCount(), kQuestions, 60000);
    QTRY_VERIFY(!view->isReading());
    QVERIFY2(view->flipSummary().contains(QStringLiteral("Run %1 → run %2: 0 fixed, 2500 broken, 2500 still right, 0 still wrong").arg(runs[0]).arg(runs[1])),
             qPrintable(view->flipSummary()));
    // The first question that changed is selected and shown: q1 (odd: right before, wrong after).
    QVERIFY2(view->questionDetail().contains(QLatin1String("what does line 1 say?")), qPrintable(view->questionDetail()));
    QTableView *flips = nullptr;
    for (QTableView *t : view->findChildren<QTableView *>())
        if (t->model() == view->flipModel())
            flips = t;
    QVERIFY(flips);
    flips->selectRow(10); // the person moves on to another question
    const QString reading = view->questionDetail();
    // Another connection adds a seventh run: the table shows it, the pair stays compared, and the
    // question being read stays on screen.
    onOtherConnection(ws, [](const store::Workspace &w) {
        store::Catalog(w).createRun(store::RunKind::Evaluate, QStringLiteral("from elsewhere"),
                                    {{QStringLiteral("dataset"), QStringLiteral("stvqa")}, {QStringLiteral("model"), QStringLiteral("/m/other")}},
                                    store::RunStatus::Running);
    });
    QTRY_COMPARE_WITH_TIMEOUT(view->resultsModel()->rowCount(), kRuns + 1, 30000);
    QTRY_VERIFY(!view->isReading());
    QCOMPARE(flips->selectionModel()->selectedRows().size(), 1);
    QCOMPARE(flips->selectionModel()->selectedRows().first().row(), 10);
    QCOMPARE(view->questionDetail(), reading);
    QTableView *results = nullptr;
    for (QTableView *t : view->findChildren<QTableView *>())
        if (t->model() == view->resultsModel())
            results = t;
    QVERIFY(results);
    QCOMPARE(results->selectionModel()->selectedRows().size(), 2);
    // The "after" run answers again (resumed elsewhere) and gets q3 right: its table row and the
    // flip table follow, and the question being read stays selected.
    onOtherConnection(ws, [&runs](const store::Workspace &w) {
        QSqlDatabase db = w.connection();
        store::Transaction tx(db, QStringLiteral("resumed evaluation"));
        store::exec(db, QStringLiteral("UPDATE runs SET status = 'running' WHERE id = ?"), {runs[1]});
        store::exec(db, QStringLiteral("UPDATE predictions SET text = 'answer 3' WHERE run_id = ? AND item_id = 3"), {runs[1]});
        tx.commit();
    });
    QTRY_VERIFY_WITH_TIMEOUT(view->flipSummary().contains(QLatin1String("0 fixed, 2499 broken, 2501 still right")), 30000);
    QTRY_VERIFY(!view->isReading());
    QCOMPARE(flips->selectionModel()->selectedRows().size(), 1);
    QCOMPARE(flips->selectionModel()->selectedRows().first().row(), 10);
    QCOMPARE(view->questionDetail(), reading);
    checkNoOpenStatement(window);
}

int main(int argc, char **argv)
{
    if (test::isMetricsWriterCall(argc, argv)) {
        QCoreApplication app(argc, argv);
        return test::runMetricsWriter(QString::fromLocal8Bit(argv[2]), std::atoi(argv[3]));
    }
    QApplication app(argc, argv);
    TestDesktopAtScale t;
    return QTest::qExec(&t, argc, argv);
}

#include "test_desktop_at_scale.moc"
