#include "vlm/idefics3/idefics3_config.h"

#include "util/error.h"
#include "util/input_limits.h"
#include "util/json_file.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <cmath>

namespace mpa::vlm {

namespace {

// Sizes beyond these are not a model but a typo or an attack (they would allocate until the
// kernel kills the process).
constexpr double kMaxSize = limits::kMaxHiddenSize;
constexpr double kMaxLayers = limits::kMaxLayers;

int readInt(const QJsonObject &o, const char *key, std::optional<int> fallback, double max, const QString &where)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull()) {
        if (!fallback)
            throw Error(QStringLiteral("%1: \"%2\" is missing").arg(where, QLatin1String(key)));
        return *fallback;
    }
    const double d = v.toDouble(-1);
    if (!v.isDouble() || d != std::floor(d) || d < 1 || d > max)
        throw Error(QStringLiteral("%1: \"%2\" must be an integer between 1 and %3").arg(where, QLatin1String(key)).arg(max));
    return static_cast<int>(d);
}

std::vector<std::int64_t> idList(const QJsonValue &v)
{
    std::vector<std::int64_t> ids;
    if (v.isDouble())
        ids.push_back(static_cast<std::int64_t>(v.toDouble()));
    for (const QJsonValue &x : v.toArray())
        ids.push_back(static_cast<std::int64_t>(x.toDouble()));
    return ids;
}

} // namespace

Idefics3Config Idefics3Config::load(const QString &dir)
{
    const QString path = QFileInfo(dir).isDir() ? QDir(dir).filePath(QStringLiteral("config.json")) : dir;
    const QJsonObject top = json::readFile(path).object();
    Idefics3Config c;
    c.modelType = top.value(QStringLiteral("model_type")).toString();
    if (c.modelType != QLatin1String("idefics3"))
        throw Error(QStringLiteral("%1: model_type \"%2\" is not idefics3").arg(path, c.modelType));
    const QJsonObject text = top.value(QStringLiteral("text_config")).toObject();
    const QString tw = path + QStringLiteral(" text_config");
    if (!text.isEmpty() && text.value(QStringLiteral("model_type")).toString(QStringLiteral("llama")) != QLatin1String("llama"))
        throw Error(QStringLiteral("%1: text model_type \"%2\" is not supported (llama)").arg(tw, text.value(QStringLiteral("model_type")).toString()));
    c.vocabSize = readInt(text, "vocab_size", readInt(top, "vocab_size", 32000, limits::kMaxVocabulary, path), limits::kMaxVocabulary, tw);
    c.hiddenSize = readInt(text, "hidden_size", 4096, kMaxSize, tw);
    c.intermediateSize = readInt(text, "intermediate_size", 11008, kMaxSize, tw);
    c.numLayers = readInt(text, "num_hidden_layers", 32, kMaxLayers, tw);
    c.numHeads = readInt(text, "num_attention_heads", 32, 4096, tw);
    c.numKvHeads = readInt(text, "num_key_value_heads", c.numHeads, 4096, tw);
    c.headDim = readInt(text, "head_dim", c.hiddenSize / c.numHeads, 4096, tw);
    if (c.numHeads % c.numKvHeads != 0 || c.headDim % 2 != 0)
        throw Error(QStringLiteral("%1: %2 heads, %3 KV heads and head_dim %4 do not fit (heads a multiple of KV heads, even head_dim)")
                        .arg(tw).arg(c.numHeads).arg(c.numKvHeads).arg(c.headDim));
    c.maxPositionEmbeddings = readInt(text, "max_position_embeddings", 2048, limits::kMaxContextLength, tw);
    c.rmsNormEps = text.value(QStringLiteral("rms_norm_eps")).toDouble(1e-5);
    c.ropeTheta = text.value(QStringLiteral("rope_theta")).toDouble(10000.0);
    if (!(c.rmsNormEps > 0) || !(c.ropeTheta > 0))
        throw Error(QStringLiteral("%1: rms_norm_eps and rope_theta must be positive").arg(tw));
    if (text.value(QStringLiteral("rope_scaling")).isObject())
        throw Error(QStringLiteral("%1: rope_scaling is not supported").arg(tw));
    if (text.value(QStringLiteral("attention_bias")).toBool() || text.value(QStringLiteral("mlp_bias")).toBool())
        throw Error(QStringLiteral("%1: attention_bias / mlp_bias are not supported").arg(tw));
    if (text.value(QStringLiteral("hidden_act")).toString(QStringLiteral("silu")) != QLatin1String("silu"))
        throw Error(QStringLiteral("%1: hidden_act \"%2\" is not supported (silu)").arg(tw, text.value(QStringLiteral("hidden_act")).toString()));
    c.tieWordEmbeddings = top.value(QStringLiteral("tie_word_embeddings")).toBool(text.value(QStringLiteral("tie_word_embeddings")).toBool(false));
    c.torchDtype = top.value(QStringLiteral("torch_dtype")).toString(text.value(QStringLiteral("torch_dtype")).toString(QStringLiteral("float32")));
    c.imageTokenId = static_cast<std::int64_t>(top.value(QStringLiteral("image_token_id")).toDouble(128257));
    if (c.imageTokenId < 0 || c.imageTokenId >= c.vocabSize)
        throw Error(QStringLiteral("%1: image_token_id %2 is outside the vocabulary (%3)").arg(path).arg(c.imageTokenId).arg(c.vocabSize));
    for (const QJsonObject &o : {top, text}) {
        if (!c.padTokenId && o.value(QStringLiteral("pad_token_id")).isDouble())
            c.padTokenId = static_cast<std::int64_t>(o.value(QStringLiteral("pad_token_id")).toDouble());
        if (!c.bosTokenId && o.value(QStringLiteral("bos_token_id")).isDouble())
            c.bosTokenId = static_cast<std::int64_t>(o.value(QStringLiteral("bos_token_id")).toDouble());
        if (c.eosTokenIds.empty())
            c.eosTokenIds = idList(o.value(QStringLiteral("eos_token_id")));
    }
    c.scaleFactor = readInt(top, "scale_factor", 2, 64, path);

    const QJsonObject vision = top.value(QStringLiteral("vision_config")).toObject();
    const QString vw = path + QStringLiteral(" vision_config");
    auto &v = c.vision;
    v.hiddenSize = readInt(vision, "hidden_size", v.hiddenSize, kMaxSize, vw);
    v.intermediateSize = readInt(vision, "intermediate_size", v.intermediateSize, kMaxSize, vw);
    v.numLayers = readInt(vision, "num_hidden_layers", v.numLayers, kMaxLayers, vw);
    v.numHeads = readInt(vision, "num_attention_heads", v.numHeads, 4096, vw);
    v.numChannels = readInt(vision, "num_channels", v.numChannels, 4, vw);
    v.imageSize = readInt(vision, "image_size", v.imageSize, 8192, vw);
    v.patchSize = readInt(vision, "patch_size", v.patchSize, 1024, vw);
    v.layerNormEps = vision.value(QStringLiteral("layer_norm_eps")).toDouble(v.layerNormEps);
    if (vision.value(QStringLiteral("hidden_act")).toString(QStringLiteral("gelu_pytorch_tanh")) != QLatin1String("gelu_pytorch_tanh"))
        throw Error(QStringLiteral("%1: hidden_act \"%2\" is not supported (gelu_pytorch_tanh)").arg(vw, vision.value(QStringLiteral("hidden_act")).toString()));
    if (v.hiddenSize % v.numHeads != 0 || v.imageSize % v.patchSize != 0 || v.patchesPerSide() % c.scaleFactor != 0 || v.numChannels != 3)
        throw Error(QStringLiteral("%1: hidden_size %2 / %3 heads, image_size %4 / patch_size %5 and scale_factor %6 must divide evenly (3 channels)")
                        .arg(vw).arg(v.hiddenSize).arg(v.numHeads).arg(v.imageSize).arg(v.patchSize).arg(c.scaleFactor));
    return c;
}

