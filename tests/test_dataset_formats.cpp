// Annotation formats: every reader against small hand-written files, malformed input of
// every kind, and round trips (import -> export -> import loses nothing).
#include "datasets/benchmark_formats.h"
#include "datasets/conversation_formats.h"
#include "datasets/exporter.h"
#include "datasets/image_paths.h"
#include "datasets/importer.h"
#include "metrics/scoring.h"
#include "store/review_journal.h"
#include "store/sample_query.h"
#include "store/sql_util.h"
#include "test_support.h"
#include "util/error.h"
#include "util/json_file.h"

#include <QDir>
#include <QtTest>

using namespace mpa;
using namespace mpa::store;

namespace {

QString errorOf(const std::function<void()> &f)
{
    try {
        f();
    } catch (const Error &e) {
        return e.message();
    }
    return {};
}

// A PI answer file in the official layout.
QByteArray piFile(const QList<std::array<const char *, 4>> &rows)
{
    QJsonArray a;
    int id = 0;
    for (const auto &r : rows)
        a.append(QJsonObject{{QStringLiteral("question_id"), id++}, {QStringLiteral("image_path"), QString::fromUtf8(r[0])},
                             {QStringLiteral("PA_question"), QString::fromUtf8(r[1])}, {QStringLiteral("PA_answer"), QString::fromUtf8(r[2])},
                             {QStringLiteral("predictions"), QString::fromUtf8(r[3])}});
    return QJsonDocument(a).toJson();
}

} // namespace

class TestDatasetFormats : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init() { m_tmp = std::make_unique<QTemporaryDir>(); }
    void textVqaAndStVqaAndChartQa();
    void officialVqaQuestionsAndAnnotations();
    void imagePathsAreRebased();
    void malformedFilesAreClearErrors_data();
    void malformedFilesAreClearErrors();
    void failedParseImportsNothing();
    void llavaReaderHandlesTurnsAndRefusesMultiImage();
    void parityImportIdentifiesAndRoundTripsThroughJsonl();
    void llavaAndShareGptExports();
    void vqaResultsExportScoresBack();
    void reimportDoesNotDuplicate();

private:
    QString path(const QString &name) const { return m_tmp->filePath(name); }
    std::unique_ptr<QTemporaryDir> m_tmp;
};

void TestDatasetFormats::textVqaAndStVqaAndChartQa()
{
    test::writeText(path(QStringLiteral("TextVQA_0.5.1_val.json")), R"({"dataset_type":"val","data":[
        {"question":"what brand?","image_id":"abc123","answers":["nokia","nokia","Nokia","nokia","nokia","nokia","nokia","nokia","nokia","nokia"],
         "question_id":34602,"set_name":"val","image_width":1024}]})");
    const datasets::BenchmarkSet t = datasets::readTextVqa(path(QStringLiteral("TextVQA_0.5.1_val.json")), {});
    QCOMPARE(t.dataset, QStringLiteral("textvqa"));
    QCOMPARE(t.split, QStringLiteral("val"));
    QCOMPARE(t.entries.size(), 1);
    QCOMPARE(t.entries[0].questionId, QStringLiteral("34602"));
    QCOMPARE(t.entries[0].answers.size(), 10);
    QCOMPARE(t.entries[0].imagePath, QDir::cleanPath(path(QStringLiteral("abc123.jpg"))));

    test::writeText(path(QStringLiteral("stvqa_train.json")), R"({"data":[{"file_path":"coco-text/COCO_train2014_000000000009.jpg",
        "question":"what word?","answers":["stop","STOP"],"question_id":7}]})");
    const datasets::BenchmarkSet s = datasets::readStVqa(path(QStringLiteral("stvqa_train.json")), {path(QStringLiteral("imgs")), {}, {}, {}});
    QCOMPARE(s.split, QStringLiteral("train"));
    QCOMPARE(s.entries[0].imagePath, QDir::cleanPath(path(QStringLiteral("imgs/coco-text/COCO_train2014_000000000009.jpg"))));

    test::writeText(path(QStringLiteral("test_augmented.json")), R"([{"imgname":"41699051005347.png","query":"How many bars?","label":"5"},
        {"imgname":"x.png","query":"Max?","label":12.5}])");
    const datasets::BenchmarkSet c = datasets::readChartQa(path(QStringLiteral("test_augmented.json")), {});
    QCOMPARE(c.entries.size(), 2);
    QCOMPARE(c.entries[1].questionId, QStringLiteral("1")); // official files have no ids: the index
    QCOMPARE(c.entries[1].answers, QStringList{QStringLiteral("12.5")});
    QCOMPARE(c.split, QStringLiteral("test"));
}

