#include "vlm/qwen2vl/qwen2vl_weights.h"

#include "vlm/qwen25vl/qwen25vl_config.h"

namespace mpa::vlm {

namespace {
std::string s(const char *fmt, int i)
{
    return QString::fromLatin1(fmt).arg(i).toStdString();
}
} // namespace

QString shapeText(const std::vector<std::int64_t> &shape)
{
    QStringList parts;
    for (auto d : shape)
        parts << QString::number(d);
    return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

std::map<std::string, std::vector<std::int64_t>> qwen2vlExpectedShapes(const Qwen2VLConfig &c)
{
    std::map<std::string, std::vector<std::int64_t>> m;
    const std::int64_t D = c.hiddenSize, F = c.intermediateSize, V = c.vocabSize, kv = static_cast<std::int64_t>(c.numKvHeads) * c.headDim();
    m["model.embed_tokens.weight"] = {V, D};
    for (int i = 0; i < c.numLayers; ++i) {
        m[s("model.layers.%1.input_layernorm.weight", i)] = {D};
        m[s("model.layers.%1.post_attention_layernorm.weight", i)] = {D};
        m[s("model.layers.%1.self_attn.q_proj.weight", i)] = {D, D};
        m[s("model.layers.%1.self_attn.q_proj.bias", i)] = {D};
        m[s("model.layers.%1.self_attn.k_proj.weight", i)] = {kv, D};
        m[s("model.layers.%1.self_attn.k_proj.bias", i)] = {kv};
        m[s("model.layers.%1.self_attn.v_proj.weight", i)] = {kv, D};
        m[s("model.layers.%1.self_attn.v_proj.bias", i)] = {kv};
        m[s("model.layers.%1.self_attn.o_proj.weight", i)] = {D, D};
        m[s("model.layers.%1.mlp.gate_proj.weight", i)] = {F, D};
        m[s("model.layers.%1.mlp.up_proj.weight", i)] = {F, D};
        m[s("model.layers.%1.mlp.down_proj.weight", i)] = {D, F};
    }
    m["model.norm.weight"] = {D};
    if (!c.tieWordEmbeddings)
        m["lm_head.weight"] = {V, D};
    if (c.vision.tower == VisionTower::Qwen25VL) {
        addQwen25VisionShapes(c.vision, m);
        return m;
    }
    const auto &v = c.vision;
    const std::int64_t E = v.embedDim, H = static_cast<std::int64_t>(E) * v.mlpRatio;
    const std::int64_t M = static_cast<std::int64_t>(E) * v.spatialMergeSize * v.spatialMergeSize;
    m["visual.patch_embed.proj.weight"] = {E, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize};
    for (int b = 0; b < v.depth; ++b) {
        for (const char *n : {"norm1", "norm2"}) {
            m[s((std::string("visual.blocks.%1.") + n + ".weight").c_str(), b)] = {E};
            m[s((std::string("visual.blocks.%1.") + n + ".bias").c_str(), b)] = {E};
        }
        m[s("visual.blocks.%1.attn.qkv.weight", b)] = {3 * E, E};
        m[s("visual.blocks.%1.attn.qkv.bias", b)] = {3 * E};
        m[s("visual.blocks.%1.attn.proj.weight", b)] = {E, E};
        m[s("visual.blocks.%1.attn.proj.bias", b)] = {E};
        m[s("visual.blocks.%1.mlp.fc1.weight", b)] = {H, E};
        m[s("visual.blocks.%1.mlp.fc1.bias", b)] = {H};
        m[s("visual.blocks.%1.mlp.fc2.weight", b)] = {E, H};
        m[s("visual.blocks.%1.mlp.fc2.bias", b)] = {E};
    }
    m["visual.merger.ln_q.weight"] = {E};
    m["visual.merger.ln_q.bias"] = {E};
    m["visual.merger.mlp.0.weight"] = {M, M};
    m["visual.merger.mlp.0.bias"] = {M};
    m["visual.merger.mlp.2.weight"] = {D, M};
    m["visual.merger.mlp.2.bias"] = {D};
    return m;
}

QString canonicalWeightName(const QString &name)
{
    if (name.startsWith(QLatin1String("model.language_model.")))
        return QStringLiteral("model.") + name.mid(21);
    if (name.startsWith(QLatin1String("model.visual.")))
        return name.mid(6);
    return name;
}

WeightReport checkWeights(const Qwen2VLConfig &config, const Checkpoint &checkpoint)
{
    return checkWeightShapes(qwen2vlExpectedShapes(config), config.tieWordEmbeddings, checkpoint, canonicalWeightName);
}

WeightReport checkWeightShapes(const std::map<std::string, std::vector<std::int64_t>> &expected, bool tiedHead, const Checkpoint &checkpoint,
                               const std::function<QString(const QString &)> &canonical)
{
    WeightReport r;
    for (const QString &name : checkpoint.names()) {
        const std::string c = canonical(name).toStdString();
        if (expected.count(c))
            r.stored[c] = name;
        else if (!(c == "lm_head.weight" && tiedHead)) // a redundant tied head is fine
            r.unexpected << name;
    }
    for (const auto &[name, shape] : expected) {
        auto it = r.stored.find(name);
        if (it == r.stored.end()) {
            r.missing << QString::fromStdString(name) + QLatin1Char(' ') + shapeText(shape);
            continue;
        }
        const auto &actual = checkpoint.find(it->second)->info->shape;
        if (actual != shape)
            r.misshaped << QStringLiteral("%1 expected %2, found %3").arg(it->second, shapeText(shape), shapeText(actual));
    }
    return r;
}

QString WeightReport::summary() const
{
    QStringList problems;
    if (!missing.isEmpty())
        problems << QStringLiteral("missing %1: %2").arg(missing.size()).arg(missing.mid(0, 20).join(QStringLiteral("; ")));
    if (!misshaped.isEmpty())
        problems << QStringLiteral("wrong shape %1: %2").arg(misshaped.size()).arg(misshaped.mid(0, 20).join(QStringLiteral("; ")));
    if (!unexpected.isEmpty())
        problems << QStringLiteral("unexpected %1: %2").arg(unexpected.size()).arg(unexpected.mid(0, 20).join(QStringLiteral("; ")));
    return problems.join(QStringLiteral(" | "));
}

} // namespace mpa::vlm
