// Native runtime benchmarks on CPU, each against a baseline measured in the same run:
// - prefill of a model with Qwen2-VL-2B's layer shapes (random weights, a few layers, the real
//   151,936-row tied head): achieved GFLOP/s over the matmul peak (float32 and bfloat16);
// - decode: bytes of weights read per second over the memory bandwidth (a large read);
// - vision tower (2B shapes): images per second at 448x448 and at MPA's 512*28*28 maximum.
// Try it with and without GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (see design.md).
#include "backends/launch_environment.h"
#include "backends/torch_runtime.h"
#include "bench_baselines.h"

#include <cstring>
#include "vlm/qwen2vl/qwen2vl_model.h"

#include <torch/csrc/autograd/profiler_legacy.h>
#include <fstream>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <cstdio>

using namespace mpa;
using namespace mpa::vlm;

namespace {

using bench::matmulPeak;
using bench::readBandwidth;
using bench::seconds;

Qwen2VLConfig qwen2vl2bShapes(int layers, int visionDepth)
{
    Qwen2VLConfig c;
    c.modelType = QStringLiteral("qwen2_vl");
    c.vocabSize = 151936;
    c.hiddenSize = 1536;
    c.intermediateSize = 8960;
    c.numLayers = layers;
    c.numHeads = 12;
    c.numKvHeads = 2;
    c.mropeSection = {16, 24, 24};
    c.tieWordEmbeddings = true;
    c.imageTokenId = 151655;
    c.videoTokenId = 151656;
    c.visionStartTokenId = 151652;
    c.visionEndTokenId = 151653;
    c.vision.depth = visionDepth;
    c.vision.hiddenSize = 1536;
    return c;
}

double layerFlops(const Qwen2VLConfig &c, double L, double context)
{
    const double D = c.hiddenSize, F = c.intermediateSize, kv = c.numKvHeads * c.headDim();
    const double proj = 2 * L * (D * D + 2 * D * kv + D * D + 3 * D * F);
    const double attention = 2 * 2 * L * context * D; // q k^T and p v over all heads
    return proj + attention;
}

void benchText(torch::ScalarType dtype, const char *name, int layers, std::int64_t promptLen, int decodeSteps, double peak, double bandwidth)
{
    const Qwen2VLConfig c = qwen2vl2bShapes(layers, 1);
    Qwen2VLModel model(c, torch::kCPU, dtype, 1);
    torch::NoGradGuard noGrad;
    auto ids = torch::randint(0, 151000, {1, promptLen}, torch::kInt64);
    auto mask = torch::ones({1, promptLen}, torch::kInt64);
    KVCache cache;
    const double prefill = seconds([&] {
        cache = model.makeCache(1, promptLen + decodeSteps + 1);
        model.forward(ids, mask, nullptr, nullptr, &cache, false, true);
    }, 2);
    const double flops = layers * layerFlops(c, static_cast<double>(promptLen), static_cast<double>(promptLen))
                         + 2.0 * c.hiddenSize * c.vocabSize; // head on the last position
    const double gflops = flops / prefill / 1e9;
    std::printf("prefill %s, %d layers, %lld tokens: %.3f s, %.1f GFLOP/s = %.0f%% of the %.1f GFLOP/s matmul peak\n", name, layers,
                static_cast<long long>(promptLen), prefill, gflops, 100 * gflops / peak, peak);

    // Decode: one token at a time from the prefilled cache.
    std::int64_t weightBytes = 0;
    for (const auto &[n, t] : model.parameters())
        weightBytes += t.numel() * t.element_size();
    auto tok = torch::randint(0, 151000, {1, 1}, torch::kInt64);
    QElapsedTimer t;
    t.start();
    for (int s = 0; s < decodeSteps; ++s) {
        mask = torch::ones({1, cache.length + 1}, torch::kInt64);
        model.decodeStep(tok, mask, cache);
    }
    const double step = t.nsecsElapsed() / 1e9 / decodeSteps;
    const double gbs = weightBytes / step / 1e9;
    std::printf("decode %s: %.1f ms/token, %.2f GB of weights per token -> %.1f GB/s = %.0f%% of the %.1f GB/s read bandwidth\n", name,
                step * 1e3, weightBytes / 1e9, gbs, 100 * gbs / bandwidth, bandwidth);
}

void benchVision(torch::ScalarType dtype, const char *name, int depth)
{
    const Qwen2VLConfig c = qwen2vl2bShapes(1, depth);
    Qwen2VLModel model(c, torch::kCPU, dtype, 2);
    torch::NoGradGuard noGrad;
    for (auto [h, w, label] : {std::tuple<int, int, const char *>{448, 448, "448x448"}, {616, 644, "616x644 (512*28*28 budget)"}}) {
        VisionInput in;
        const std::int64_t gh = h / 14, gw = w / 14;
        in.pixelValues = torch::randn({gh * gw, 1176});
        in.grids = {{1, gh, gw}};
        double s = seconds([&] { model.encodeVision(in); }, 1);
        if (!qgetenv("MPA_TRACE").isEmpty()) {
            std::ofstream out(qgetenv("MPA_TRACE").toStdString() + "." + name + "." + std::to_string(gh * gw) + ".json");
            torch::autograd::profiler::RecordProfile guard(out);
            model.encodeVision(in);
        }
        std::printf("vision %s, depth %d, %s (%lld patches): %.2f s/image = %.3f images/s\n", name, depth, label,
                    static_cast<long long>(gh * gw), s, 1.0 / s);
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
    parser.addOptions({{QStringLiteral("layers"), QStringLiteral("Decoder layers."), QStringLiteral("N"), QStringLiteral("4")},
                       {QStringLiteral("prompt"), QStringLiteral("Prefill tokens."), QStringLiteral("N"), QStringLiteral("512")},
                       {QStringLiteral("decode"), QStringLiteral("Decode steps."), QStringLiteral("N"), QStringLiteral("16")},
                       {QStringLiteral("vision-depth"), QStringLiteral("Vision blocks (2B: 32)."), QStringLiteral("N"), QStringLiteral("32")},
                       {QStringLiteral("skip-vision"), QStringLiteral("Text benchmarks only.")},
                       {QStringLiteral("no-launch-env"), QStringLiteral("Do not apply the launch environment (OMP_WAIT_POLICY, huge pages).")}});
    parser.process(app);
    mpa::backends::initialiseTorchThreads();
    std::printf("%s; OMP_WAIT_POLICY=%s; GLIBC_TUNABLES=%s\n", qPrintable(mpa::backends::describeTorchRuntime()),
                qgetenv("OMP_WAIT_POLICY").isEmpty() ? "(unset)" : qgetenv("OMP_WAIT_POLICY").constData(),
                qgetenv("GLIBC_TUNABLES").isEmpty() ? "(unset)" : qgetenv("GLIBC_TUNABLES").constData());
    const double peak32 = matmulPeak(torch::kFloat32), peak16 = matmulPeak(torch::kBFloat16), bw = readBandwidth();
    std::printf("baselines: matmul 2048^3 %.1f GFLOP/s f32, %.1f GFLOP/s bf16; read bandwidth %.1f GB/s\n", peak32, peak16, bw);
    const int layers = parser.value(QStringLiteral("layers")).toInt();
    const auto prompt = parser.value(QStringLiteral("prompt")).toLongLong();
    const int decode = parser.value(QStringLiteral("decode")).toInt();
    benchText(torch::kFloat32, "f32", layers, prompt, decode, peak32, bw);
    benchText(torch::kBFloat16, "bf16", layers, prompt, decode, peak16, bw);
    if (!parser.isSet(QStringLiteral("skip-vision"))) {
        benchVision(torch::kFloat32, "f32", parser.value(QStringLiteral("vision-depth")).toInt());
        benchVision(torch::kBFloat16, "bf16", parser.value(QStringLiteral("vision-depth")).toInt());
    }
    return 0;
}
