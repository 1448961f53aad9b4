// The Parity Leveler on a tiny random model: the loss goes down, a cancelled run resumed from
// its checkpoint continues the same loss curve and ends with the same weights as an
// uninterrupted run, LoRA checkpoints are complete model folders with the adapters merged,
// and a run without training samples is refused with the reason.
#include "datasets/importer.h"
#include "pipeline/parity_leveler.h"
#include "store/sql_util.h"
#include "test_support.h"
#include "util/error.h"
#include "vlm/safetensors.h"
#include "vlm/vlm_model.h"

#include <QDir>
#include <QProcess>
#include <QtTest>

using namespace mpa;

namespace {


std::vector<double> losses(const store::Workspace &ws, qint64 run)
{
    QSqlDatabase db = ws.connection();
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT value FROM metrics WHERE run_id = ? AND name = 'loss' ORDER BY step"), {run});
    std::vector<double> out;
    while (q.next())
        out.push_back(q.value(0).toDouble());
    return out;
}

double maxWeightDiff(const QString &a, const QString &b)
{
    const auto fa = vlm::SafetensorsFile::open(a + QStringLiteral("/model.safetensors"));
    const auto fb = vlm::SafetensorsFile::open(b + QStringLiteral("/model.safetensors"));
    double worst = 0;
    for (const auto &t : fa->tensors()) {
        const auto *u = reinterpret_cast<const float *>(fa->data(t));
        const auto *v = reinterpret_cast<const float *>(fb->data(*fb->find(t.name)));
        for (std::int64_t i = 0; i < t.numel(); ++i)
            worst = std::max(worst, static_cast<double>(std::abs(u[i] - v[i])));
    }
    return worst;
}

} // namespace

class TestAlign : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void lossGoesDownAndMetricsAreRecorded();
    void resumedRunMatchesUninterruptedRun();
    void loraCheckpointsAreMergedModelFolders();
    void refusesWithoutTrainingSamples();
    void cliAlign();

private:
    store::Workspace workspace(const QString &name);
    pipeline::AlignParams baseParams() const;
    QTemporaryDir m_tmp;
    QString m_model, m_images;
};

void TestAlign::initTestCase()
{
    if (test::fixturesDir().isEmpty())
        QSKIP("golden fixtures not found (the Qwen2 tokenizer comes from them)");
    m_model = m_tmp.filePath(QStringLiteral("student"));
    vlm::writeRandomModelFolder(m_model, test::tinyQwen2VLConfig(), test::fixture(QStringLiteral("qwen2-tokenizer")), 3);
    m_images = m_tmp.filePath(QStringLiteral("images"));
    for (int i = 0; i < 4; ++i)
        test::writePng(m_images + QStringLiteral("/c%1.png").arg(i), 56, 56, 10 + i);
}

store::Workspace TestAlign::workspace(const QString &name)
{
    store::Workspace ws = store::Workspace::create(m_tmp.filePath(name));
    test::writeText(m_tmp.filePath(QStringLiteral("pairs.json")), R"([
        {"id":1,"image":"c0.png","conversations":[{"from":"human","value":"<image>\nWhat colour"},{"from":"gpt","value":"red"}]},
        {"id":2,"image":"c1.png","conversations":[{"from":"human","value":"<image>\nHow many"},{"from":"gpt","value":"4"}]},
        {"id":3,"image":"c2.png","conversations":[{"from":"human","value":"<image>\nWhich"},{"from":"gpt","value":"B"}]},
        {"id":4,"image":"c3.png","conversations":[{"from":"human","value":"<image>\nTitle"},{"from":"gpt","value":"Sales"}]}])");
    datasets::Importer(ws).importConversations(m_tmp.filePath(QStringLiteral("pairs.json")), m_images, QStringLiteral("chart"));
    return ws;
}

pipeline::AlignParams TestAlign::baseParams() const
{
    pipeline::AlignParams p;
    p.selection = QStringLiteral("all");
    p.lrLlm = p.lrMerger = p.lrVision = 3e-3;
    p.batchSize = 2;
    p.gradAccum = 1;
    p.epochs = 3;
    p.warmupRatio = 0.0;
    p.minPixels = 56 * 56;
    p.maxPixels = 56 * 56;
    p.weightDecay = 0.01;
    return p;
}

void TestAlign::lossGoesDownAndMetricsAreRecorded()
{
    const store::Workspace ws = workspace(QStringLiteral("down"));
    pipeline::AlignParams p = baseParams();
    p.heldOutFraction = 0.25;
    p.evalEvery = 1;
    pipeline::AlignResult r;
    const pipeline::JobSummary s = pipeline::runParityLeveler(ws, m_model, p, {}, 0, &r);
    const auto l = losses(ws, s.runId);
    QCOMPARE(static_cast<qint64>(l.size()), r.steps);
    QCOMPARE(r.trainSamples, 3); // one of four held out
    // 3 samples x 3 epochs in batches of 2 is a stream of 9: 5 steps, none of them empty.
    QCOMPARE(r.steps, 5);
    for (double loss : l)
        QVERIFY(loss > 0);
    QSqlDatabase db = ws.connection();
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT value FROM metrics WHERE run_id = ? AND name = 'train_samples'"), {s.runId}).toDouble(), 3.0);
    QVERIFY2(l.back() < l.front(), qPrintable(QStringLiteral("%1 -> %2").arg(l.front()).arg(l.back())));
    for (const char *name : {"lr", "grad_norm", "tokens_per_s", "eta_s", "eval_loss"})
        QVERIFY2(test::countRows(ws, QStringLiteral("metrics"), QStringLiteral("run_id = %1 AND name = '%2'").arg(s.runId).arg(QLatin1String(name))) > 0, name);
    // The final checkpoint is a complete model folder the runtime loads.
    QVERIFY(QFileInfo::exists(r.finalModelDir + QStringLiteral("/tokenizer.json")));
    const auto aligned = vlm::VisionLanguageModel::load(r.finalModelDir);
    QCOMPARE(aligned->info().hiddenSize, 32);
    QCOMPARE(aligned->info().modelType, QStringLiteral("qwen2_vl"));
    QVERIFY(vlm::inspectModelFolder(r.finalModelDir).weightProblems.isEmpty());
}

