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

} // namespace mpa::bench
