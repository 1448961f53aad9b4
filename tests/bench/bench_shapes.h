#pragma once
// Shared by the torch benchmarks: the float32 matmul peak measured in the same run (the
// baseline training throughput is set against) and Qwen2-VL-shaped configs.
#include "vlm/qwen2vl/qwen2vl_model.h"

#include <QElapsedTimer>

namespace mpa::bench {

inline double peakF32()
{
    const std::int64_t n = 1024;
    auto a = torch::randn({n, n}), b = torch::randn({n, n}), c = torch::empty({n, n});
    torch::matmul_out(c, a, b);
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < 10; ++i)
        torch::matmul_out(c, a, b);
    return 2.0 * n * n * n * 10 / (t.nsecsElapsed() / 1e9) / 1e9;
}

inline vlm::Qwen2VLConfig config(int hidden, int inter, int layers, int heads, int kv, std::array<int, 3> section, int vDepth, int vEmbed,
                                 int vHeads)
{
    vlm::Qwen2VLConfig c;
    c.modelType = QStringLiteral("qwen2_vl");
    c.vocabSize = 151936;
    c.hiddenSize = hidden;
    c.intermediateSize = inter;
    c.numLayers = layers;
    c.numHeads = heads;
    c.numKvHeads = kv;
    c.mropeSection = section;
    c.tieWordEmbeddings = true;
    c.imageTokenId = 151655;
    c.videoTokenId = 151656;
    c.visionStartTokenId = 151652;
    c.visionEndTokenId = 151653;
    c.eosTokenIds = {151645};
    c.bosTokenId = 151643;
    c.vision.depth = vDepth;
    c.vision.embedDim = vEmbed;
    c.vision.numHeads = vHeads;
    c.vision.hiddenSize = hidden;
    return c;
}

// Qwen2-VL-2B's layer shapes (1536 wide, 12 heads over 2 KV heads, 8960 MLP; a 1280-wide,
// 16-head vision tower), with fewer layers and blocks.
inline vlm::Qwen2VLConfig qwen2vl2bShapes(int layers, int visionDepth)
{
    return config(1536, 8960, layers, 12, 2, {16, 24, 24}, visionDepth, 1280, 16);
}

// Multiply-adds x 2 of the decoder stack over `tokens` positions (causal attention counted in
// full, as the GEMMs compute it) plus the head on the last row.
inline double decoderFlops(const vlm::Qwen2VLConfig &c, double tokens)
{
    const double D = c.hiddenSize, F = c.intermediateSize, kv = c.numKvHeads * c.headDim();
    const double perLayer = 2 * tokens * (D * D + 2 * D * kv + D * D + 3 * D * F) + 2 * 2 * tokens * tokens * D;
    return c.numLayers * perLayer + 2.0 * D * c.vocabSize;
}

// The same for the Qwen2-VL vision tower over `patches` rows of one image: patch embedding,
// the blocks (qkv, attention, projection, MLP) and the merger.
inline double visionFlops(const vlm::Qwen2VLConfig &c, double patches)
{
    const auto &v = c.vision;
    const double E = v.embedDim, F = E * v.mlpRatio, M = v.spatialMergeSize * v.spatialMergeSize;
    const double block = 2 * patches * (3 * E * E + E * E + 2 * E * F) + 2 * 2 * patches * patches * E;
    const double merger = 2 * (patches / M) * (E * M * E * M + E * M * c.vision.hiddenSize);
    return 2 * patches * 1176 * E + v.depth * block + merger;
}

} // namespace mpa::bench
