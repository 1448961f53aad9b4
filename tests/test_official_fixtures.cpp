// Golden data from the official MPA code (fixtures/mpa-official): the Parity Identifier's
// selection recomputed from its answer files must equal its training records exactly, and
// the evaluation files must score as the official code scores them.
#include "datasets/benchmark_formats.h"
#include "datasets/conversation_formats.h"
#include "datasets/exporter.h"
#include "datasets/importer.h"
#include "datasets/mpa_results.h"
#include "metrics/mpa_match.h"
#include "metrics/scoring.h"
#include "store/review_journal.h"
#include "store/sample_query.h"
#include "test_support.h"
#include "util/json_file.h"

#include <QtTest>

using namespace mpa;

namespace {
const QStringList kDatasets = {QStringLiteral("textVQA"), QStringLiteral("stVQA"), QStringLiteral("chartVQA"), QStringLiteral("okVQA")};
QString results(const QString &name) { return test::fixture(QStringLiteral("mpa-official/results/") + name); }
QString piFile(const QString &model, const QString &ds) { return results(QStringLiteral("PI_Qwen2vl7b_%1_%2.json").arg(model, ds)); }
QString trainFile(const QString &ds)
{
    return results(QStringLiteral("PI_Qwen2vl7b_train_Qwen2-VL-7B-Instruct_Qwen2-VL-2B-Instruct_%1.json").arg(ds));
}
} // namespace

class TestOfficialFixtures : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { MPA_REQUIRE_FIXTURES(); }
    void paritySelectionEqualsOfficialTrainingRecords_data();
    void paritySelectionEqualsOfficialTrainingRecords();
    void workspaceExportOfApprovedGapsMatchesOfficialRecords();
    void evalFilesScoreAsTheOfficialCode_data();
    void evalFilesScoreAsTheOfficialCode();
    void evalFilesWithOfficialMetrics();
    void okvqaMergedAnnotations();
    void chartqaTestAnnotations();
    void pseudoAnnotationsImport();
};

void TestOfficialFixtures::paritySelectionEqualsOfficialTrainingRecords_data()
{
    QTest::addColumn<QString>("dataset");
    for (const QString &ds : kDatasets)
        QTest::newRow(qPrintable(ds)) << ds;
}

void TestOfficialFixtures::paritySelectionEqualsOfficialTrainingRecords()
{
    QFETCH(QString, dataset);
    const auto large = datasets::readMpaParityAnswers(piFile(QStringLiteral("Qwen2-VL-7B-Instruct"), dataset), {});
    const auto small = datasets::readMpaParityAnswers(piFile(QStringLiteral("Qwen2-VL-2B-Instruct"), dataset), {});
    QHash<QString, QString> smallById;
    for (const auto &s : small)
        smallById.insert(s.questionId, s.prediction);
    QJsonArray selected;
    for (const auto &l : large) {
        if (!smallById.contains(l.questionId))
            continue; // only samples answered by both models are compared
        const auto v = metrics::identifyParity(l.answer, l.prediction, smallById.value(l.questionId));
        if (v.outcome != store::Outcome::Gap)
            continue;
        selected.append(QJsonObject{
            {QStringLiteral("id"), l.questionId.toLongLong()},
            {QStringLiteral("image"), l.imagePath},
            {QStringLiteral("conversations"), QJsonArray{
                QJsonObject{{QStringLiteral("from"), QStringLiteral("human")}, {QStringLiteral("value"), QString(QStringLiteral("<image>\n") + l.question)}},
                QJsonObject{{QStringLiteral("from"), QStringLiteral("gpt")}, {QStringLiteral("value"), l.answer}}}}});
    }
    const QJsonArray official = json::readFile(trainFile(dataset)).array();
    QVERIFY(!official.isEmpty());
    QCOMPARE(selected, official);
}

