// The Parity Leveler on a tiny random model: the loss goes down, a cancelled run resumed from
// its checkpoint continues the same loss curve and ends with the same weights as an
// uninterrupted run, LoRA checkpoints are complete model folders with the adapters merged,
// and a run without training samples is refused with the reason.
#include "datasets/importer.h"
#include "pipeline/parity_leveler.h"
#include "store/catalog.h"
#include "store/review_journal.h"
#include "store/rows.h"
#include "store/run_detail.h"
#include "store/sql_util.h"
#include "test_support.h"
#include "util/error.h"
#include "vlm/safetensors.h"
#include "vlm/vlm_model.h"

#include <QDir>
#include <cstring>
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

// float -> bfloat16 -> float, round to nearest even (what torch's .to(kBFloat16) does).
float roundBf16(float x)
{
    std::uint32_t u;
    std::memcpy(&u, &x, 4);
    u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000u;
    float y;
    std::memcpy(&y, &u, 4);
    return y;
}

std::vector<float> floats(const vlm::SafetensorsFile &f, const QString &name)
{
    const vlm::TensorInfo *t = f.find(name);
    if (!t)
        return {};
    std::vector<float> out(static_cast<std::size_t>(t->numel()));
    if (t->dtype == vlm::DType::F32) {
        std::memcpy(out.data(), f.data(*t), out.size() * 4);
    } else { // BF16
        const auto *h = reinterpret_cast<const std::uint16_t *>(f.data(*t));
        for (std::size_t i = 0; i < out.size(); ++i) {
            const std::uint32_t u = static_cast<std::uint32_t>(h[i]) << 16;
            std::memcpy(&out[i], &u, 4);
        }
    }
    return out;
}