Idefics3Config Idefics3Config::small(int hiddenSize, int layers, int vocabSize)
{
    Idefics3Config c;
    c.vocabSize = vocabSize;
    c.hiddenSize = hiddenSize;
    c.intermediateSize = hiddenSize * 2;
    c.numLayers = std::max(1, layers);
    c.numHeads = hiddenSize / 16;
    c.numKvHeads = std::max(1, c.numHeads / 2);
    c.headDim = 16;
    c.ropeTheta = 100000.0;
    c.maxPositionEmbeddings = 8192;
    c.tieWordEmbeddings = true;
    c.scaleFactor = 2;
    c.vision.hiddenSize = 32;
    c.vision.intermediateSize = 64;
    c.vision.numLayers = 2;
    c.vision.numHeads = 2;
    c.vision.imageSize = 64;
    c.vision.patchSize = 16;
    return c;
}

QJsonObject Idefics3Config::toJson() const
{
    QJsonArray eos;
    for (auto id : eosTokenIds)
        eos.append(static_cast<qint64>(id));
    QJsonObject text{
        {QStringLiteral("model_type"), QStringLiteral("llama")}, {QStringLiteral("vocab_size"), vocabSize},
        {QStringLiteral("hidden_size"), hiddenSize}, {QStringLiteral("intermediate_size"), intermediateSize},
        {QStringLiteral("num_hidden_layers"), numLayers}, {QStringLiteral("num_attention_heads"), numHeads},
        {QStringLiteral("num_key_value_heads"), numKvHeads}, {QStringLiteral("head_dim"), headDim},
        {QStringLiteral("rms_norm_eps"), rmsNormEps}, {QStringLiteral("rope_theta"), ropeTheta},
        {QStringLiteral("max_position_embeddings"), maxPositionEmbeddings},
        {QStringLiteral("tie_word_embeddings"), tieWordEmbeddings}, {QStringLiteral("hidden_act"), QStringLiteral("silu")},
    };
    QJsonObject o{
        {QStringLiteral("architectures"), QJsonArray{QStringLiteral("Idefics3ForConditionalGeneration")}},
        {QStringLiteral("model_type"), QStringLiteral("idefics3")},
        {QStringLiteral("image_token_id"), static_cast<qint64>(imageTokenId)},
        {QStringLiteral("scale_factor"), scaleFactor},
        {QStringLiteral("tie_word_embeddings"), tieWordEmbeddings},
        {QStringLiteral("torch_dtype"), torchDtype},
        {QStringLiteral("vocab_size"), vocabSize},
        {QStringLiteral("vision_config"), QJsonObject{
            {QStringLiteral("model_type"), QStringLiteral("idefics3_vision")}, {QStringLiteral("hidden_size"), vision.hiddenSize},
            {QStringLiteral("intermediate_size"), vision.intermediateSize}, {QStringLiteral("num_hidden_layers"), vision.numLayers},
            {QStringLiteral("num_attention_heads"), vision.numHeads}, {QStringLiteral("image_size"), vision.imageSize},
            {QStringLiteral("patch_size"), vision.patchSize}, {QStringLiteral("layer_norm_eps"), vision.layerNormEps}}},
    };
    if (padTokenId) {
        o.insert(QStringLiteral("pad_token_id"), static_cast<qint64>(*padTokenId));
        text.insert(QStringLiteral("pad_token_id"), static_cast<qint64>(*padTokenId));
    }
    if (bosTokenId)
        text.insert(QStringLiteral("bos_token_id"), static_cast<qint64>(*bosTokenId));
    if (!eos.isEmpty())
        text.insert(QStringLiteral("eos_token_id"), eos.size() == 1 ? eos.first() : QJsonValue(eos));
    o.insert(QStringLiteral("text_config"), text);
    return o;
}

