// The studio's main window opens a workspace and shows its images and samples.
#include "datasets/importer.h"
#include "demo/demo_loop.h"
#include "demo/demo_models.h"
#include "main_window.h"
#include "test_support.h"

#include <QAbstractItemModel>
#include <QApplication>
#include <QDockWidget>
#include <QMenu>
#include <QMenuBar>
#include <qcustomplot.h>
#include "run_dashboard.h"
#include "jobs/job_runner.h"
#include <QTabWidget>
#include <QTableView>
#include <QtTest>

class TestMainWindow : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void showsImagesAndSamples();
    void demoWorkspaceIsFilledByABackgroundJob();
    void usableAt1024x700InTheDarkTheme();
};

void TestMainWindow::showsImagesAndSamples()
{
    QTemporaryDir tmp;
    const mpa::store::Workspace ws = mpa::store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    mpa::test::writeJpeg(tmp.filePath(QStringLiteral("imgs/a.jpg")), 12, 12);
    mpa::test::writeText(tmp.filePath(QStringLiteral("conv.json")),
                         R"([{"id":1,"image":"a.jpg","conversations":[{"from":"human","value":"<image>\nWhat?"},{"from":"gpt","value":"That"}]}])");
    mpa::datasets::Importer importer(ws);
    importer.importImageFolder(tmp.filePath(QStringLiteral("imgs")));
    importer.importConversations(tmp.filePath(QStringLiteral("conv.json")), tmp.filePath(QStringLiteral("imgs")), QStringLiteral("text"));

    mpa::ui::MainWindow window;
    QVERIFY(window.openWorkspace(ws.root()));
    auto *tabs = window.findChild<QTabWidget *>();
    QVERIFY(tabs);
    QCOMPARE(tabs->count(), 8); // Home, Browser, Images, Samples, Review, Runs, Evaluation, Models
    QCOMPARE(tabs->currentIndex(), 0); // an opened workspace shows where it stands in the loop
    const QList<QTableView *> views = {qobject_cast<QTableView *>(tabs->widget(2)), qobject_cast<QTableView *>(tabs->widget(3))};
    QCOMPARE(views[0]->model()->rowCount(), 1);
    QCOMPARE(views[1]->model()->rowCount(), 1);
    QCOMPARE(views[1]->model()->index(0, 3).data().toString(), QStringLiteral("What?"));
}

void TestMainWindow::demoWorkspaceIsFilledByABackgroundJob()
{
    if (mpa::demo::findShippedDemoModels().isEmpty())
        QSKIP("no shipped demo models (resources/demo/models)");
    QTemporaryDir tmp;
    mpa::ui::MainWindow window;
    mpa::demo::DemoLoopOptions o;
    o.poolPerFamily = 4;
    o.testPerFamily = 4;
    o.alignEpochs = 1;
    o.comparisons = false;
    QVERIFY(window.startDemoWorkspace(tmp.filePath(QStringLiteral("demo.mpaw")), o));
    auto *tabs = window.findChild<QTabWidget *>();
    // The call returned at once (the loop runs on the job thread); the Evaluation view fills in
    // as the job's runs finish: teacher, student and the aligned student on three benchmarks.
    QTableView *results = nullptr;
    for (QTableView *v : tabs->widget(6)->findChildren<QTableView *>())
        if (v->model()->headerData(0, Qt::Horizontal).toString() == QLatin1String("Run"))
            results = v;
    QVERIFY(results);
    QCOMPARE(results->model()->rowCount(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(results->model()->rowCount() == 9, 180000);
    auto *samples = qobject_cast<QTableView *>(tabs->widget(3));
    QTRY_COMPARE(samples->model()->rowCount(), 12); // one pseudo pair per pool image
}

void TestMainWindow::usableAt1024x700InTheDarkTheme()
{
    QTemporaryDir tmp;
    mpa::ui::MainWindow window;
    window.resize(1024, 700);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.openWorkspace(tmp.filePath(QStringLiteral("w.mpaw")), true));
    auto *dock = window.findChild<QDockWidget *>(QStringLiteral("jobs"));
    QVERIFY(dock);
    // Listed in View (it can always come back), and small when shown with a job.
    bool listed = false;
    for (QAction *a : window.menuBar()->actions())
        if (a->menu() && a->menu()->actions().contains(dock->toggleViewAction()))
            listed = true;
    QVERIFY(listed);
    window.enqueueJob(QStringLiteral("nothing"), [](const mpa::store::Workspace &, const mpa::ProgressFn &) { return mpa::pipeline::JobSummary{}; });
    QTRY_VERIFY(dock->isVisible());
    auto *tabs = window.findChild<QTabWidget *>();
    QTRY_VERIFY2(tabs->height() >= 700 * 6 / 10, qPrintable(QString::number(tabs->height())));
    // The dark theme reaches the chart and the placeholders.
    QAction *dark = nullptr;
    for (QAction *a : window.findChildren<QAction *>())
        if (a->text() == QLatin1String("Theme: dark"))
            dark = a;
    QVERIFY(dark);
    dark->trigger();
    QTRY_VERIFY(window.runDashboard()->plot()->toPixmap(120, 80).toImage().pixelColor(3, 3).lightness() < 80);
    QVERIFY(qApp->palette().color(QPalette::PlaceholderText).lightness() > 110);
    QVERIFY(window.runDashboard()->plot()->xAxis->tickLabelColor().lightness() > 180);
    for (QAction *a : window.findChildren<QAction *>())
        if (a->text() == QLatin1String("Theme: follow the system"))
            a->trigger();
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