void TestDatasetFormats::officialVqaQuestionsAndAnnotations()
{
    test::writeText(path(QStringLiteral("OpenEnded_mscoco_val2014_questions.json")), R"({"data_subtype":"val2014","questions":[
        {"image_id":297147,"question":"What sport?","question_id":2971475}]})");
    test::writeText(path(QStringLiteral("mscoco_val2014_annotations.json")), R"({"annotations":[{"question_id":2971475,"image_id":297147,
        "question_type":"what","answer_type":"other","answers":[{"answer":"race","answer_confidence":"yes","answer_id":1},
        {"answer":"ride","answer_confidence":"yes","answer_id":2}]}]})");
    datasets::BenchmarkOptions o;
    o.annotationsFile = path(QStringLiteral("mscoco_val2014_annotations.json"));
    o.imageRoot = path(QStringLiteral("coco"));
    o.dataset = QStringLiteral("okvqa");
    const datasets::BenchmarkSet v = datasets::readVqa(path(QStringLiteral("OpenEnded_mscoco_val2014_questions.json")), o);
    QCOMPARE(v.dataset, QStringLiteral("okvqa"));
    QCOMPARE(v.split, QStringLiteral("val"));
    QCOMPARE(v.entries[0].answers, (QStringList{QStringLiteral("race"), QStringLiteral("ride")}));
    QCOMPARE(QFileInfo(v.entries[0].imagePath).fileName(), QStringLiteral("COCO_val2014_000000297147.jpg"));
    // The annotations file alone is refused with a hint.
    const QString err = errorOf([&] { datasets::readVqa(o.annotationsFile, {}); });
    QVERIFY2(err.contains(QLatin1String("questions file")), qPrintable(err));
}

void TestDatasetFormats::imagePathsAreRebased()
{
    test::writeText(path(QStringLiteral("root/TextVQA/train_images/0054c91397f2fe05.jpg")), "x");
    // The longest tail that exists under the root wins.
    QCOMPARE(datasets::resolveImagePath(QStringLiteral("/workspace/data/TextVQA/train_images/0054c91397f2fe05.jpg"), path(QStringLiteral("root")), {}),
             QDir::cleanPath(path(QStringLiteral("root/TextVQA/train_images/0054c91397f2fe05.jpg"))));
    // None exists: root/<file name>, recorded as missing later.
    QCOMPARE(datasets::resolveImagePath(QStringLiteral("/elsewhere/x/y.jpg"), path(QStringLiteral("root")), {}),
             QDir::cleanPath(path(QStringLiteral("root/y.jpg"))));
    QCOMPARE(datasets::resolveImagePath(QStringLiteral("/abs/y.jpg"), QString(), {}), QStringLiteral("/abs/y.jpg"));
}

void TestDatasetFormats::malformedFilesAreClearErrors_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("expected");
    QTest::newRow("empty") << QByteArray("  \n") << "file is empty";
    QTest::newRow("truncated") << QByteArray(R"({"data":[{"question":"what)") << "truncated JSON";
    QTest::newRow("malformed") << QByteArray(R"({"data": [1 2]})") << "malformed JSON";
    QTest::newRow("wrong top level") << QByteArray(R"([{"question":"q"}])") << "expected a JSON object";
    QTest::newRow("missing data") << QByteArray(R"({"dataset":"x"})") << "\"data\" is missing";
    QTest::newRow("record not an object") << QByteArray(R"({"data":[42]})") << "record 1: expected an object, got a number";
    QTest::newRow("missing field") << QByteArray(R"({"data":[{"image_id":"a","question_id":1,"answers":["x"]}]})")
                                   << "record 1: field \"question\" is missing";
    QTest::newRow("wrong type") << QByteArray(R"({"data":[{"question":"q","image_id":"a","question_id":1,"answers":"x"}]})")
                                << "field \"answers\" must be an array, got a string";
    QTest::newRow("wrong item type") << QByteArray(R"({"data":[{"question":"q","image_id":"a","question_id":1,"answers":["x",{}]}]})")
                                     << "item 2 must be a string, got an object";
    QTest::newRow("id of wrong type") << QByteArray(R"({"data":[{"question":"q","image_id":"a","question_id":[1],"answers":[]}]})")
                                      << "\"question_id\" must be a number or a string";
}

