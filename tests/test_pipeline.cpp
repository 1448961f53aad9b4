// The MPA jobs end to end on tiny random models (CPU, seconds): pseudo annotation with a
// corrupt image mid-run, cancel then resume, parity identification with verdicts checked
// against the stored answers, evaluation with stored predictions, the flip table, and the CLI.
#include "datasets/importer.h"
#include "pipeline/evaluator.h"
#include "pipeline/parity_identifier.h"
#include "pipeline/pseudo_annotator.h"
#include "pipeline/task_prompts.h"
#include "store/sql_util.h"
#include "test_support.h"
#include "util/error.h"
#include "vlm/vlm_model.h"

#include <QDir>
#include <QProcess>
#include <QtTest>

using namespace mpa;

namespace {


} // namespace

class TestPipeline : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void parsingFollowsTheOfficialRules();
    void annotateRecordsEveryImageAndSurvivesACorruptOne();
    void cancelThenResumeDoesNotRedoWork();
    void identifyGivesVerdictsConsistentWithAnswers();
    void evaluateStoresPredictionsAndScores();
    void cliRunsAndSavesConfigs();

private:
    store::Workspace freshWorkspace(const QString &name);
    QTemporaryDir m_tmp;
    QString m_large, m_small, m_images;
    std::unique_ptr<backends::VlmBackend> m_l, m_s;
    backends::NativeBackendOptions m_opts;
};

void TestPipeline::initTestCase()
{
    if (test::fixturesDir().isEmpty())
        QSKIP("golden fixtures not found (the Qwen2 tokenizer comes from them)");
    m_large = m_tmp.filePath(QStringLiteral("large"));
    m_small = m_tmp.filePath(QStringLiteral("small"));
    vlm::writeRandomModelFolder(m_large, test::tinyQwen2VLConfig(), test::fixture(QStringLiteral("qwen2-tokenizer")), 1);
    vlm::writeRandomModelFolder(m_small, test::tinyQwen2VLConfig(), test::fixture(QStringLiteral("qwen2-tokenizer")), 2);
    m_images = m_tmp.filePath(QStringLiteral("images"));
    for (int i = 0; i < 6; ++i)
        test::writePng(m_images + QStringLiteral("/img%1.png").arg(i), 56 + 14 * i, 56, i);
    m_opts.minPixels = 56 * 56;
    m_opts.maxPixels = 112 * 112;
    m_opts.batchSize = 2;
    m_l = backends::makeNativeBackend(m_large, m_opts);
    m_s = backends::makeNativeBackend(m_small, m_opts);
}

store::Workspace TestPipeline::freshWorkspace(const QString &name)
{
    store::Workspace ws = store::Workspace::create(m_tmp.filePath(name));
    datasets::Importer(ws).importImageFolder(m_images);
    return ws;
}

void TestPipeline::parsingFollowsTheOfficialRules()
{
    auto p = pipeline::parsePseudoAnnotation(QStringLiteral("Question: What brand is the phone? Answer: Nokia"));
    QVERIFY(p);
    QCOMPARE(p->question, QStringLiteral("What brand is the phone")); // the '?' is dropped
    QCOMPARE(p->answer, QStringLiteral("Nokia"));
    p = pipeline::parsePseudoAnnotation(QStringLiteral("question: Where is this?\nANSWER:  Paris \nSome explanation"));
    QVERIFY(p);
    QCOMPARE(p->question, QStringLiteral("Where is this"));
    QCOMPARE(p->answer, QStringLiteral("Paris"));
    p = pipeline::parsePseudoAnnotation(QStringLiteral("Question: Is it red? Maybe blue?\nAnswer: yes"));
    QCOMPARE(p->question, QStringLiteral("Is it red")); // up to the first '?'
    QVERIFY(!pipeline::parsePseudoAnnotation(QStringLiteral("Question: Which year\nAnswer: 2011"))); // no '?'
    QVERIFY(!pipeline::parsePseudoAnnotation(QStringLiteral("Answer: only an answer")));
    QVERIFY(!pipeline::parsePseudoAnnotation(QStringLiteral("Question: ?\nAnswer: x")));
    QVERIFY(!pipeline::parsePseudoAnnotation(QStringLiteral("Question: What is shown?\nAnswer:")));
    QCOMPARE(pipeline::parityPrompt(QStringLiteral("What airline does the plane belong to")),
             QStringLiteral("What airline does the plane belong toAnswer the following question in a single word or phrase."));
}

