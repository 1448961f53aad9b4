// The synthetic demo world: deterministic from its seed, answers drawn from each family's
// vocabulary, pixels that agree with the stated facts, and a workspace with an unlabeled pool
// and labeled test splits.
#include "datasets/synthetic_world.h"
#include "store/sql_util.h"
#include "test_support.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>

using namespace mpa;

class TestSyntheticWorld : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sameSeedSameWorld();
    void answersComeFromTheFamiliesVocabulary();
    void circleColourIsInThePixels();
    void demoWorkspace();
};

void TestSyntheticWorld::sameSeedSameWorld()
{
    for (const QString &family : datasets::syntheticFamilies()) {
        const auto a = datasets::synthesizeImage(family, 7, 3);
        const auto b = datasets::synthesizeImage(family, 7, 3);
        const auto c = datasets::synthesizeImage(family, 8, 3);
        QVERIFY(a.png == b.png);
        QCOMPARE(a.items.front().answer, b.items.front().answer);
        QVERIFY(a.png != c.png);
        const cv::Mat img = cv::imdecode(cv::Mat(1, static_cast<int>(a.png.size()), CV_8UC1, const_cast<std::uint8_t *>(a.png.data())), cv::IMREAD_COLOR);
        QCOMPARE(img.cols, 224);
        QCOMPARE(img.rows, 224);
    }
}

void TestSyntheticWorld::answersComeFromTheFamiliesVocabulary()
{
    QSet<QString> chartAnswers, colours, counts;
    int lineCharts = 0;
    for (int i = 0; i < 60; ++i) {
        for (const auto &item : datasets::synthesizeImage(QStringLiteral("chart"), 1, i).items) {
            chartAnswers.insert(item.answer);
            lineCharts += item.question == QLatin1String("Which point is the highest?") ? 1 : 0;
            QVERIFY2(datasets::syntheticQuestions().contains(item.question), qPrintable(item.question));
        }
        const auto k = datasets::synthesizeImage(QStringLiteral("knowledge"), 1, i).items;
        colours.insert(k[0].answer);
        counts.insert(k[1].answer);
        const auto t = datasets::synthesizeImage(QStringLiteral("text"), 1, i).items;
        QVERIFY(t[0].answer == t[0].answer.toLower() && !t[0].answer.isEmpty());
        QVERIFY(t[1].answer.toInt() >= 10 && t[1].answer.toInt() <= 99);
    }
    for (const QString &a : chartAnswers)
        QVERIFY2(QStringList({"1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e"}).contains(a), qPrintable(a));
    QCOMPARE(lineCharts, 20); // every third chart is a line chart
    QVERIFY(colours.size() >= 4); // the draws actually vary
    QVERIFY(counts.subtract({QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("3"), QStringLiteral("4")}).isEmpty());
}

void TestSyntheticWorld::circleColourIsInThePixels()
{
    // The stated colour covers the circle's area (independent of the generator's bookkeeping).
    const QMap<QString, cv::Vec3b> bgr = {{"red", {40, 40, 220}}, {"blue", {220, 110, 40}}, {"green", {60, 170, 60}},
                                          {"yellow", {40, 210, 240}}, {"purple", {180, 70, 150}}, {"orange", {30, 140, 250}}};
    for (int i = 0; i < 20; ++i) {
        const auto s = datasets::synthesizeImage(QStringLiteral("knowledge"), 3, i);
        const cv::Mat img = cv::imdecode(cv::Mat(1, static_cast<int>(s.png.size()), CV_8UC1, const_cast<std::uint8_t *>(s.png.data())), cv::IMREAD_COLOR);
        const cv::Vec3b want = bgr.value(s.items[0].answer);
        int hits = 0;
        for (int y = 0; y < img.rows; ++y)
            for (int x = 0; x < img.cols / 2; ++x) // the circle is in the left half, the squares in the right
                hits += img.at<cv::Vec3b>(y, x) == want;
        QVERIFY2(hits > 1500, qPrintable(QStringLiteral("%1: %2 pixels").arg(s.items[0].answer).arg(hits)));
    }
}

void TestSyntheticWorld::demoWorkspace()
{
    QTemporaryDir tmp;
    const QString ws = tmp.filePath(QStringLiteral("demo"));
    QProcess p;
    p.start(test::cliPath(), {QStringLiteral("demo"), QStringLiteral("create"), ws, QStringLiteral("--pool"), QStringLiteral("12"),
                              QStringLiteral("--test"), QStringLiteral("5"), QStringLiteral("--seed"), QStringLiteral("4"),
                              QStringLiteral("--train"), QStringLiteral("2")});
    QVERIFY(p.waitForFinished(120000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    const store::Workspace w = store::Workspace::open(ws);
    QCOMPARE(test::countRows(w, QStringLiteral("images"), QStringLiteral("path LIKE '%/pool/%' AND status = 'ok'")), 36);
    QCOMPARE(test::countRows(w, QStringLiteral("benchmark_items"), QStringLiteral("dataset = 'demo-chart' AND split = 'test'")), 5);
    QCOMPARE(test::countRows(w, QStringLiteral("benchmark_items")), 15);
    QCOMPARE(test::countRows(w, QStringLiteral("images"), QStringLiteral("status != 'ok'")), 0);
    // Labeled training pairs: every fact of 2 images per family, not imported into the workspace.
    const QJsonArray pairs = QJsonDocument::fromJson([&] {
        QFile f(w.root() + QStringLiteral("/demo/train/pairs.json"));
        f.open(QIODevice::ReadOnly);
        return f.readAll();
    }()).array();
    QCOMPARE(pairs.size(), 3 * 2 * 2);
    QCOMPARE(test::countRows(w, QStringLiteral("images"), QStringLiteral("path LIKE '%/train/%'")), 0);
}

QTEST_GUILESS_MAIN(TestSyntheticWorld)
#include "test_synthetic_world.moc"
