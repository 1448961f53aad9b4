// What a user waits for with the native Qwen2-VL runtime on CPU, at Qwen2-VL-2B's layer shapes
// (random weights, a few decoder layers and vision blocks, the real 151,936-row tied head),
// each number against a baseline measured in the same run (bench_baselines.h):
// - image + question to the first token (vision tower, decoder stack, head on the last row):
//   one 448x448 image (1,024 patches, 256 image tokens) + 41 text tokens;
// - the decoder stack alone on the same 297 tokens (LLM prefill, head on the last row);
// - the vision tower alone at 448x448 and at MPA's maximum (616x644 = 2,024 patches);
// - decode, one token at a time from the prefilled cache;
// in float32 and bfloat16: GFLOP/s over the matmul peak, weight GB/s over the read bandwidth;
// then the peak resident memory of loading a float32 checkpoint copied vs mapped in place.
// Each line ends with "[key seconds]" so tests/bench/compare_with_transformers.sh can take the
// ratio against bench_transformers.py on the same shapes in one run.
// Usage: bench_vlm [--layers N] [--vision-depth N] [--text N] [--decode N] [--reps N]
//                  [--trace PREFIX] [--no-launch-env]
#include "backends/launch_environment.h"
#include "backends/torch_runtime.h"
#include "bench_baselines.h"
#include "bench_shapes.h"
#include "vlm/few_row_kernels.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/safetensors.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <torch/csrc/autograd/profiler_legacy.h>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <QElapsedTimer>

using namespace mpa;
using namespace mpa::vlm;