void TestPipeline::annotateRecordsEveryImageAndSurvivesACorruptOne()
{
    const store::Workspace ws = freshWorkspace(QStringLiteral("annotate"));
    // Break one image after import: the database still calls it ok, decoding fails mid-run.
    QFile::copy(m_images + QStringLiteral("/img3.png"), m_images + QStringLiteral("/img3.png.orig"));
    test::writeText(m_images + QStringLiteral("/img3.png"), "not a png any more");
    pipeline::AnnotateParams params;
    params.task = QStringLiteral("chart");
    params.maxNewTokens = 6;
    const pipeline::JobSummary s = pipeline::runPseudoAnnotator(ws, *m_l, m_large, params, {});
    QFile::remove(m_images + QStringLiteral("/img3.png"));
    QFile::rename(m_images + QStringLiteral("/img3.png.orig"), m_images + QStringLiteral("/img3.png"));
    QCOMPARE(s.done, 6);
    QCOMPARE(s.failed, 1);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("task = 'chart'")), 6);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("raw_text LIKE '[error]%img3.png%'")), 1);
    // Every stored raw text parses (or not) exactly as the parser says.
    QSqlDatabase db = ws.connection();
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT raw_text, parse_status, question FROM samples"));
    while (q.next()) {
        const auto parsed = pipeline::parsePseudoAnnotation(q.value(0).toString());
        QCOMPARE(q.value(1).toString() == QLatin1String("ok"), parsed.has_value());
    }
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT status FROM runs WHERE id = ?"), {s.runId}).toString(), QStringLiteral("finished"));
    QCOMPARE(pipeline::taskPrompt(ws, QStringLiteral("chart")).left(20), QStringLiteral("Look at the chart an"));
    // The run records the exact prompt it used.
    const QJsonObject recorded = QJsonDocument::fromJson(store::scalar(db, QStringLiteral("SELECT params FROM runs WHERE id = ?"), {s.runId}).toString().toUtf8()).object();
    QCOMPARE(recorded.value(QStringLiteral("prompt")).toString(), pipeline::taskPrompt(ws, QStringLiteral("chart")));
}

void TestPipeline::cancelThenResumeDoesNotRedoWork()
{
    const store::Workspace ws = freshWorkspace(QStringLiteral("resume"));
    pipeline::AnnotateParams params;
    params.maxNewTokens = 4;
    params.batchSize = 2;
    const pipeline::JobSummary first = pipeline::runPseudoAnnotator(ws, *m_l, m_large, params, [](qint64 done, qint64, const QString &) { return done < 2; });
    QVERIFY(first.cancelled);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples")), 2);
    QSqlDatabase db = ws.connection();
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT status FROM runs WHERE id = ?"), {first.runId}).toString(), QStringLiteral("cancelled"));
    const pipeline::JobSummary second = pipeline::runPseudoAnnotator(ws, *m_l, m_large, {}, {}, first.runId);
    QCOMPARE(second.runId, first.runId);
    QCOMPARE(second.skipped, 2);
    QCOMPARE(second.done, 4);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples")), 6);
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT status FROM runs WHERE id = ?"), {first.runId}).toString(), QStringLiteral("finished"));
    // A finished run cannot be resumed; another kind's run neither.
    QVERIFY_THROWS_EXCEPTION(Error, pipeline::runPseudoAnnotator(ws, *m_l, m_large, {}, {}, first.runId));
}

void TestPipeline::identifyGivesVerdictsConsistentWithAnswers()
{
    const store::Workspace ws = freshWorkspace(QStringLiteral("identify"));
    test::writeText(m_tmp.filePath(QStringLiteral("pairs.json")), R"([
        {"id":1,"image":"img0.png","conversations":[{"from":"human","value":"<image>\nWhat colour"},{"from":"gpt","value":"red"}]},
        {"id":2,"image":"img1.png","conversations":[{"from":"human","value":"<image>\nHow many bars"},{"from":"gpt","value":"4"}]},
        {"id":3,"image":"img2.png","conversations":[{"from":"human","value":"<image>\nWhich is largest"},{"from":"gpt","value":"B"}]},
        {"id":4,"image":"img4.png","conversations":[{"from":"human","value":"<image>\nTitle"},{"from":"gpt","value":"?!"}]}])");
    datasets::Importer(ws).importConversations(m_tmp.filePath(QStringLiteral("pairs.json")), m_images, QStringLiteral("chart"));
    pipeline::IdentifyParams params;
    params.maxNewTokens = 5;
    const pipeline::JobSummary s = pipeline::runParityIdentifier(ws, *m_l, m_large, *m_s, m_small, params, {});
    QCOMPARE(s.done, 8);
    QCOMPARE(test::countRows(ws, QStringLiteral("verdicts"), QStringLiteral("run_id = %1").arg(s.runId)), 4);
    QSqlDatabase db = ws.connection();
    QSqlQuery q = store::exec(db, QStringLiteral(R"(
        SELECT s.answer, v.l_correct, v.s_correct, v.outcome,
          (SELECT a.text FROM answers a JOIN models m ON m.id = a.model_id WHERE a.sample_id = s.id AND m.role = 'large'),
          (SELECT a.text FROM answers a JOIN models m ON m.id = a.model_id WHERE a.sample_id = s.id AND m.role = 'small')
        FROM samples s JOIN verdicts v ON v.sample_id = s.id)"));
    while (q.next()) {
        const bool l = pipeline::answerMatches(QStringLiteral("mpa"), q.value(0).toString(), q.value(4).toString());
        const bool sm = pipeline::answerMatches(QStringLiteral("mpa"), q.value(0).toString(), q.value(5).toString());
        QCOMPARE(q.value(1).toBool(), l);
        QCOMPARE(q.value(2).toBool(), sm);
        if (q.value(3).toString() == QLatin1String("gap"))
            QVERIFY(l && !sm);
    }
    // "?!" normalises to nothing: matched by every answer, never a gap.
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("answer = '?!' AND outcome = 'both_right'")), 1);
    QVERIFY_THROWS_EXCEPTION(Error, [&] {
        pipeline::IdentifyParams bad;
        bad.criterion = QStringLiteral("bleu");
        pipeline::runParityIdentifier(ws, *m_l, m_large, *m_s, m_small, bad, {});
    }());
}

