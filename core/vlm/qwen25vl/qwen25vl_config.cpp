#include "vlm/qwen25vl/qwen25vl_config.h"

#include "util/error.h"
#include "util/input_limits.h"

#include <QJsonArray>

namespace mpa::vlm {

namespace {

void readInt(const QJsonObject &o, const char *key, int &target, const QString &where)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return;
    const double d = v.toDouble(-1);
    const double max = QLatin1String(key) == QLatin1String("depth") ? limits::kMaxLayers : limits::kMaxHiddenSize;
    if (!v.isDouble() || d != static_cast<double>(static_cast<qint64>(d)) || d <= 0 || d > max)
        throw Error(QStringLiteral("%1: \"%2\" must be an integer between 1 and %3").arg(where, QLatin1String(key)).arg(max));
    target = static_cast<int>(d);
}

} // namespace

void readQwen25VisionConfig(const QJsonObject &vision, Qwen2VLVisionConfig &v, const QString &where)
{
    v = Qwen2VLVisionConfig{};
    v.tower = VisionTower::Qwen25VL;
    v.depth = 32;
    v.embedDim = 3584;
    v.intermediateSize = 3420;
    v.numHeads = 16;
    v.hiddenSize = 3584;
    v.windowSize = 112;
    v.fullAttentionBlocks = {7, 15, 23, 31};
    v.tokensPerSecond = 4;
    v.hiddenAct = QStringLiteral("silu");
    readInt(vision, "depth", v.depth, where);
    readInt(vision, "hidden_size", v.embedDim, where);
    readInt(vision, "intermediate_size", v.intermediateSize, where);
    readInt(vision, "num_heads", v.numHeads, where);
    readInt(vision, "in_channels", v.inChannels, where);
    readInt(vision, "in_chans", v.inChannels, where);
    readInt(vision, "patch_size", v.patchSize, where);
    readInt(vision, "spatial_patch_size", v.patchSize, where);
    readInt(vision, "temporal_patch_size", v.temporalPatchSize, where);
    readInt(vision, "spatial_merge_size", v.spatialMergeSize, where);
    readInt(vision, "out_hidden_size", v.hiddenSize, where);
    readInt(vision, "window_size", v.windowSize, where);
    readInt(vision, "tokens_per_second", v.tokensPerSecond, where);
    v.hiddenAct = vision.value(QStringLiteral("hidden_act")).toString(v.hiddenAct);
    if (v.hiddenAct != QLatin1String("silu"))
        throw Error(QStringLiteral("%1: hidden_act \"%2\" is not supported (silu)").arg(where, v.hiddenAct));
    if (vision.contains(QStringLiteral("fullatt_block_indexes"))) {
        v.fullAttentionBlocks.clear();
        for (const QJsonValue &x : vision.value(QStringLiteral("fullatt_block_indexes")).toArray()) {
            const int b = x.toInt(-1);
            if (b < 0 || b >= v.depth)
                throw Error(QStringLiteral("%1: fullatt_block_indexes holds %2, outside 0..%3 (depth %4)").arg(where).arg(x.toVariant().toString()).arg(v.depth - 1).arg(v.depth));
            v.fullAttentionBlocks.push_back(b);
        }
    } else {
        // The defaults fit the default depth; a shallower tower keeps those that exist.
        std::erase_if(v.fullAttentionBlocks, [&](int b) { return b >= v.depth; });
    }
    const int merged = v.patchSize * v.spatialMergeSize;
    if (v.windowSize % merged != 0)
        throw Error(QStringLiteral("%1: window_size %2 is not a multiple of patch_size x spatial_merge_size = %3").arg(where).arg(v.windowSize).arg(merged));
    if (v.embedDim % v.numHeads != 0 || (v.embedDim / v.numHeads) % 4 != 0)
        throw Error(QStringLiteral("%1: vision hidden_size %2 with %3 heads gives a head size that is not a multiple of 4").arg(where).arg(v.embedDim).arg(v.numHeads));
}

QJsonObject qwen25VisionConfigJson(const Qwen2VLVisionConfig &v)
{
    QJsonArray full;
    for (int b : v.fullAttentionBlocks)
        full.append(b);
    return QJsonObject{
        {QStringLiteral("model_type"), QStringLiteral("qwen2_5_vl")}, {QStringLiteral("depth"), v.depth},
        {QStringLiteral("hidden_size"), v.embedDim}, {QStringLiteral("intermediate_size"), v.intermediateSize},
        {QStringLiteral("num_heads"), v.numHeads}, {QStringLiteral("in_channels"), v.inChannels},
        {QStringLiteral("patch_size"), v.patchSize}, {QStringLiteral("temporal_patch_size"), v.temporalPatchSize},
        {QStringLiteral("spatial_merge_size"), v.spatialMergeSize}, {QStringLiteral("out_hidden_size"), v.hiddenSize},
        {QStringLiteral("window_size"), v.windowSize}, {QStringLiteral("fullatt_block_indexes"), full},
        {QStringLiteral("tokens_per_second"), v.tokensPerSecond}, {QStringLiteral("hidden_act"), v.hiddenAct},
    };
}

void addQwen25VisionShapes(const Qwen2VLVisionConfig &v, std::map<std::string, std::vector<std::int64_t>> &m)
{
    const std::int64_t E = v.embedDim, I = v.intermediateSize, M = E * v.spatialMergeSize * v.spatialMergeSize;
    m["visual.patch_embed.proj.weight"] = {E, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize};
    for (int b = 0; b < v.depth; ++b) {
        const std::string pre = "visual.blocks." + std::to_string(b) + ".";
        m[pre + "norm1.weight"] = {E};
        m[pre + "norm2.weight"] = {E};
        m[pre + "attn.qkv.weight"] = {3 * E, E};
        m[pre + "attn.qkv.bias"] = {3 * E};
        m[pre + "attn.proj.weight"] = {E, E};
        m[pre + "attn.proj.bias"] = {E};
        for (const char *n : {"gate_proj", "up_proj"}) {
            m[pre + "mlp." + n + ".weight"] = {I, E};
            m[pre + "mlp." + n + ".bias"] = {I};
        }
        m[pre + "mlp.down_proj.weight"] = {E, I};
        m[pre + "mlp.down_proj.bias"] = {E};
    }
    m["visual.merger.ln_q.weight"] = {E};
    m["visual.merger.mlp.0.weight"] = {M, M};
    m["visual.merger.mlp.0.bias"] = {M};
    m["visual.merger.mlp.2.weight"] = {v.hiddenSize, M};
    m["visual.merger.mlp.2.bias"] = {v.hiddenSize};
}

std::int64_t qwen25VisionParameterCount(const Qwen2VLVisionConfig &v)
{
    std::map<std::string, std::vector<std::int64_t>> shapes;
    addQwen25VisionShapes(v, shapes);
    std::int64_t n = 0;
    for (const auto &[name, shape] : shapes) {
        std::int64_t k = 1;
        for (auto d : shape)
            k *= d;
        n += k;
    }
    return n;
}

} // namespace mpa::vlm
