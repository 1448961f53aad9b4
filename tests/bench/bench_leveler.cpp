// The Parity Leveler at the paper's scale (CPU), each run in its own child process so that its
// peak RSS (VmHWM) is its own, against baselines measured in the same run:
// - bounded memory: one epoch over 200 and over 2,000 samples of 800x600 JPEG images at MPA's
//   image budget (128-512 visual tokens: ~2,000 patch rows of 1,176 floats per image) with the
//   tiny test model; goal: peak RSS within 10 % of each other (the trainer used to cache every
//   preprocessed image: 9.6 MB each, 19 GB for 2,000). Also the share of the run the training
//   thread waited for the data loader (goal < 5 %).
// - throughput with a Qwen2-VL-2B-shaped model (hidden 1536, MLP 8960, 12 heads / 2 KV heads,
//   2 decoder layers, 4 vision blocks of 1280, the real vocabulary): s/step, tokens/s and
//   GFLOP/s over the float32 matmul peak, in f32 and in bf16 mixed precision, and peak RSS with
//   and without activation checkpointing (baseline: without).
// Usage: bench_leveler [TOKENIZER_DIR] [--quick] [--throughput-only]
//   --quick: 50 / 500 samples; --throughput-only: skip the epochs (section 1)
#include "backends/launch_environment.h"
#include "backends/torch_runtime.h"
#include "bench_images.h"
#include "bench_shapes.h"
#include "datasets/importer.h"
#include "pipeline/parity_leveler.h"
#include "pipeline/training_data.h"
#include "store/rows.h"
#include "store/sql_util.h"
#include "vlm/image_processor.h"
#include "vlm/tokenizer.h"
#include "vlm/vlm_model.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <cstdio>

using namespace mpa;

namespace {

qint64 peakRssKb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    return -1;
}

// Child: one alignment run; prints "rss_kb N seconds S run R".
int childRun(const QString &ws, const QString &model, const QByteArray &paramsJson)
{
    backends::initialiseTorchThreads();
    const store::Workspace w = store::Workspace::open(ws);
    const pipeline::AlignParams p = pipeline::AlignParams::fromJson(QJsonDocument::fromJson(paramsJson).object());
    QElapsedTimer t;
    t.start();
    const pipeline::JobSummary s = pipeline::runParityLeveler(w, model, p, {});
    std::printf("rss_kb %lld seconds %.2f run %lld\n", static_cast<long long>(peakRssKb()), t.nsecsElapsed() / 1e9, static_cast<long long>(s.runId));
    return 0;
}

struct RunResult
{
    double rssMb = 0, seconds = 0;
    qint64 run = 0;
};

RunResult runChild(const QString &ws, const QString &model, const pipeline::AlignParams &p)
{
    QProcess child;
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    child.start(QCoreApplication::applicationFilePath(),
                {QStringLiteral("--child"), ws, model, QString::fromUtf8(QJsonDocument(p.toJson()).toJson(QJsonDocument::Compact))});
    child.waitForFinished(-1);
    const QStringList f = QString::fromLatin1(child.readAllStandardOutput()).simplified().split(QLatin1Char(' '));
    RunResult r;
    if (f.size() >= 6) {
        r.rssMb = f[1].toDouble() / 1024;
        r.seconds = f[3].toDouble();
        r.run = f[5].toLongLong();
    } else {
        std::printf("child run failed (exit %d)\n", child.exitCode());
    }
    return r;
}

double lastMetric(const store::Workspace &ws, qint64 run, const char *name)
{
    QSqlDatabase db = ws.connection();
    const store::Rows r = store::readRows(db, QStringLiteral("SELECT value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step DESC LIMIT 1"),
                                          {run, QString::fromLatin1(name)});
    return r.isEmpty() ? 0 : r.at(0, 0).toDouble();
}

// A workspace whose first `samples` images each carry one pseudo pair.
store::Workspace workspaceWith(const QString &path, const QString &images, int samples)
{
    const store::Workspace ws = store::Workspace::create(path);
    datasets::Importer(ws).importImageFolder(images);
    QSqlDatabase db = ws.connection();
    store::exec(db, QStringLiteral("INSERT INTO samples(image_id, task, question, answer, parse_status, source, source_key, created_at) "
                                   "SELECT id, 'text', 'What is shown in this picture?', 'blurred noise, number ' || id, 'ok', 'bench', id, 0 "
                                   "FROM images ORDER BY id LIMIT %1").arg(samples));
    return ws;
}

} // namespace