std::map<std::string, std::vector<std::int64_t>> Idefics3Config::expectedShapes() const
{
    std::map<std::string, std::vector<std::int64_t>> m;
    const std::int64_t E = vision.hiddenSize, I = vision.intermediateSize, P = vision.patchSize;
    const std::int64_t patches = static_cast<std::int64_t>(vision.patchesPerSide()) * vision.patchesPerSide();
    const std::string ve = "model.vision_model.";
    m[ve + "embeddings.patch_embedding.weight"] = {E, vision.numChannels, P, P};
    m[ve + "embeddings.patch_embedding.bias"] = {E};
    m[ve + "embeddings.position_embedding.weight"] = {patches, E};
    for (int l = 0; l < vision.numLayers; ++l) {
        const std::string pre = ve + "encoder.layers." + std::to_string(l) + ".";
        for (const char *n : {"layer_norm1", "layer_norm2"}) {
            m[pre + n + ".weight"] = {E};
            m[pre + n + ".bias"] = {E};
        }
        for (const char *n : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            m[pre + "self_attn." + n + ".weight"] = {E, E};
            m[pre + "self_attn." + n + ".bias"] = {E};
        }
        m[pre + "mlp.fc1.weight"] = {I, E};
        m[pre + "mlp.fc1.bias"] = {I};
        m[pre + "mlp.fc2.weight"] = {E, I};
        m[pre + "mlp.fc2.bias"] = {E};
    }
    m[ve + "post_layernorm.weight"] = {E};
    m[ve + "post_layernorm.bias"] = {E};
    const std::int64_t D = hiddenSize, F = intermediateSize, q = static_cast<std::int64_t>(numHeads) * headDim,
                       kv = static_cast<std::int64_t>(numKvHeads) * headDim;
    m["model.connector.modality_projection.proj.weight"] = {D, E * scaleFactor * scaleFactor};
    m["model.text_model.embed_tokens.weight"] = {vocabSize, D};
    for (int i = 0; i < numLayers; ++i) {
        const std::string pre = "model.text_model.layers." + std::to_string(i) + ".";
        m[pre + "input_layernorm.weight"] = {D};
        m[pre + "post_attention_layernorm.weight"] = {D};
        m[pre + "self_attn.q_proj.weight"] = {q, D};
        m[pre + "self_attn.k_proj.weight"] = {kv, D};
        m[pre + "self_attn.v_proj.weight"] = {kv, D};
        m[pre + "self_attn.o_proj.weight"] = {D, q};
        m[pre + "mlp.gate_proj.weight"] = {F, D};
        m[pre + "mlp.up_proj.weight"] = {F, D};
        m[pre + "mlp.down_proj.weight"] = {D, F};
    }
    m["model.text_model.norm.weight"] = {D};
    if (!tieWordEmbeddings)
        m["lm_head.weight"] = {vocabSize, D};
    return m;
}

std::int64_t Idefics3Config::parameterCount() const
{
    std::int64_t n = 0;
    for (const auto &[name, shape] : expectedShapes()) {
        std::int64_t k = 1;
        for (auto d : shape)
            k *= d;
        n += k;
    }
    return n;
}

WeightReport checkIdefics3Weights(const Idefics3Config &config, const Checkpoint &checkpoint)
{
    return checkWeightShapes(config.expectedShapes(), config.tieWordEmbeddings, checkpoint, [](const QString &name) { return name; });
}

} // namespace mpa::vlm