namespace {

struct Settings
{
    int layers = 4, visionDepth = 4, text = 41, decode = 16, reps = 3;
    QString trace; // chrome://tracing files of one vision run per size, when set
};

struct Baselines
{
    double peak32 = 0, peak16 = 0, bandwidth = 0;
    double peak(torch::ScalarType t) const { return t == torch::kBFloat16 ? peak16 : peak32; }
};

const char *dtypeName(torch::ScalarType t) { return t == torch::kBFloat16 ? "bf16" : "f32"; }

VisionInput randomImage(std::int64_t h, std::int64_t w)
{
    VisionInput in;
    const std::int64_t gh = h / 14, gw = w / 14;
    in.pixelValues = torch::randn({gh * gw, 1176});
    in.grids = {{1, gh, gw}};
    return in;
}

void traceOnce(const Settings &s, const std::string &what, const std::function<void()> &f)
{
    if (s.trace.isEmpty())
        return;
    std::ofstream out(s.trace.toStdString() + "." + what + ".json");
    torch::autograd::profiler::RecordProfile guard(out);
    f();
}

void benchDtype(torch::ScalarType dtype, const Settings &s, const Baselines &b)
{
    const char *name = dtypeName(dtype);
    const Qwen2VLConfig c = bench::qwen2vl2bShapes(s.layers, s.visionDepth);
    Qwen2VLModel model(c, torch::kCPU, dtype, 1);
    torch::NoGradGuard noGrad;
    const double peak = b.peak(dtype);

    // Image + question, as a Pseudo Annotator or Parity Identifier item: vision start, the 256
    // merged image tokens, vision end, then the question and the assistant prefix.
    const VisionInput image = randomImage(448, 448);
    const std::int64_t imageTokens = 1024 / 4, promptLen = imageTokens + 2 + s.text;
    auto ids = torch::randint(0, 151000, {1, promptLen}, torch::kInt64);
    ids[0][0] = c.visionStartTokenId;
    ids.narrow(1, 1, imageTokens).fill_(c.imageTokenId);
    ids[0][imageTokens + 1] = c.visionEndTokenId;
    const auto mask = torch::ones({1, promptLen}, torch::kInt64);
    KVCache cache;
    const double firstToken = bench::medianSeconds([&] {
        cache = model.makeCache(1, promptLen + s.decode + 1);
        model.forward(ids, mask, &image, nullptr, &cache, false, true);
    }, s.reps);
    const double visionFlops = bench::visionFlops(c, 1024), llmFlops = bench::decoderFlops(c, static_cast<double>(promptLen));
    std::printf("first token %s (448x448 image + %d text tokens = %lld tokens, %d layers, %d vision blocks): %.3f s, %.0f GFLOP/s = %.0f%% of peak [first_token_%s %.6f]\n",
                name, s.text, static_cast<long long>(promptLen), s.layers, s.visionDepth, firstToken, (visionFlops + llmFlops) / firstToken / 1e9,
                100 * (visionFlops + llmFlops) / firstToken / 1e9 / peak, name, firstToken);

    // The decoder stack alone on the same number of tokens (text ids: no vision).
    auto textIds = torch::randint(0, 151000, {1, promptLen}, torch::kInt64);
    const double prefill = bench::medianSeconds([&] {
        cache = model.makeCache(1, promptLen + s.decode + 1);
        model.forward(textIds, mask, nullptr, nullptr, &cache, false, true);
    }, s.reps);
    traceOnce(s, std::string("prefill-") + name, [&] {
        cache = model.makeCache(1, promptLen + s.decode + 1);
        model.forward(textIds, mask, nullptr, nullptr, &cache, false, true);
    });
    std::printf("LLM prefill %s (%lld tokens, %d layers, head on the last row): %.3f s = %.0f tokens/s, %.0f GFLOP/s = %.0f%% of peak [prefill_%s %.6f]\n", name,
                static_cast<long long>(promptLen), s.layers, prefill, promptLen / prefill, llmFlops / prefill / 1e9, 100 * llmFlops / prefill / 1e9 / peak,
                name, prefill);

    // Decode from the prefilled cache: every weight (and the tied head) read once per token.
    std::int64_t weightBytes = 0;
    for (const auto &[n, t] : model.parameters())
        if (n.rfind("visual.", 0) != 0)
            weightBytes += t.numel() * t.element_size();
    auto tok = torch::randint(0, 151000, {1, 1}, torch::kInt64);
    const std::int64_t filled = cache.length;
    // Each rep is followed by a sample of the read bandwidth, and the fraction is the median of
    // the per-rep ratios: on a shared machine the bus a neighbour takes moves both together
    // (the AMD build VMs swung between 20 and 45 GB/s within a minute).
    const auto probe = torch::ones({256 * 1024 * 1024}, torch::kFloat32);
    std::vector<double> steps, fractions;
    for (int r = 0; r < s.reps; ++r) {
        cache.length = filled;
        QElapsedTimer t;
        t.start();
        for (int d = 0; d < s.decode; ++d)
            model.decodeStep(tok, torch::ones({1, cache.length + 1}, torch::kInt64), cache);
        steps.push_back(t.nsecsElapsed() / 1e9 / s.decode);
        fractions.push_back(weightBytes / steps.back() / 1e9 / bench::readBandwidthSample(probe));
    }
    const double step = bench::median(steps), gbs = weightBytes / step / 1e9;
    std::printf("decode %s: %.1f ms/token, %.2f GB of weights per token -> %.1f GB/s = %.0f%% of the read bandwidth [decode_%s %.6f]\n", name, step * 1e3,
                weightBytes / 1e9, gbs, 100 * bench::median(fractions), name, step);

    // The vision tower alone.
    for (auto [h, w, label] : {std::tuple<int, int, const char *>{448, 448, "448x448"}, {616, 644, "616x644"}}) {
        const VisionInput in = randomImage(h, w);
        const std::int64_t patches = (h / 14) * (w / 14);
        const double sec = bench::medianSeconds([&] { model.encodeVision(in); }, s.reps);
        const double f = bench::visionFlops(c, static_cast<double>(patches));
        std::printf("vision %s, %d blocks, %s (%lld patches): %.3f s = %.2f images/s, %.0f GFLOP/s = %.0f%% of peak [vision_%lld_%s %.6f]\n", name,
                    s.visionDepth, label, static_cast<long long>(patches), sec, 1 / sec, f / sec / 1e9, 100 * f / sec / 1e9 / peak,
                    static_cast<long long>(patches), name, sec);
        traceOnce(s, std::string("vision-") + std::to_string(patches) + "-" + name, [&] { model.encodeVision(in); });
    }
}

// Resident memory of this process, current and peak since the last reset, in bytes.
std::pair<double, double> residentBytes()
{
    QFile f(QStringLiteral("/proc/self/status"));
    double rss = 0, hwm = 0;
    if (f.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : f.readAll().split('\n')) {
            if (line.startsWith("VmRSS:"))
                rss = line.mid(6).trimmed().split(' ').value(0).toDouble() * 1024;
            if (line.startsWith("VmHWM:"))
                hwm = line.mid(6).trimmed().split(' ').value(0).toDouble() * 1024;
        }
    }
    return {rss, hwm};
}

void resetPeakResident()
{
    QFile f(QStringLiteral("/proc/self/clear_refs"));
    if (f.open(QIODevice::WriteOnly))
        f.write("5"); // resets VmHWM to the current RSS (Linux 4.0+)
}

