// The Qwen2.5-VL and SmolVLM runtimes on CPU at their real layer shapes (random weights), each
// number against a baseline measured in the same run:
// - SmolVLM-256M (all 30 decoder layers, 12 vision layers, the real 49,280-row head): vision
//   encoder tiles/s, image + question prefill at the real processor's 4x4 + 1 tiles, decode
//   ms/token; GFLOP/s over the float32 matmul peak and weight GB/s over the read bandwidth;
// - Qwen2.5-VL-3B's shapes (a few decoder layers, a few vision blocks): prefill, decode, and the
//   windowed vision tower's images/s against a Qwen2-VL-style full-attention tower of the same
//   width and depth, at 448x448 and at MPA's 512*28*28 maximum.
// Each line ends with "[key seconds]" for compare_with_transformers.sh --architectures, which sets
// it beside bench_torch_eager_architectures.py on the same shapes.
// Usage: bench_architectures [--smol-layers N] [--tiles N] [--qwen-layers N] [--vision-depth N]
//                            [--dtype f32|bf16] [--reps N] [--skip-smolvlm]
#include "backends/launch_environment.h"
#include "backends/torch_runtime.h"
#include "bench_baselines.h"
#include "vlm/idefics3/idefics3_model.h"
#include "vlm/qwen2vl/qwen2vl_model.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <cstdio>

using namespace mpa;
using namespace mpa::vlm;