void TestOfficialFixtures::workspaceExportOfApprovedGapsMatchesOfficialRecords()
{
    // The same selection through the product: import both answer files, approve every gap,
    // export the training set.
    QTemporaryDir tmp;
    for (const QString &ds : kDatasets) {
        const store::Workspace ws = store::Workspace::create(tmp.filePath(ds));
        datasets::Importer importer(ws);
        importer.importMpaParityAnswers(piFile(QStringLiteral("Qwen2-VL-7B-Instruct"), ds), {}, {}, QStringLiteral("large"));
        importer.importMpaParityAnswers(piFile(QStringLiteral("Qwen2-VL-2B-Instruct"), ds), {}, {}, QStringLiteral("small"));
        store::SampleFilter gaps;
        gaps.outcome = QStringLiteral("gap");
        QList<qint64> ids;
        for (const auto &row : store::SampleQuery(ws).page(gaps))
            ids << row.id;
        store::ReviewJournal(ws).recordMany(ids, store::Decision::Approve);
        datasets::ExportOptions o;
        const QString out = tmp.filePath(ds + QStringLiteral(".json"));
        datasets::exportWorkspace(ws, out, o);
        const QJsonArray ours = json::readFile(out).array();
        const QJsonArray official = json::readFile(trainFile(ds)).array();
        QCOMPARE(ours.size(), official.size());
        for (qsizetype i = 0; i < ours.size(); ++i) {
            QCOMPARE(ours[i][QStringLiteral("image")], official[i][QStringLiteral("image")]);
            QCOMPARE(ours[i][QStringLiteral("conversations")], official[i][QStringLiteral("conversations")]);
        }
    }
}

void TestOfficialFixtures::evalFilesScoreAsTheOfficialCode_data()
{
    QTest::addColumn<QString>("dataset");
    QTest::addColumn<int>("correct");
    // Counted by hand from the files: norm(GT_answer) in norm(prediction).
    QTest::newRow("textVQA") << "textVQA" << 5; // copenhagen/drupalcon, 5:41/10:10, unanswerable miss
    QTest::newRow("stVQA") << "stVQA" << 4;     // "blue and green." vs "blue", "Venus Mars" vs "venus and mars" miss
    QTest::newRow("chartVQA") << "chartVQA" << 6;
    QTest::newRow("okVQA") << "okVQA" << 3;     // man, island, shop (in "shopping")
}

void TestOfficialFixtures::evalFilesScoreAsTheOfficialCode()
{
    QFETCH(QString, dataset);
    QFETCH(int, correct);
    const QString file = results(QStringLiteral("Eval_Qwen2-VL-2B-Instruct_%1.json").arg(dataset));
    const datasets::BenchmarkSet set = datasets::readMpaEval(file, {});
    const metrics::ScoreReport r = metrics::scorePredictions(metrics::Metric::MpaSubstring, set.predictions, set, file);
    QCOMPARE(r.scored, 8);
    QCOMPARE(r.mean, correct / 8.0);
}

void TestOfficialFixtures::evalFilesWithOfficialMetrics()
{
    // OK-VQA predictions against the 10 human answers: teddy bear (4 of 10), man (6), island
    // (10, unanimous) score 1; the rest 0.
    const QString okEval = results(QStringLiteral("Eval_Qwen2-VL-2B-Instruct_okVQA.json"));
    const QHash<QString, QString> ok = metrics::readPredictionsFile(okEval);
    const datasets::BenchmarkSet okTruth = datasets::readVqa(test::fixture(QStringLiteral("mpa-official/okvqa/okvqa_val_combine.json")), {});
    const metrics::ScoreReport vqa = metrics::scorePredictions(metrics::Metric::VqaAccuracy, ok, okTruth, okEval);
    QCOMPARE(vqa.scored, 8);
    QCOMPARE(vqa.unanswered, 5046 - 8);
    QCOMPARE(vqa.mean, 3.0 / 8.0);
    QCOMPARE(vqa.perQuestion.value(QStringLiteral("3575865")), 1.0);

    // ChartQA relaxed accuracy against test_combined: 2020 for 2011 passes (years are numbers),
    // 28 for 23 fails: 7 of 8.
    const QString chartEval = results(QStringLiteral("Eval_Qwen2-VL-2B-Instruct_chartVQA.json"));
    const datasets::BenchmarkSet chartTruth = datasets::readChartQa(test::fixture(QStringLiteral("mpa-official/chartqa/test_combined.json")), {});
    QCOMPARE(metrics::scorePredictions(metrics::Metric::RelaxedAccuracy, metrics::readPredictionsFile(chartEval), chartTruth, chartEval).mean, 7.0 / 8.0);

    // ST-VQA ANLS against the single GT answer, by hand: 1 + 0 (0.267 < 0.5) + (1 - 9/20) + 0
    // + 1 + (1 - 4/14) + 1 + 0, over 8.
    const QString stEval = results(QStringLiteral("Eval_Qwen2-VL-2B-Instruct_stVQA.json"));
    const datasets::BenchmarkSet st = datasets::readMpaEval(stEval, {});
    const double expected = (1 + 0 + 0.55 + 0 + 1 + (1 - 4.0 / 14.0) + 1 + 0) / 8.0;
    QVERIFY(qAbs(metrics::scorePredictions(metrics::Metric::Anls, st.predictions, st, stEval).mean - expected) < 1e-12);
}