void TestPipeline::evaluateStoresPredictionsAndScores()
{
    const store::Workspace ws = freshWorkspace(QStringLiteral("evaluate"));
    test::writeText(m_tmp.filePath(QStringLiteral("test.json")), R"([{"imgname":"img0.png","query":"Max?","label":"12"},
        {"imgname":"img1.png","query":"Min?","label":"3"},{"imgname":"img2.png","query":"Title?","label":"Sales"}])");
    datasets::BenchmarkOptions o;
    o.imageRoot = m_images;
    datasets::Importer(ws).importBenchmark(datasets::BenchmarkFormat::ChartQa, m_tmp.filePath(QStringLiteral("test.json")), o);
    pipeline::EvaluateParams params;
    params.dataset = QStringLiteral("chartqa");
    params.maxNewTokens = 4;
    pipeline::EvaluationScores scores;
    const pipeline::JobSummary a = pipeline::runEvaluation(ws, *m_s, m_small, params, {}, 0, &scores);
    QCOMPARE(a.done, 3);
    QCOMPARE(scores.metric, QStringLiteral("relaxed"));
    QCOMPARE(scores.questions, 3);
    QCOMPARE(test::countRows(ws, QStringLiteral("predictions"), QStringLiteral("run_id = %1").arg(a.runId)), 3);
    QCOMPARE(test::countRows(ws, QStringLiteral("metrics"), QStringLiteral("run_id = %1 AND name IN ('relaxed', 'mpa', 'questions')").arg(a.runId)), 3);
    // The same greedy model again: identical predictions, so nothing flips.
    const pipeline::JobSummary b = pipeline::runEvaluation(ws, *m_s, m_small, params, {});
    const pipeline::FlipTable t = pipeline::compareEvaluationRuns(ws, a.runId, b.runId);
    QCOMPARE(t.fixed + t.broken, 0);
    QCOMPARE(t.stillRight + t.stillWrong, 3);
    params.dataset = QStringLiteral("nothing");
    QVERIFY_THROWS_EXCEPTION(Error, pipeline::runEvaluation(ws, *m_s, m_small, params, {}));
}

void TestPipeline::cliRunsAndSavesConfigs()
{
    const store::Workspace ws = freshWorkspace(QStringLiteral("cli"));
    const QString config = m_tmp.filePath(QStringLiteral("annotate.json"));
    QProcess p;
    p.start(test::cliPath(), {QStringLiteral("annotate"), ws.root(), QStringLiteral("--model"), m_large, QStringLiteral("--task"),
                              QStringLiteral("knowledge"), QStringLiteral("--max-new-tokens"), QStringLiteral("3"), QStringLiteral("--save-config"), config});
    p.waitForFinished(60000);
    QCOMPARE(p.exitCode(), 0);
    p.start(test::cliPath(), {QStringLiteral("annotate"), ws.root(), QStringLiteral("--config"), config, QStringLiteral("--limit"), QStringLiteral("2")});
    p.waitForFinished(120000);
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    QVERIFY(QString::fromUtf8(p.readAllStandardOutput()).contains(QLatin1String("2 done")));
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("task = 'knowledge'")), 2);
}

QTEST_GUILESS_MAIN(TestPipeline)
#include "test_pipeline.moc"