namespace {

// The dtype every model here runs in (--dtype); the peak is measured in the same dtype.
torch::ScalarType g_dtype = torch::kFloat32;
// Timed calls per measurement (--reps), their median reported, after one warm-up call.
int g_reps = 3;
const char *dtypeName() { return g_dtype == torch::kBFloat16 ? "bf16" : "f32"; }

using bench::matmulPeak;
using bench::readBandwidth;

double medianSeconds(const std::function<void()> &f) { return bench::medianSeconds(f, g_reps); }

template<typename Model>
std::int64_t weightBytes(const Model &m)
{
    std::int64_t n = 0;
    for (const auto &[name, t] : m.parameters())
        n += t.numel() * t.element_size();
    return n;
}

Idefics3Config smolvlm256m(int layers)
{
    Idefics3Config c;
    c.vocabSize = 49280;
    c.hiddenSize = 576;
    c.intermediateSize = 1536;
    c.numLayers = layers;
    c.numHeads = 9;
    c.numKvHeads = 3;
    c.headDim = 64;
    c.ropeTheta = 100000;
    c.imageTokenId = 49190;
    c.scaleFactor = 4;
    c.vision.hiddenSize = 768;
    c.vision.intermediateSize = 3072;
    c.vision.numLayers = 12;
    c.vision.numHeads = 12;
    c.vision.imageSize = 512;
    c.vision.patchSize = 16;
    return c;
}

double llamaFlops(const Idefics3Config &c, double L)
{
    const double D = c.hiddenSize, F = c.intermediateSize, q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
    return c.numLayers * (2 * L * (D * q + 2 * D * kv + q * D + 3 * D * F) + 4 * L * L * q) + 2.0 * D * c.vocabSize;
}

void benchSmolVlm(int layers, int tiles, double peak, double bandwidth)
{
    const Idefics3Config c = smolvlm256m(layers);
    Idefics3Model model(c, torch::kCPU, g_dtype, 1);
    torch::NoGradGuard noGrad;
    const auto &v = c.vision;
    const double S = v.patchesPerSide() * v.patchesPerSide(), E = v.hiddenSize, I = v.intermediateSize;
    const double tileFlops = v.numLayers * (2 * S * (4 * E * E + 2 * E * I) + 4 * S * S * E) + 2 * S * E * 3 * v.patchSize * v.patchSize
                             + 2 * (S / 16) * (E * 16) * c.hiddenSize;
    auto px = torch::randn({tiles, 3, v.imageSize, v.imageSize});
    const double vision = medianSeconds([&] { model.encodeTiles(px); });
    std::printf("SmolVLM-256M vision encoder (12 layers of 768, 512x512 tiles): %.2f s for %d tiles = %.2f tiles/s, %.1f GFLOP/s = %.0f%% of peak "
                "[smolvlm_vision_%s %.6f]\n",
                vision, tiles, tiles / vision, tileFlops * tiles / vision / 1e9, 100 * tileFlops * tiles / vision / 1e9 / peak, dtypeName(), vision);
    // The real processor gives a 448x448 image 4x4 tiles + the global one: 17 x 64 <image> tokens.
    const std::int64_t imageTokens = 17 * c.imageSeqLen(), L = imageTokens + 24;
    auto ids = torch::randint(0, 49000, {1, L}, torch::kInt64);
    auto mask = torch::ones({1, L}, torch::kInt64);
    KVCache cache;
    const double prefill = medianSeconds([&] {
        cache = model.makeCache(1, L + 17);
        model.forward(ids, mask, {}, &cache, false, true);
    });
    const double f = llamaFlops(c, static_cast<double>(L));
    std::printf("SmolVLM-256M text prefill, %d layers, %lld tokens (17 tiles of a 448x448 image + 24): %.3f s = %.0f tokens/s, %.1f GFLOP/s = %.0f%% of peak "
                "[smolvlm_%s_prefill %.6f]\n",
                layers, static_cast<long long>(L), prefill, L / prefill, f / prefill / 1e9, 100 * f / prefill / 1e9 / peak, dtypeName(), prefill);
    std::printf("  => image + question to first token at the real budget: ~%.1f s (17 tiles + prefill)\n", 17 * vision / tiles + prefill);
    auto tok = torch::randint(0, 49000, {1, 1}, torch::kInt64);
    QElapsedTimer t;
    t.start();
    const int steps = 16;
    for (int s = 0; s < steps; ++s) {
        mask = torch::ones({1, cache.length + 1}, torch::kInt64);
        model.decodeStep(tok, mask, cache);
    }
    const double step = t.nsecsElapsed() / 1e9 / steps;
    // Decode reads the text model and the head, not the vision encoder.
    std::int64_t textBytes = 0;
    for (const auto &[name, w] : model.parameters())
        if (name.rfind("model.vision_model.", 0) != 0 && name.rfind("model.connector.", 0) != 0)
            textBytes += w.numel() * w.element_size();
    std::printf("SmolVLM-256M decode %s: %.1f ms/token, %.2f GB read per token -> %.1f GB/s = %.0f%% of the read bandwidth [smolvlm_%s_decode %.6f]\n",
                dtypeName(), step * 1e3, textBytes / 1e9, textBytes / step / 1e9, 100 * textBytes / step / 1e9 / bandwidth, dtypeName(), step);
}

Qwen2VLConfig qwen25vl3b(int layers, int depth, bool windowed)
{
    Qwen2VLConfig c;
    c.modelType = windowed ? QStringLiteral("qwen2_5_vl") : QStringLiteral("qwen2_vl");
    c.vocabSize = 151936;
    c.hiddenSize = 2048;
    c.intermediateSize = 11008;
    c.numLayers = layers;
    c.numHeads = 16;
    c.numKvHeads = 2;
    c.mropeSection = {16, 24, 24};
    c.tieWordEmbeddings = true;
    c.imageTokenId = 151655;
    c.videoTokenId = 151656;
    c.visionStartTokenId = 151652;
    c.visionEndTokenId = 151653;
    c.vision.depth = depth;
    c.vision.embedDim = 1280;
    c.vision.numHeads = 16;
    c.vision.hiddenSize = 2048;
    if (windowed) {
        c.vision.tower = VisionTower::Qwen25VL;
        c.vision.intermediateSize = 3420;
        c.vision.hiddenAct = QStringLiteral("silu");
        c.vision.fullAttentionBlocks = {depth - 1}; // the real tower: every 8th block of 32
        c.vision.tokensPerSecond = 2;
    }
    return c;
}

void benchQwen25(int layers, int depth, double peak, double bandwidth)
{
    torch::NoGradGuard noGrad;
    {
        const Qwen2VLConfig c = qwen25vl3b(layers, 1, true);
        Qwen2VLModel model(c, torch::kCPU, g_dtype, 3);
        const std::int64_t L = 512;
        auto ids = torch::randint(0, 151000, {1, L}, torch::kInt64);
        auto mask = torch::ones({1, L}, torch::kInt64);
        KVCache cache;
        const double prefill = medianSeconds([&] {
            cache = model.makeCache(1, L + 17);
            model.forward(ids, mask, nullptr, nullptr, &cache, false, true);
        });
        const double D = c.hiddenSize, F = c.intermediateSize, kv = c.numKvHeads * c.headDim();
        const double f = layers * (2 * L * (2 * D * D + 2 * D * kv + 3 * D * F) + 4.0 * L * L * D) + 2 * D * c.vocabSize;
        std::printf("Qwen2.5-VL-3B shapes, text prefill, %d layers, %lld tokens: %.3f s, %.1f GFLOP/s = %.0f%% of peak [qwen25_%s_prefill %.6f]\n", layers,
                    static_cast<long long>(L), prefill, f / prefill / 1e9, 100 * f / prefill / 1e9 / peak, dtypeName(), prefill);
        auto tok = torch::randint(0, 151000, {1, 1}, torch::kInt64);
        QElapsedTimer t;
        t.start();
        for (int s = 0; s < 16; ++s) {
            mask = torch::ones({1, cache.length + 1}, torch::kInt64);
            model.decodeStep(tok, mask, cache);
        }
        const double step = t.nsecsElapsed() / 1e9 / 16;
        std::int64_t textBytes = 0;
        for (const auto &[name, w] : model.parameters())
            if (name.rfind("visual.", 0) != 0)
                textBytes += w.numel() * w.element_size();
        std::printf("Qwen2.5-VL-3B shapes decode %s, %d layers: %.1f ms/token -> %.1f GB/s = %.0f%% of the read bandwidth [qwen25_%s_decode %.6f]\n",
                    dtypeName(), layers, step * 1e3, textBytes / step / 1e9, 100 * textBytes / step / 1e9 / bandwidth, dtypeName(), step);
    }
    for (auto [h, w, label] : {std::tuple<int, int, const char *>{448, 448, "448x448"}, {616, 644, "616x644 (512*28*28)"}}) {
        double s[3];
        for (int windowed = 0; windowed < 3; ++windowed) {
            Qwen2VLConfig c = qwen25vl3b(1, depth, windowed >= 1);
            if (windowed == 2) // the Qwen2.5-VL tower with every block attending over the whole image
                for (int b = 0; b < depth; ++b)
                    c.vision.fullAttentionBlocks.push_back(b);
            Qwen2VLModel model(c, torch::kCPU, g_dtype, 4);
            VisionInput in;
            const std::int64_t gh = h / 14, gw = w / 14;
            in.pixelValues = torch::randn({gh * gw, 1176});
            in.grids = {{1, gh, gw}};
            s[windowed] = medianSeconds([&] { model.encodeVision(in); });
        }
        std::printf("vision tower 1280 wide, %d blocks, %s: Qwen2.5-VL windowed %.2f s/image, Qwen2-VL-style full attention %.2f s/image (%.2fx); "
                    "Qwen2.5-VL with no windows %.2f s/image [qwen25_vision_%lld_%s %.6f]\n",
                    depth, label, s[1], s[0], s[0] / s[1], s[2], static_cast<long long>((h / 14) * (w / 14)), dtypeName(), s[1]);
    }
}

} // namespace