void TestAlign::resumedRunMatchesUninterruptedRun()
{
    const store::Workspace a = workspace(QStringLiteral("straight"));
    pipeline::AlignResult ra;
    const auto sa = pipeline::runParityLeveler(a, m_model, baseParams(), {}, 0, &ra);

    const store::Workspace b = workspace(QStringLiteral("interrupted"));
    const auto first = pipeline::runParityLeveler(b, m_model, baseParams(), [](qint64 done, qint64, const QString &) { return done < 3; });
    QVERIFY(first.cancelled);
    QCOMPARE(losses(b, first.runId).size(), 3u);
    pipeline::AlignResult rb;
    const auto second = pipeline::runParityLeveler(b, m_model, {}, {}, first.runId, &rb);
    QCOMPARE(second.skipped, 3);
    const auto la = losses(a, sa.runId), lb = losses(b, first.runId);
    QCOMPARE(la.size(), lb.size());
    for (std::size_t i = 0; i < la.size(); ++i)
        QVERIFY2(std::abs(la[i] - lb[i]) < 1e-5, qPrintable(QStringLiteral("step %1: %2 vs %3").arg(i + 1).arg(la[i]).arg(lb[i])));
    const double diff = maxWeightDiff(ra.finalModelDir, rb.finalModelDir);
    qInfo("final weights differ by at most %.3g", diff);
    QVERIFY(diff < 1e-5);
}

void TestAlign::loraCheckpointsAreMergedModelFolders()
{
    const store::Workspace ws = workspace(QStringLiteral("lora"));
    pipeline::AlignParams p = baseParams();
    p.method = QStringLiteral("lora");
    p.loraRank = 4;
    p.loraTargets = {QStringLiteral("q_proj"), QStringLiteral("up_proj")};
    pipeline::AlignResult r;
    pipeline::runParityLeveler(ws, m_model, p, {}, 0, &r);
    const auto base = vlm::SafetensorsFile::open(m_model + QStringLiteral("/model.safetensors"));
    const auto tuned = vlm::SafetensorsFile::open(r.finalModelDir + QStringLiteral("/model.safetensors"));
    QCOMPARE(tuned->tensors().size(), base->tensors().size()); // merged: no adapter tensors
    for (const auto &t : base->tensors()) {
        const auto *u = reinterpret_cast<const float *>(base->data(t));
        const auto *v = reinterpret_cast<const float *>(tuned->data(*tuned->find(t.name)));
        bool changed = false;
        for (std::int64_t i = 0; i < t.numel() && !changed; ++i)
            changed = u[i] != v[i];
        const bool targeted = t.name.contains(QLatin1String("q_proj.weight")) || t.name.contains(QLatin1String("up_proj.weight"));
        QVERIFY2(changed == targeted, qPrintable(t.name));
    }
}

void TestAlign::refusesWithoutTrainingSamples()
{
    const store::Workspace ws = workspace(QStringLiteral("empty"));
    try {
        pipeline::runParityLeveler(ws, m_model, pipeline::AlignParams{}, {}); // approved gaps: none
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("no training samples")), qPrintable(e.message()));
    }
    QCOMPARE(test::countRows(ws, QStringLiteral("runs"), QStringLiteral("kind = 'align' AND status = 'failed'")), 1);
}

void TestAlign::cliAlign()
{
    const store::Workspace ws = workspace(QStringLiteral("cli"));
    QProcess p;
    p.start(test::cliPath(), {QStringLiteral("align"), ws.root(), QStringLiteral("--model"), m_model, QStringLiteral("--select"), QStringLiteral("all"),
                              QStringLiteral("--max-steps"), QStringLiteral("2"), QStringLiteral("--grad-accum"), QStringLiteral("2"),
                              QStringLiteral("--method"), QStringLiteral("lora"), QStringLiteral("--lora-targets"), QStringLiteral("q_proj,v_proj")});
    p.waitForFinished(120000);
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    QVERIFY(QString::fromUtf8(p.readAllStandardOutput()).contains(QLatin1String("trained on 4 samples, 2 steps")));
    p.start(test::cliPath(), {QStringLiteral("align"), ws.root(), QStringLiteral("--model"), m_model, QStringLiteral("--select"), QStringLiteral("bogus")});
    p.waitForFinished(60000);
    QCOMPARE(p.exitCode(), 2);
}

QTEST_GUILESS_MAIN(TestAlign)
#include "test_align.moc"