void TestDatasetFormats::malformedFilesAreClearErrors()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, expected);
    const QString file = path(QString::fromUtf8("bad file é.json"));
    test::writeText(file, content);
    const QString err = errorOf([&] { datasets::readTextVqa(file, {}); });
    QVERIFY2(err.startsWith(file), qPrintable(err));
    QVERIFY2(err.contains(expected), qPrintable(err));
    QVERIFY2(!err.contains(QLatin1Char('\n')), "one line");
    // A missing file too.
    const QString missing = errorOf([&] { datasets::readTextVqa(path(QStringLiteral("nope.json")), {}); });
    QVERIFY2(missing.contains(QLatin1String("nope.json: file not found")), qPrintable(missing));
}

void TestDatasetFormats::failedParseImportsNothing()
{
    const Workspace ws = Workspace::create(path(QStringLiteral("ws")));
    test::writeText(path(QStringLiteral("good.json")), R"([{"imgname":"a.png","query":"q","label":"1"}])");
    datasets::Importer(ws).importBenchmark(datasets::BenchmarkFormat::ChartQa, path(QStringLiteral("good.json")), {});
    // The second record is bad: the whole file is refused before anything is written.
    test::writeText(path(QStringLiteral("bad.json")), R"([{"imgname":"b.png","query":"q","label":"1"},{"imgname":"c.png","label":"2"}])");
    const QString err = errorOf([&] {
        datasets::Importer(ws).importBenchmark(datasets::BenchmarkFormat::ChartQa, path(QStringLiteral("bad.json")), {});
    });
    QVERIFY2(err.contains(QLatin1String("record 2: field \"query\" is missing")), qPrintable(err));
    QCOMPARE(test::countRows(ws, QStringLiteral("benchmark_items")), 1);
    QCOMPARE(test::countRows(ws, QStringLiteral("runs")), 1);
}

void TestDatasetFormats::llavaReaderHandlesTurnsAndRefusesMultiImage()
{
    test::writeText(path(QStringLiteral("conv.json")), R"([
        {"id":"a","image":"x.jpg","conversations":[{"from":"human","value":"<image>\nWhat color"},{"from":"gpt","value":"red"},
                                                   {"from":"human","value":"And the size?"},{"from":"gpt","value":"big"}]},
        {"id":7,"image":["y.jpg"],"conversations":[{"from":"human","value":"What?<image>"},{"from":"gpt","value":"z"}]}])");
    const QList<datasets::QaPair> pairs = datasets::readLlava(path(QStringLiteral("conv.json")), path(QStringLiteral("imgs")));
    QCOMPARE(pairs.size(), 3);
    QCOMPARE(pairs[0].question, QStringLiteral("What color"));
    QCOMPARE(pairs[1].id, QStringLiteral("a#1"));
    QCOMPARE(pairs[1].answer, QStringLiteral("big"));
    QCOMPARE(pairs[2].id, QStringLiteral("7"));
    QCOMPARE(pairs[2].question, QStringLiteral("What?"));
    QCOMPARE(pairs[2].imagePath, QDir::cleanPath(path(QStringLiteral("imgs/y.jpg"))));

    test::writeText(path(QStringLiteral("multi.json")), R"([{"id":1,"image":["a.jpg","b.jpg"],"conversations":[]}])");
    QVERIFY(errorOf([&] { datasets::readLlava(path(QStringLiteral("multi.json")), {}); }).contains(QLatin1String("has 2 images")));
    test::writeText(path(QStringLiteral("noimg.json")), R"([{"id":1,"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]}])");
    QVERIFY(errorOf([&] { datasets::readLlava(path(QStringLiteral("noimg.json")), {}); }).contains(QLatin1String("\"image\" is missing")));
    test::writeText(path(QStringLiteral("odd.json")), R"([{"id":1,"image":"a.jpg","conversations":[{"from":"human","value":"hi"}]}])");
    QVERIFY(errorOf([&] { datasets::readLlava(path(QStringLiteral("odd.json")), {}); }).contains(QLatin1String("no answer")));
}