int main(int argc, char *argv[])
{
    mpa::backends::ensureLaunchEnvironment(argc, argv);
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOptions({{QStringLiteral("smol-layers"), QStringLiteral("SmolVLM decoder layers (real: 30)."), QStringLiteral("N"), QStringLiteral("30")},
                       {QStringLiteral("tiles"), QStringLiteral("Tiles timed through the vision encoder."), QStringLiteral("N"), QStringLiteral("4")},
                       {QStringLiteral("qwen-layers"), QStringLiteral("Qwen2.5-VL-3B decoder layers (real: 36)."), QStringLiteral("N"), QStringLiteral("2")},
                       {QStringLiteral("vision-depth"), QStringLiteral("Vision blocks (real: 32)."), QStringLiteral("N"), QStringLiteral("4")},
                       {QStringLiteral("dtype"), QStringLiteral("f32 or bf16."), QStringLiteral("T"), QStringLiteral("f32")},
                       {QStringLiteral("reps"), QStringLiteral("Timed calls per measurement (median)."), QStringLiteral("N"), QStringLiteral("3")},
                       {QStringLiteral("skip-smolvlm"), QStringLiteral("Only the Qwen2.5-VL part.")}});
    parser.process(app);
    g_dtype = parser.value(QStringLiteral("dtype")) == QLatin1String("bf16") ? torch::kBFloat16 : torch::kFloat32;
    g_reps = std::max(1, parser.value(QStringLiteral("reps")).toInt());
    mpa::backends::initialiseTorchThreads();
    std::printf("%s\n%s\n", qPrintable(mpa::backends::describeTorchRuntime()), qPrintable(bench::describeProductPaths()));
    const double peak = matmulPeak(g_dtype), bw = readBandwidth();
    std::printf("baselines: matmul 2048^3 %.1f GFLOP/s %s; read bandwidth %.1f GB/s\n", peak, dtypeName(), bw);
    if (!parser.isSet(QStringLiteral("skip-smolvlm")))
        benchSmolVlm(parser.value(QStringLiteral("smol-layers")).toInt(), parser.value(QStringLiteral("tiles")).toInt(), peak, bw);
    benchQwen25(parser.value(QStringLiteral("qwen-layers")).toInt(), parser.value(QStringLiteral("vision-depth")).toInt(), peak, bw);
    return 0;
}