void TestOfficialFixtures::okvqaMergedAnnotations()
{
    const datasets::BenchmarkSet set = datasets::readVqa(test::fixture(QStringLiteral("mpa-official/okvqa/okvqa_val_combine.json")), {});
    QCOMPARE(set.entries.size(), 5046);
    QCOMPARE(set.split, QStringLiteral("val"));
    int unanimous = 0;
    for (const auto &e : set.entries) {
        QCOMPARE(e.answers.size(), 10);
        unanimous += QSet<QString>(e.answers.begin(), e.answers.end()).size() == 1;
    }
    QCOMPARE(unanimous, 657); // metric-quirks.md
    QCOMPARE(QFileInfo(set.entries.first().imagePath).fileName(), QStringLiteral("COCO_val2014_000000297147.jpg"));

    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("ok")));
    datasets::BenchmarkOptions o;
    o.dataset = QStringLiteral("okvqa");
    o.imageRoot = tmp.filePath(QStringLiteral("coco"));
    const datasets::ImportReport r = datasets::Importer(ws).importBenchmark(datasets::BenchmarkFormat::Vqa,
        test::fixture(QStringLiteral("mpa-official/okvqa/okvqa_val_combine.json")), o);
    QCOMPARE(r.questions, 5046);
    QCOMPARE(r.imagesMissing, r.images); // no COCO images here: all recorded as missing
    QCOMPARE(test::countRows(ws, QStringLiteral("benchmark_items"), QStringLiteral("dataset = 'okvqa' AND split = 'val'")), 5046);
}

void TestOfficialFixtures::chartqaTestAnnotations()
{
    const datasets::BenchmarkSet set = datasets::readChartQa(test::fixture(QStringLiteral("mpa-official/chartqa/test_combined.json")), {});
    QCOMPARE(set.entries.size(), 2500);
    QStringList zeroLabels;
    for (const auto &e : set.entries)
        if (e.answers.first() == QLatin1String("0"))
            zeroLabels << e.questionId;
    QCOMPARE(zeroLabels, (QStringList{QStringLiteral("1989"), QStringLiteral("2031")}));
}

void TestOfficialFixtures::pseudoAnnotationsImport()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("pa")));
    datasets::Importer importer(ws);
    const auto llava = importer.importConversations(test::fixture(QStringLiteral("mpa-official/okvqa/pa_qwen2vl7b_llava_format_eval.json")),
                                                    {}, QStringLiteral("knowledge"));
    QCOMPARE(llava.samples, 1350);
    for (const QString &ds : kDatasets) {
        const auto r = importer.importMpaPseudoAnnotations(results(QStringLiteral("PA_Qwen2vl7b_%1.json").arg(ds)), {}, {});
        QCOMPARE(r.samples, 8);
    }
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("task = 'chart'")), 8);
    QCOMPARE(test::countRows(ws, QStringLiteral("models"), QStringLiteral("name = 'Qwen2vl7b' AND role = 'large'")), 1);
    store::SampleFilter f;
    f.source = QStringLiteral("mpa-pa:textVQA:") + QFileInfo(results(QStringLiteral("PA_Qwen2vl7b_textVQA.json"))).canonicalFilePath();
    const auto rows = store::SampleQuery(ws).page(f);
    QCOMPARE(rows.first().question, QStringLiteral("What is the color of the Nokia phone in the image"));
    QCOMPARE(rows.first().answer, QStringLiteral("Brown"));
}

QTEST_GUILESS_MAIN(TestOfficialFixtures)
#include "test_official_fixtures.moc"
