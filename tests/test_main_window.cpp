// The studio's main window opens a workspace and shows its images and samples.
#include "datasets/importer.h"
#include "main_window.h"
#include "test_support.h"

#include <QAbstractItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QtTest>

class TestMainWindow : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void showsImagesAndSamples();
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
    QCOMPARE(tabs->count(), 7); // Browser, Images, Samples, Review, Runs, Evaluation, Models
    const QList<QTableView *> views = {qobject_cast<QTableView *>(tabs->widget(1)), qobject_cast<QTableView *>(tabs->widget(2))};
    QCOMPARE(views[0]->model()->rowCount(), 1);
    QCOMPARE(views[1]->model()->rowCount(), 1);
    QCOMPARE(views[1]->model()->index(0, 3).data().toString(), QStringLiteral("What?"));
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