int main(int argc, char *argv[])
{
    if (argc >= 5 && qstrcmp(argv[1], "--child") == 0) {
        QCoreApplication app(argc, argv);
        return childRun(QString::fromLocal8Bit(argv[2]), QString::fromLocal8Bit(argv[3]), QByteArray(argv[4]));
    }
    backends::ensureLaunchEnvironment(argc, argv);
    QCoreApplication app(argc, argv);
    backends::initialiseTorchThreads();
    QStringList args = app.arguments().mid(1);
    const bool quick = args.removeAll(QStringLiteral("--quick")) > 0;
    const bool throughputOnly = args.removeAll(QStringLiteral("--throughput-only")) > 0;
    const QString tokenizer = !args.isEmpty() ? args.first() : QStringLiteral(MPA_SOURCE_DIR "/../shared/fixtures/qwen2-tokenizer");
    std::printf("%s\n", qPrintable(backends::describeTorchRuntime()));
    const double peak = bench::peakF32();
    std::printf("baseline: matmul 1024^3 %.1f GFLOP/s f32\n", peak);

    const int few = quick ? 50 : 200, many = throughputOnly ? few : quick ? 500 : 2000;
    QTemporaryDir tmp;
    const QString images = tmp.filePath(QStringLiteral("images"));
    bench::writeNoiseJpegs(images, many, 800, 600);
    const store::Workspace wsFew = workspaceWith(tmp.filePath(QStringLiteral("few")), images, few);
    const store::Workspace wsMany = workspaceWith(tmp.filePath(QStringLiteral("many")), images, many);

    // 1. Memory over one epoch: 200 vs 2,000 samples.
    const QString tiny = tmp.filePath(QStringLiteral("tiny"));
    vlm::writeRandomModelFolder(tiny, bench::config(32, 64, 1, 2, 1, {2, 3, 3}, 1, 32, 2), tokenizer, 1);
    pipeline::AlignParams p;
    p.selection = QStringLiteral("all");
    p.gradAccum = 4;
    p.warmupRatio = 0;
    vlm::ImageProcessorConfig budget; // Qwen2-VL's processor at the run's (MPA's) budget
    budget.minPixels = p.minPixels;
    budget.maxPixels = p.maxPixels;
    const std::int64_t rowsPerImage = vlm::processImages({vlm::loadRgbImage(images + QStringLiteral("/00000.jpg"))}, budget).rows;
    if (!throughputOnly) {
        const RunResult a = runChild(wsFew.root(), tiny, p);
        const RunResult b = runChild(wsMany.root(), tiny, p);
        std::printf("one epoch, MPA image budget (800x600 -> %lld patch rows/image): %d samples %.0f MB peak RSS (%.1f s, data wait %.1f %%), "
                    "%d samples %.0f MB (%.1f s, data wait %.1f %%): ratio %.3f (goal within 10 %%)\n",
                    static_cast<long long>(rowsPerImage), few, a.rssMb, a.seconds, 100 * lastMetric(wsFew, a.run, "data_wait_fraction"), many, b.rssMb, b.seconds,
                    100 * lastMetric(wsMany, b.run, "data_wait_fraction"), b.rssMb / std::max(1.0, a.rssMb));
    }

    // 2. Throughput, 2B-shaped.
    const vlm::Qwen2VLConfig c2b = bench::config(1536, 8960, 2, 12, 2, {16, 24, 24}, 4, 1280, 16);
    const QString big = tmp.filePath(QStringLiteral("2b"));
    vlm::writeRandomModelFolder(big, c2b, tokenizer, 1);
    // FLOPs per sample: 6 x parameters x the tokens they see (vision blocks see every patch row,
    // the merger a quarter of them, the decoder and the tied head every sequence token).
    vlm::Qwen2VLModel shapes(c2b, torch::kCPU, torch::kFloat32, 1);
    double visionParams = 0, mergerParams = 0, llmParams = 0;
    for (const auto &[name, t] : shapes.parameters()) {
        const double n = static_cast<double>(t.numel());
        if (name.rfind("visual.merger.", 0) == 0)
            mergerParams += n;
        else if (name.rfind("visual.", 0) == 0)
            visionParams += n;
        else if (name.find("embed_tokens") == std::string::npos)
            llmParams += n;
    }
    const auto tok = vlm::Tokenizer::load(big);
    vlm::ImageProcessorConfig ip = vlm::ImageProcessorConfig::load(big);
    ip.minPixels = p.minPixels;
    ip.maxPixels = p.maxPixels;
    const pipeline::TrainingExample ex = pipeline::buildTrainingExample({1, images + QStringLiteral("/00000.jpg"), QStringLiteral("What is shown in this picture?"),
                                                                         QStringLiteral("blurred noise, number 1")}, *tok, ip, c2b.imageTokenId);
    const double L = static_cast<double>(ex.ids.size()), rows = static_cast<double>(ex.rows);
    const double flopsPerSample = 6 * (visionParams * rows + mergerParams * rows / 4 + llmParams * L + double(c2b.hiddenSize) * c2b.vocabSize * L);
    for (const auto &[dtype, checkpointing] : {std::pair<const char *, const char *>{"f32", "off"}, {"f32", "on"}, {"bf16", "off"}}) {
        pipeline::AlignParams q = p;
        q.gradAccum = 1;
        q.maxSteps = 3;
        q.dtype = QString::fromLatin1(dtype);
        q.gradientCheckpointing = QString::fromLatin1(checkpointing);
        const RunResult r = runChild(wsFew.root(), big, q);
        QSqlDatabase db = wsFew.connection();
        // Steady state: steps 2..3 (step 1 pays first-touch allocation).
        const store::Rows tps = store::readRows(db, QStringLiteral("SELECT avg(value) FROM metrics WHERE run_id = ? AND name = 'tokens_per_s' AND step > 1"), {r.run});
        const double tokensPerS = tps.isEmpty() ? 0 : tps.at(0, 0).toDouble();
        const double samplesPerS = tokensPerS / L;
        std::printf("2B-shaped (%.0fM vision, %.0fM merger, %.0fM decoder without the embedding), %s, checkpointing %s, 1 sample/step of %.0f tokens "
                    "(%.0f patches): %.1f s/step, %.0f tokens/s, %.1f GFLOP/s = %.0f %% of the f32 matmul peak; peak RSS %.0f MB\n",
                    visionParams / 1e6, mergerParams / 1e6, llmParams / 1e6, dtype, checkpointing, L, rows, 1 / std::max(1e-9, samplesPerS), tokensPerS,
                    flopsPerSample * samplesPerS / 1e9, 100 * flopsPerSample * samplesPerS / 1e9 / peak, r.rssMb);
    }
    return 0;
}