void TestDatasetFormats::parityImportIdentifiesAndRoundTripsThroughJsonl()
{
    const Workspace ws = Workspace::create(path(QStringLiteral("ws")));
    test::writeJpeg(path(QStringLiteral("imgs/one.jpg")), 20, 10);
    const auto rows = QList<std::array<const char *, 4>>{
        {"one.jpg", "What airline", "Virgin", "Virgin"},
        {"one.jpg", "What year", "2011", "2011"},
        {"two.jpg", "Which city", "Paris", "London"},
        {"two.jpg", "Which word", "STOP", "stop"}};
    test::writeText(path(QStringLiteral("PI_ann_Large-7B_textVQA.json")), piFile(rows));
    auto small = rows;
    small[0][3] = "Qantas";          // gap
    small[1][3] = "in 2011";         // both right
    small[2][3] = "Paris, France";   // S only
    small[3][3] = "go";              // L right, S wrong: gap
    test::writeText(path(QStringLiteral("PI_ann_Small-2B_textVQA.json")), piFile(small));

    datasets::Importer importer(ws);
    // Without --role and an unknown model: refused, nothing written.
    QVERIFY(errorOf([&] { importer.importMpaParityAnswers(path(QStringLiteral("PI_ann_Large-7B_textVQA.json")), path(QStringLiteral("imgs")), {}, {}); })
                .contains(QLatin1String("--role")));
    importer.importMpaParityAnswers(path(QStringLiteral("PI_ann_Large-7B_textVQA.json")), path(QStringLiteral("imgs")), {}, QStringLiteral("large"));
    const datasets::ImportReport r = importer.importMpaParityAnswers(path(QStringLiteral("PI_ann_Small-2B_textVQA.json")), path(QStringLiteral("imgs")), {}, QStringLiteral("small"));
    QCOMPARE(r.verdicts, 4);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples")), 4);
    QCOMPARE(test::countRows(ws, QStringLiteral("answers")), 8);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("outcome = 'gap'")), 2);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("outcome = 's_only'")), 1);
    QCOMPARE(test::countRows(ws, QStringLiteral("images"), QStringLiteral("status = 'missing'")), 1);

    // Review: approve one gap with an edited answer, reject the other.
    SampleFilter gapsFilter;
    gapsFilter.outcome = QStringLiteral("gap");
    const QList<SampleRow> gaps = SampleQuery(ws).page(gapsFilter);
    ReviewJournal(ws).record(gaps[0].id, Decision::Approve, std::nullopt, QStringLiteral("Virgin Atlantic"));
    ReviewJournal(ws).record(gaps[1].id, Decision::Reject);

    const QString jsonl = path(QStringLiteral("out/all.jsonl"));
    QDir().mkpath(path(QStringLiteral("out")));
    datasets::ExportOptions o;
    o.format = datasets::ExportFormat::Jsonl;
    o.selection = datasets::ExportSelection::All;
    QCOMPARE(datasets::exportWorkspace(ws, jsonl, o), 4);

    const Workspace copy = Workspace::create(path(QStringLiteral("copy")));
    datasets::Importer(copy).importJsonl(jsonl, {});
    const QList<SampleRow> a = SampleQuery(ws).page({});
    const QList<SampleRow> b = SampleQuery(copy).page({});
    QCOMPARE(a.size(), b.size());
    for (qsizetype i = 0; i < a.size(); ++i) {
        QCOMPARE(b[i].imagePath, a[i].imagePath);
        QCOMPARE(b[i].question, a[i].question);
        QCOMPARE(b[i].answer, a[i].answer);
        QCOMPARE(b[i].originalAnswer, a[i].originalAnswer);
        QCOMPARE(b[i].outcome, a[i].outcome);
        QCOMPARE(b[i].reviewState, a[i].reviewState);
        QCOMPARE(b[i].task, a[i].task);
        QCOMPARE(b[i].source, a[i].source);
        QCOMPARE(b[i].sourceKey, a[i].sourceKey);
    }
    QCOMPARE(test::countRows(copy, QStringLiteral("answers")), 8);
    QCOMPARE(test::countRows(copy, QStringLiteral("models"), QStringLiteral("role = 'large'")), 1);
    // Importing the same JSONL again changes nothing (no extra journal entries either).
    const qint64 reviews = test::countRows(copy, QStringLiteral("reviews"));
    datasets::Importer(copy).importJsonl(jsonl, {});
    QCOMPARE(test::countRows(copy, QStringLiteral("reviews")), reviews);
    QCOMPARE(test::countRows(copy, QStringLiteral("samples")), 4);
}