// The tiny model with realistic weight magnitudes: every matrix rescaled to std 0.02 (what
// Qwen2-VL's initializer_range gives and trained 2B weights have), norms left at their values.
void writeRealisticCopy(const QString &from, const QString &to)
{
    QDir().mkpath(to);
    for (const QString &f : QDir(from).entryList(QDir::Files))
        if (f != QLatin1String("model.safetensors"))
            QFile::copy(QDir(from).filePath(f), QDir(to).filePath(f));
    const auto src = vlm::SafetensorsFile::open(from + QStringLiteral("/model.safetensors"));
    std::vector<std::vector<float>> keep;
    std::vector<vlm::TensorToWrite> out;
    for (const vlm::TensorInfo &t : src->tensors()) {
        std::vector<float> v = floats(*src, t.name);
        if (t.shape.size() >= 2) {
            double sq = 0;
            for (float x : v)
                sq += double(x) * x;
            const double scale = 0.02 / std::sqrt(sq / double(v.size()) + 1e-30);
            for (float &x : v)
                x = float(x * scale);
        }
        keep.push_back(std::move(v));
        out.push_back({t.name, vlm::DType::F32, t.shape, keep.back().data()});
    }
    vlm::writeSafetensors(to + QStringLiteral("/model.safetensors"), out);
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
    void recordsTheRunsItsSamplesCameFrom();
    void mixedPrecisionLearnsAtThePapersLearningRate();
    void saveTotalLimitKeepsTheNewest();
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

// The Runs view's "came from" of an alignment: the import that wrote its samples and the
// identify run of their verdicts; not an identify run that judged only other samples, nor an
// annotate run that wrote none of them.
void TestAlign::recordsTheRunsItsSamplesCameFrom()
{
    const store::Workspace ws = workspace(QStringLiteral("sources"));
    store::Catalog c(ws);
    QSqlDatabase db = ws.connection();
    const qint64 import = store::scalar(db, QStringLiteral("SELECT id FROM runs WHERE kind = 'import'")).toLongLong();
    const qint64 judged = c.createRun(store::RunKind::Identify, QStringLiteral("identify 1-2"), {}, store::RunStatus::Finished);
    const qint64 other = c.createRun(store::RunKind::Identify, QStringLiteral("identify 3-4"), {}, store::RunStatus::Finished);
    c.createRun(store::RunKind::Annotate, QStringLiteral("annotate elsewhere"), {}, store::RunStatus::Finished);
    const store::Rows samples = store::readRows(db, QStringLiteral("SELECT id FROM samples ORDER BY id"));
    QCOMPARE(samples.size(), 4);
    for (int i = 0; i < 4; ++i) {
        const qint64 id = samples.at(i, 0).toLongLong();
        c.upsertVerdict(id, i < 2 ? judged : other, true, i >= 2, i < 2 ? store::Outcome::Gap : store::Outcome::BothRight, QStringLiteral("mpa"));
        if (i < 2)
            store::ReviewJournal(ws).record(id, store::Decision::Approve);
    }
    pipeline::AlignParams p = baseParams();
    p.selection = QStringLiteral("approved-gaps");
    p.epochs = 1;
    const pipeline::JobSummary s = pipeline::runParityLeveler(ws, m_model, p, {});
    QList<qint64> parents;
    for (const auto &[id, name] : store::readRunDetail(ws, s.runId).parents)
        parents << id;
    QCOMPARE(parents, (QList<qint64>{import, judged}));
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

// bfloat16 at lr 1e-5 on weights of std 0.02: with float32 master weights every weight that got
// a gradient moves and the run follows the float32 run; pure bfloat16 leaves most weights where
// they were (an update of ~1e-5 is below bfloat16's spacing of ~1e-4 there). Resume is exact.
void TestAlign::mixedPrecisionLearnsAtThePapersLearningRate()
{
    const QString base = m_tmp.filePath(QStringLiteral("realistic"));
    writeRealisticCopy(m_model, base);
    auto params = [this](const QString &dtype) {
        pipeline::AlignParams p = baseParams();
        p.lrLlm = p.lrMerger = p.lrVision = 1e-5; // the paper's learning rate
        p.epochs = 2;
        p.weightDecay = 0.0;
        p.dtype = dtype;
        return p;
    };
    pipeline::AlignResult f32, mixed, mixedOne, pure;
    pipeline::runParityLeveler(workspace(QStringLiteral("mp-f32")), base, params(QStringLiteral("f32")), {}, 0, &f32);
    pipeline::runParityLeveler(workspace(QStringLiteral("mp-bf16")), base, params(QStringLiteral("bf16")), {}, 0, &mixed);
    // "Has moved" is checked after one step: Adam's first step moves every weight by about lr
    // (later steps can bring an oscillating weight back onto the same float exactly).
    pipeline::AlignParams one = params(QStringLiteral("bf16"));
    one.maxSteps = 1;
    pipeline::runParityLeveler(workspace(QStringLiteral("mp-bf16-1")), base, one, {}, 0, &mixedOne);
    one.dtype = QStringLiteral("bf16-pure");
    pipeline::runParityLeveler(workspace(QStringLiteral("mp-pure")), base, one, {}, 0, &pure);
    const auto oneState = vlm::SafetensorsFile::open(mixedOne.finalModelDir + QStringLiteral("/optimizer.safetensors"));
    const auto baseFile = vlm::SafetensorsFile::open(base + QStringLiteral("/model.safetensors"));
    const auto f32File = vlm::SafetensorsFile::open(f32.finalModelDir + QStringLiteral("/model.safetensors"));
    const auto mixedState = vlm::SafetensorsFile::open(mixed.finalModelDir + QStringLiteral("/optimizer.safetensors"));
    const auto mixedFile = vlm::SafetensorsFile::open(mixed.finalModelDir + QStringLiteral("/model.safetensors"));
    const auto pureFile = vlm::SafetensorsFile::open(pure.finalModelDir + QStringLiteral("/model.safetensors"));
    QCOMPARE(mixedFile->tensors().front().dtype, vlm::DType::BF16); // checkpoints in the model's dtype
    std::int64_t withGrad = 0, movedMixed = 0, movedPure = 0;
    double worst = 0;
    for (const vlm::TensorInfo &t : baseFile->tensors()) {
        const std::vector<float> b = floats(*baseFile, t.name), a = floats(*f32File, t.name);
        const std::vector<float> master = floats(*mixedState, t.name + QStringLiteral(".master"));
        const std::vector<float> masterOne = floats(*oneState, t.name + QStringLiteral(".master"));
        const std::vector<float> v = floats(*oneState, t.name + QStringLiteral(".exp_avg_sq"));
        const std::vector<float> p = floats(*pureFile, t.name);
        QVERIFY2(!master.empty(), qPrintable(t.name));
        for (std::size_t i = 0; i < b.size(); ++i) {
            // A gradient AdamW acts on: sqrt(v) above its eps (1e-7). Below it the step is
            // lr * g / eps, under float32's own resolution at |w| ~ 0.02, in a float32 run too.
            if (std::sqrt(v[i]) <= 1e-7)
                continue;
            ++withGrad;
            movedMixed += masterOne[i] != roundBf16(b[i]) ? 1 : 0;
            movedPure += p[i] != roundBf16(b[i]) ? 1 : 0;
        }
        for (std::size_t i = 0; i < b.size(); ++i)
            worst = std::max(worst, double(std::abs(master[i] - a[i])));
    }
    qInfo("after one step at lr 1e-5, weights with a gradient above AdamW's eps: %lld; moved: mixed %lld (%.1f%%), pure bf16 %lld (%.1f%%); master vs float32 run: max %.3g",
          static_cast<long long>(withGrad), static_cast<long long>(movedMixed), 100.0 * movedMixed / withGrad,
          static_cast<long long>(movedPure), 100.0 * movedPure / withGrad, worst);
    QVERIFY(withGrad > 1000);
    QCOMPARE(movedMixed, withGrad);
    QVERIFY2(movedPure < withGrad / 2, "pure bfloat16 was expected to lose most updates at lr 1e-5");
    // 4 steps of at most ~lr each (Adam's step is about lr); the float32 run and the master
    // start from the same weights up to bfloat16 rounding (|w| * 2^-9 for |w| < 0.2).
    QVERIFY2(worst < 4 * 1e-5 + 4e-4, qPrintable(QString::number(worst)));

    // Resume under mixed precision continues the same run exactly (masters are checkpointed).
    const store::Workspace c = workspace(QStringLiteral("mp-resume"));
    const auto first = pipeline::runParityLeveler(c, base, params(QStringLiteral("bf16")), [](qint64 done, qint64, const QString &) { return done < 2; });
    QVERIFY(first.cancelled);
    pipeline::AlignResult resumed;
    pipeline::runParityLeveler(c, base, {}, {}, first.runId, &resumed);
    const auto resumedState = vlm::SafetensorsFile::open(resumed.finalModelDir + QStringLiteral("/optimizer.safetensors"));
    for (const vlm::TensorInfo &t : mixedState->tensors())
        QVERIFY2(floats(*mixedState, t.name) == floats(*resumedState, t.name), qPrintable(t.name));
}

void TestAlign::saveTotalLimitKeepsTheNewest()
{
    const store::Workspace ws = workspace(QStringLiteral("limit"));
    pipeline::AlignParams p = baseParams();
    p.saveEvery = 1;
    p.saveTotalLimit = 2;
    pipeline::AlignResult r;
    const auto s = pipeline::runParityLeveler(ws, m_model, p, {}, 0, &r);
    const QString runDir = QDir(ws.runsDir()).filePath(QStringLiteral("run-%1").arg(s.runId));
    const QStringList kept = QDir(runDir).entryList({QStringLiteral("checkpoint-*")}, QDir::Dirs, QDir::Name);
    QCOMPARE(kept.size(), 2);
    QCOMPARE(QDir(runDir).filePath(kept.last()), r.finalModelDir);
}

QTEST_GUILESS_MAIN(TestAlign)
#include "test_align.moc"