// Peak resident memory of loading a float32 checkpoint and running one image prompt, with the
// weights copied (what trainers do) and used in place from the file's mapping (inference).
void benchWeightMemory(const Settings &s)
{
    const Qwen2VLConfig c = bench::qwen2vl2bShapes(s.layers, s.visionDepth);
    QTemporaryDir dir;
    {
        Qwen2VLModel model(c, torch::kCPU, torch::kFloat32, 1);
        saveParameters(model.parameters(), dir.path());
    }
    const double fileBytes = static_cast<double>(QFileInfo(QDir(dir.path()).filePath(QStringLiteral("model.safetensors"))).size());
    const VisionInput image = randomImage(448, 448);
    auto ids = torch::randint(0, 151000, {1, 300}, torch::kInt64);
    ids[0][0] = c.visionStartTokenId;
    ids.narrow(1, 1, 256).fill_(c.imageTokenId);
    ids[0][257] = c.visionEndTokenId;
    torch::NoGradGuard noGrad;
    for (auto [memory, label] : {std::pair{WeightMemory::Copy, "copied"}, std::pair{WeightMemory::MapWhenPossible, "mapped in place"}}) {
        resetPeakResident();
        const double base = residentBytes().first;
        {
            Qwen2VLModel model(c, Checkpoint::openFolder(dir.path()), torch::kCPU, torch::kFloat32, memory);
            model.forward(ids, torch::ones({1, 300}, torch::kInt64), &image, nullptr, nullptr, false, true);
        }
        const double peak = residentBytes().second - base;
        std::printf("weights f32 %s: peak resident %.2f GB for a %.2f GB checkpoint = %.2fx its size [rss_%s %.0f]\n", label, peak / 1e9, fileBytes / 1e9,
                    peak / fileBytes, memory == WeightMemory::Copy ? "copied" : "mapped", peak);
    }
}

} // namespace

int main(int argc, char *argv[])
{
    // Measure what the applications run with, unless --no-launch-env asks for the raw process.
    bool raw = false;
    for (int i = 1; i < argc; ++i)
        raw = raw || std::strcmp(argv[i], "--no-launch-env") == 0;
    if (!raw)
        mpa::backends::ensureLaunchEnvironment(argc, argv);
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOptions({{QStringLiteral("layers"), QStringLiteral("Decoder layers (2B: 28)."), QStringLiteral("N"), QStringLiteral("4")},
                       {QStringLiteral("vision-depth"), QStringLiteral("Vision blocks (2B: 32)."), QStringLiteral("N"), QStringLiteral("4")},
                       {QStringLiteral("text"), QStringLiteral("Text tokens after the image."), QStringLiteral("N"), QStringLiteral("41")},
                       {QStringLiteral("decode"), QStringLiteral("Decode steps."), QStringLiteral("N"), QStringLiteral("16")},
                       {QStringLiteral("reps"), QStringLiteral("Timed repetitions (the median is printed)."), QStringLiteral("N"), QStringLiteral("3")},
                       {QStringLiteral("dtype"), QStringLiteral("f32, bf16, both or none (only the weight-memory check)."), QStringLiteral("T"), QStringLiteral("both")},
                       {QStringLiteral("trace"), QStringLiteral("Write a chrome://tracing profile of one vision run per size to PREFIX.*.json."),
                        QStringLiteral("PREFIX")},
                       {QStringLiteral("no-launch-env"), QStringLiteral("Do not apply the launch environment (OMP_WAIT_POLICY, huge pages, OpenBLAS).")}});
    parser.process(app);
    Settings s;
    s.layers = parser.value(QStringLiteral("layers")).toInt();
    s.visionDepth = parser.value(QStringLiteral("vision-depth")).toInt();
    s.text = parser.value(QStringLiteral("text")).toInt();
    s.decode = parser.value(QStringLiteral("decode")).toInt();
    s.reps = std::max(1, parser.value(QStringLiteral("reps")).toInt());
    s.trace = parser.value(QStringLiteral("trace"));
    mpa::backends::initialiseTorchThreads();
    std::printf("%s\n", qPrintable(bench::describeProductPaths()));
    Baselines b;
    b.peak32 = bench::matmulPeak(torch::kFloat32);
    b.peak16 = bench::matmulPeak(torch::kBFloat16);
    b.bandwidth = bench::readBandwidth();
    std::printf("baselines: matmul 2048^3 %.1f GFLOP/s f32, %.1f GFLOP/s bf16; read bandwidth %.1f GB/s\n", b.peak32, b.peak16, b.bandwidth);
    const QString which = parser.value(QStringLiteral("dtype"));
    if (which == QLatin1String("both") || which == QLatin1String("f32"))
        benchDtype(torch::kFloat32, s, b);
    if (which == QLatin1String("both") || which == QLatin1String("bf16"))
        benchDtype(torch::kBFloat16, s, b);
    benchWeightMemory(s);
    return 0;
}