void TestDatasetFormats::llavaAndShareGptExports()
{
    const Workspace ws = Workspace::create(path(QStringLiteral("ws")));
    test::writeText(path(QStringLiteral("PI_a_L_chartVQA.json")), piFile({{"c/1.png", "What is the max", "42", "42"}, {"c/2.png", "Which year", "2011", "2011"}}));
    test::writeText(path(QStringLiteral("PI_a_S_chartVQA.json")), piFile({{"c/1.png", "What is the max", "42", "40"}, {"c/2.png", "Which year", "2011", "2011"}}));
    datasets::Importer importer(ws);
    importer.importMpaParityAnswers(path(QStringLiteral("PI_a_L_chartVQA.json")), path(QStringLiteral("imgs")), {}, QStringLiteral("large"));
    importer.importMpaParityAnswers(path(QStringLiteral("PI_a_S_chartVQA.json")), path(QStringLiteral("imgs")), {}, QStringLiteral("small"));

    datasets::ExportOptions o;
    o.imageRoot = path(QStringLiteral("imgs"));
    // Nothing approved yet: an empty training set.
    QCOMPARE(datasets::exportWorkspace(ws, path(QStringLiteral("train.json")), o), 0);
    SampleFilter gapsFilter;
    gapsFilter.outcome = QStringLiteral("gap");
    ReviewJournal(ws).record(SampleQuery(ws).page(gapsFilter).first().id, Decision::Approve);
    QCOMPARE(datasets::exportWorkspace(ws, path(QStringLiteral("train.json")), o), 1);
    const QJsonArray llava = json::readFile(path(QStringLiteral("train.json"))).array();
    QCOMPARE(llava[0][QStringLiteral("image")].toString(), QStringLiteral("c/1.png"));
    QCOMPARE(llava[0][QStringLiteral("conversations")][0][QStringLiteral("value")].toString(), QStringLiteral("<image>\nWhat is the max"));
    QCOMPARE(llava[0][QStringLiteral("conversations")][1][QStringLiteral("value")].toString(), QStringLiteral("42"));

    // The LLaVA export imports back as the same pair.
    const Workspace back = Workspace::create(path(QStringLiteral("back")));
    datasets::Importer(back).importConversations(path(QStringLiteral("train.json")), path(QStringLiteral("imgs")), QStringLiteral("chart"));
    const SampleRow row = SampleQuery(back).page({}).first();
    QCOMPARE(row.question, QStringLiteral("What is the max"));
    QCOMPARE(row.answer, QStringLiteral("42"));
    QCOMPARE(row.imagePath, QDir::cleanPath(path(QStringLiteral("imgs/c/1.png"))));

    o.format = datasets::ExportFormat::ShareGpt;
    o.datasetName = QStringLiteral("mpa_chart");
    QDir().mkpath(path(QStringLiteral("lf")));
    test::writeText(path(QStringLiteral("lf/dataset_info.json")), R"({"existing":{"file_name":"x.json"}})");
    QCOMPARE(datasets::exportWorkspace(ws, path(QStringLiteral("lf/mpa.json")), o), 1);
    const QJsonObject info = json::readFile(path(QStringLiteral("lf/dataset_info.json"))).object();
    QVERIFY(info.contains(QStringLiteral("existing")));
    QCOMPARE(info[QStringLiteral("mpa_chart")][QStringLiteral("file_name")].toString(), QStringLiteral("mpa.json"));
    QCOMPARE(info[QStringLiteral("mpa_chart")][QStringLiteral("formatting")].toString(), QStringLiteral("sharegpt"));
    const QJsonArray sharegpt = json::readFile(path(QStringLiteral("lf/mpa.json"))).array();
    QCOMPARE(sharegpt[0][QStringLiteral("images")][0].toString(), QStringLiteral("c/1.png"));
    QCOMPARE(sharegpt[0][QStringLiteral("conversations")][0][QStringLiteral("from")].toString(), QStringLiteral("human"));
}

void TestDatasetFormats::vqaResultsExportScoresBack()
{
    const Workspace ws = Workspace::create(path(QStringLiteral("ws")));
    test::writeText(path(QStringLiteral("Eval_Tiny-Model_chartVQA.json")), R"([
        {"question_id":0,"image_path":"/x/a.png","GT_question":"q0","GT_answer":"2011","predictions":"2020"},
        {"question_id":1,"image_path":"/x/b.png","GT_question":"q1","GT_answer":"23","predictions":"28"}])");
    const datasets::ImportReport r = datasets::Importer(ws).importBenchmark(datasets::BenchmarkFormat::MpaEval,
                                                                             path(QStringLiteral("Eval_Tiny-Model_chartVQA.json")), {});
    QCOMPARE(r.predictions, 2);
    QCOMPARE(test::countRows(ws, QStringLiteral("benchmark_items"), QStringLiteral("dataset = 'chartqa'")), 2);
    QCOMPARE(test::countRows(ws, QStringLiteral("models"), QStringLiteral("name = 'Tiny-Model'")), 1);
    datasets::ExportOptions o;
    o.format = datasets::ExportFormat::VqaResults;
    QCOMPARE(datasets::exportWorkspace(ws, path(QStringLiteral("results.json")), o), 2);
    const QHash<QString, QString> preds = metrics::readPredictionsFile(path(QStringLiteral("results.json")));
    QCOMPARE(preds.value(QStringLiteral("0")), QStringLiteral("2020"));
    const datasets::BenchmarkSet truth = datasets::readMpaEval(path(QStringLiteral("Eval_Tiny-Model_chartVQA.json")), {});
    // 2020 for 2011 is within 5 % (years are numbers); 28 for 23 is not.
    QCOMPARE(metrics::scorePredictions(metrics::Metric::RelaxedAccuracy, preds, truth, {}).mean, 0.5);
    QCOMPARE(metrics::scorePredictions(metrics::Metric::MpaSubstring, preds, truth, {}).mean, 0.0);
    // A workspace without predictions: a clear refusal.
    const Workspace empty = Workspace::create(path(QStringLiteral("empty")));
    QVERIFY(errorOf([&] { datasets::exportWorkspace(empty, path(QStringLiteral("r.json")), o); }).contains(QLatin1String("no predictions")));
}

void TestDatasetFormats::reimportDoesNotDuplicate()
{
    const Workspace ws = Workspace::create(path(QStringLiteral("ws")));
    test::writeText(path(QStringLiteral("conv.json")), R"([{"id":"a","image":"x.jpg","conversations":[{"from":"human","value":"<image>\nq"},{"from":"gpt","value":"a"}]}])");
    datasets::Importer importer(ws);
    importer.importConversations(path(QStringLiteral("conv.json")), {}, QStringLiteral("text"));
    importer.importConversations(path(QStringLiteral("conv.json")), {}, QStringLiteral("text"));
    QCOMPARE(test::countRows(ws, QStringLiteral("samples")), 1);
    QCOMPARE(test::countRows(ws, QStringLiteral("images")), 1);
}

QTEST_GUILESS_MAIN(TestDatasetFormats)
#include "test_dataset_formats.moc"
