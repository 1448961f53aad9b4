#include "vlm/model_config.h"

#include "util/error.h"
#include "util/input_limits.h"
#include "util/json_file.h"
#include "vlm/qwen25vl/qwen25vl_config.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>

#include <algorithm>

namespace mpa::vlm {

namespace {

class Reader
{
public:
    Reader(QJsonObject primary, QJsonObject fallback, QString where)
        : m_primary(std::move(primary))
        , m_fallback(std::move(fallback))
        , m_where(std::move(where))
    {
    }
    QJsonValue value(const char *key) const
    {
        const QString k = QLatin1String(key);
        if (m_primary.contains(k))
            return m_primary.value(k);
        return m_fallback.value(k);
    }
    int requiredInt(const char *key) const
    {
        const QJsonValue v = value(key);
        if (v.isUndefined() || v.isNull())
            throw Error(QStringLiteral("%1: \"%2\" is missing").arg(m_where, QLatin1String(key)));
        // Bounded: num_hidden_layers 1e9 would allocate until the kernel kills the process.
        const double max = QLatin1String(key) == QLatin1String("vocab_size")                ? limits::kMaxVocabulary
                           : QLatin1String(key) == QLatin1String("max_position_embeddings") ? limits::kMaxContextLength
                           : (QLatin1String(key).contains(QLatin1String("layers")) || QLatin1String(key) == QLatin1String("depth")) ? limits::kMaxLayers
                                                                                                                                     : limits::kMaxHiddenSize;
        if (!v.isDouble() || v.toDouble() != static_cast<double>(static_cast<qint64>(v.toDouble())) || v.toDouble() <= 0)
            throw Error(QStringLiteral("%1: \"%2\" must be a positive integer, got %3").arg(m_where, QLatin1String(key), json::typeName(v)));
        if (v.toDouble() > max)
            throw Error(QStringLiteral("%1: \"%2\" is %3, beyond the supported %4").arg(m_where, QLatin1String(key)).arg(v.toDouble()).arg(max));
        return static_cast<int>(v.toDouble());
    }
    void optionalInt(const char *key, int &target) const
    {
        if (!value(key).isUndefined() && !value(key).isNull())
            target = requiredInt(key);
    }
    void optionalId(const char *key, std::int64_t &target) const
    {
        const QJsonValue v = value(key);
        if (v.isDouble())
            target = static_cast<std::int64_t>(v.toDouble());
        else if (!v.isUndefined() && !v.isNull())
            throw Error(QStringLiteral("%1: \"%2\" must be an integer").arg(m_where, QLatin1String(key)));
    }
    double optionalDouble(const char *key, double fallback) const
    {
        const QJsonValue v = value(key);
        if (v.isUndefined() || v.isNull())
            return fallback;
        if (!v.isDouble())
            throw Error(QStringLiteral("%1: \"%2\" must be a number").arg(m_where, QLatin1String(key)));
        return v.toDouble();
    }
    const QString &where() const { return m_where; }

private:
    QJsonObject m_primary, m_fallback;
    QString m_where;
};

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

Qwen2VLConfig Qwen2VLConfig::load(const QString &dir)
{
    const QString path = QFileInfo(dir).isDir() ? QDir(dir).filePath(QStringLiteral("config.json")) : dir;
    const QJsonObject top = json::readFile(path).object();
    Qwen2VLConfig c;
    c.modelType = top.value(QStringLiteral("model_type")).toString();
    if (c.modelType != QLatin1String("qwen2_vl") && c.modelType != QLatin1String("qwen2_5_vl"))
        throw Error(QStringLiteral("%1: model_type \"%2\" is not a Qwen2-VL family model (qwen2_vl, qwen2_5_vl)")
                        .arg(path, c.modelType.isEmpty() ? QStringLiteral("(none)") : c.modelType));
    // Newer saves nest the language model's fields under text_config.
    const QJsonObject text = top.value(QStringLiteral("text_config")).toObject();
    const Reader r(text, top, path);
    c.vocabSize = r.requiredInt("vocab_size");
    c.hiddenSize = r.requiredInt("hidden_size");
    c.intermediateSize = r.requiredInt("intermediate_size");
    c.numLayers = r.requiredInt("num_hidden_layers");
    c.numHeads = r.requiredInt("num_attention_heads");
    c.numKvHeads = r.requiredInt("num_key_value_heads");
    if (c.hiddenSize % c.numHeads != 0 || c.numHeads % c.numKvHeads != 0)
        throw Error(QStringLiteral("%1: hidden_size %2, %3 heads and %4 KV heads do not divide evenly").arg(path).arg(c.hiddenSize).arg(c.numHeads).arg(c.numKvHeads));
    c.rmsNormEps = r.optionalDouble("rms_norm_eps", 1e-6);
    r.optionalInt("max_position_embeddings", c.maxPositionEmbeddings);
    QJsonObject rope = r.value("rope_scaling").toObject();
    if (rope.isEmpty())
        rope = r.value("rope_parameters").toObject();
    c.ropeTheta = rope.contains(QStringLiteral("rope_theta")) ? rope.value(QStringLiteral("rope_theta")).toDouble()
                                                              : r.optionalDouble("rope_theta", 1000000.0);
    const QJsonArray section = rope.value(QStringLiteral("mrope_section")).toArray();
    if (section.size() != 3)
        throw Error(QStringLiteral("%1: rope_scaling.mrope_section must hold 3 integers").arg(path));
    for (int i = 0; i < 3; ++i)
        c.mropeSection[static_cast<std::size_t>(i)] = section.at(i).toInt();
    if (2 * (c.mropeSection[0] + c.mropeSection[1] + c.mropeSection[2]) != c.headDim())
        throw Error(QStringLiteral("%1: mrope_section sums to %2, expected head_dim/2 = %3").arg(path)
                        .arg(c.mropeSection[0] + c.mropeSection[1] + c.mropeSection[2]).arg(c.headDim() / 2));
    c.tieWordEmbeddings = r.value("tie_word_embeddings").toBool(top.value(QStringLiteral("tie_word_embeddings")).toBool(false));
    c.hiddenAct = r.value("hidden_act").toString(QStringLiteral("silu"));
    if (c.hiddenAct != QLatin1String("silu"))
        throw Error(QStringLiteral("%1: hidden_act \"%2\" is not supported (silu)").arg(path, c.hiddenAct));
    c.torchDtype = r.value("torch_dtype").toString(top.value(QStringLiteral("torch_dtype")).toString(QStringLiteral("float32")));
    const Reader ids(top, text, path);
    ids.optionalId("image_token_id", c.imageTokenId);
    ids.optionalId("video_token_id", c.videoTokenId);
    ids.optionalId("vision_start_token_id", c.visionStartTokenId);
    ids.optionalId("vision_end_token_id", c.visionEndTokenId);
    if (c.imageTokenId < 0 || c.videoTokenId < 0 || c.visionStartTokenId < 0)
        throw Error(QStringLiteral("%1: image_token_id, video_token_id and vision_start_token_id are required").arg(path));
    c.eosTokenIds = idList(ids.value("eos_token_id"));
    if (ids.value("bos_token_id").isDouble())
        c.bosTokenId = static_cast<std::int64_t>(ids.value("bos_token_id").toDouble());

    const QJsonObject vision = top.value(QStringLiteral("vision_config")).toObject();
    if (c.modelType == QLatin1String("qwen2_5_vl")) {
        readQwen25VisionConfig(vision, c.vision, path + QStringLiteral(" vision_config"));
        if (c.vision.hiddenSize != c.hiddenSize)
            throw Error(QStringLiteral("%1: vision_config.out_hidden_size %2 differs from the language model's hidden_size %3").arg(path).arg(c.vision.hiddenSize).arg(c.hiddenSize));
        return c;
    }
    const Reader v(vision, QJsonObject(), path + QStringLiteral(" vision_config"));
    v.optionalInt("depth", c.vision.depth);
    v.optionalInt("embed_dim", c.vision.embedDim);
    v.optionalInt("num_heads", c.vision.numHeads);
    v.optionalInt("mlp_ratio", c.vision.mlpRatio);
    v.optionalInt("in_chans", c.vision.inChannels);
    v.optionalInt("in_channels", c.vision.inChannels);
    v.optionalInt("spatial_patch_size", c.vision.patchSize);
    v.optionalInt("patch_size", c.vision.patchSize);
    v.optionalInt("temporal_patch_size", c.vision.temporalPatchSize);
    v.optionalInt("spatial_merge_size", c.vision.spatialMergeSize);
    c.vision.hiddenSize = c.hiddenSize;
    v.optionalInt("hidden_size", c.vision.hiddenSize);
    c.vision.hiddenAct = vision.value(QStringLiteral("hidden_act")).toString(QStringLiteral("quick_gelu"));
    if (c.vision.hiddenSize != c.hiddenSize)
        throw Error(QStringLiteral("%1: vision_config.hidden_size %2 differs from the language model's %3").arg(path).arg(c.vision.hiddenSize).arg(c.hiddenSize));
    if (c.vision.embedDim % c.vision.numHeads != 0)
        throw Error(QStringLiteral("%1: vision embed_dim %2 is not divisible by %3 heads").arg(path).arg(c.vision.embedDim).arg(c.vision.numHeads));
    return c;
}

Qwen2VLConfig Qwen2VLConfig::small(int hiddenSize, int layers, int vocabSize)
{
    Qwen2VLConfig c;
    c.modelType = QStringLiteral("qwen2_vl");
    c.vocabSize = vocabSize;
    c.hiddenSize = hiddenSize;
    c.intermediateSize = hiddenSize * 2;
    c.numLayers = std::max(1, layers);
    c.numHeads = hiddenSize / 16;
    c.numKvHeads = std::max(1, c.numHeads / 2);
    c.mropeSection = {2, 3, 3}; // sums to head_dim / 2 = 8
    c.tieWordEmbeddings = true;
    c.vision.depth = 1;
    c.vision.embedDim = 32;
    c.vision.numHeads = 2;
    c.vision.hiddenSize = hiddenSize;
    return c;
}

Qwen2VLConfig Qwen2VLConfig::smallQwen25(int hiddenSize, int layers, int vocabSize)
{
    Qwen2VLConfig c = small(hiddenSize, layers, vocabSize);
    c.modelType = QStringLiteral("qwen2_5_vl");
    c.vision.tower = VisionTower::Qwen25VL;
    c.vision.depth = 2;
    c.vision.intermediateSize = 64;
    c.vision.hiddenAct = QStringLiteral("silu");
    c.vision.windowSize = 112;
    c.vision.fullAttentionBlocks = {1};
    c.vision.tokensPerSecond = 2;
    return c;
}

std::int64_t Qwen2VLConfig::parameterCount() const
{
    const std::int64_t D = hiddenSize, F = intermediateSize, V = vocabSize, kv = static_cast<std::int64_t>(numKvHeads) * headDim();
    const std::int64_t layer = 2 * D + (D * D + D) + 2 * (D * kv + kv) + D * D + 3 * D * F;
    const std::int64_t text = V * D + numLayers * layer + D + (tieWordEmbeddings ? 0 : V * D);
    if (vision.tower == VisionTower::Qwen25VL)
        return text + qwen25VisionParameterCount(vision);
    const std::int64_t E = vision.embedDim, Hm = E * vision.mlpRatio;
    const std::int64_t patch = E * vision.inChannels * vision.temporalPatchSize * vision.patchSize * vision.patchSize;
    const std::int64_t block = 4 * E + (3 * E * E + 3 * E) + (E * E + E) + (E * Hm + Hm) + (Hm * E + E);
    const std::int64_t mergeIn = E * vision.spatialMergeSize * vision.spatialMergeSize;
    const std::int64_t merger = 2 * E + (mergeIn * mergeIn + mergeIn) + (mergeIn * D + D);
    return text + patch + vision.depth * block + merger;
}

QJsonObject Qwen2VLConfig::toJson() const
{
    QJsonArray eos;
    for (auto id : eosTokenIds)
        eos.append(static_cast<qint64>(id));
    const bool qwen25 = vision.tower == VisionTower::Qwen25VL;
    QJsonObject o{
        {QStringLiteral("architectures"), QJsonArray{qwen25 ? QStringLiteral("Qwen2_5_VLForConditionalGeneration") : QStringLiteral("Qwen2VLForConditionalGeneration")}},
        {QStringLiteral("model_type"), qwen25 ? QStringLiteral("qwen2_5_vl") : QStringLiteral("qwen2_vl")},
        {QStringLiteral("vocab_size"), vocabSize},
        {QStringLiteral("hidden_size"), hiddenSize},
        {QStringLiteral("intermediate_size"), intermediateSize},
        {QStringLiteral("num_hidden_layers"), numLayers},
        {QStringLiteral("num_attention_heads"), numHeads},
        {QStringLiteral("num_key_value_heads"), numKvHeads},
        {QStringLiteral("rms_norm_eps"), rmsNormEps},
        {QStringLiteral("rope_theta"), ropeTheta},
        {QStringLiteral("max_position_embeddings"), maxPositionEmbeddings},
        {QStringLiteral("rope_scaling"), QJsonObject{{QStringLiteral("type"), QStringLiteral("mrope")},
                                                     {QStringLiteral("mrope_section"), QJsonArray{mropeSection[0], mropeSection[1], mropeSection[2]}}}},
        {QStringLiteral("tie_word_embeddings"), tieWordEmbeddings},
        {QStringLiteral("hidden_act"), hiddenAct},
        {QStringLiteral("torch_dtype"), torchDtype},
        {QStringLiteral("image_token_id"), static_cast<qint64>(imageTokenId)},
        {QStringLiteral("video_token_id"), static_cast<qint64>(videoTokenId)},
        {QStringLiteral("vision_start_token_id"), static_cast<qint64>(visionStartTokenId)},
        {QStringLiteral("vision_end_token_id"), static_cast<qint64>(visionEndTokenId)},
        {QStringLiteral("eos_token_id"), eos.size() == 1 ? eos.first() : QJsonValue(eos)},
        {QStringLiteral("use_sliding_window"), false},
        {QStringLiteral("vision_config"), QJsonObject{
            {QStringLiteral("depth"), vision.depth}, {QStringLiteral("embed_dim"), vision.embedDim},
            {QStringLiteral("num_heads"), vision.numHeads}, {QStringLiteral("mlp_ratio"), vision.mlpRatio},
            {QStringLiteral("in_channels"), vision.inChannels}, {QStringLiteral("patch_size"), vision.patchSize},
            {QStringLiteral("temporal_patch_size"), vision.temporalPatchSize}, {QStringLiteral("spatial_merge_size"), vision.spatialMergeSize},
            {QStringLiteral("hidden_size"), vision.hiddenSize}, {QStringLiteral("hidden_act"), vision.hiddenAct},
            {QStringLiteral("model_type"), QStringLiteral("qwen2_vl")}}},
    };
    if (qwen25)
        o.insert(QStringLiteral("vision_config"), qwen25VisionConfigJson(vision));
    if (bosTokenId)
        o.insert(QStringLiteral("bos_token_id"), static_cast<qint64>(*bosTokenId));
    return o;
}

GenerationConfig GenerationConfig::load(const QString &dir, const Qwen2VLConfig &model)
{
    return load(dir, model.eosTokenIds);
}

GenerationConfig GenerationConfig::load(const QString &dir, const std::vector<std::int64_t> &defaultEos)
{
    GenerationConfig g;
    g.eosTokenIds = defaultEos;
    const QString path = QDir(dir).filePath(QStringLiteral("generation_config.json"));
    if (!QFileInfo::exists(path))
        return g;
    const QJsonObject o = json::readFile(path).object();
    g.doSample = o.value(QStringLiteral("do_sample")).toBool(false);
    g.temperature = o.value(QStringLiteral("temperature")).toDouble(1.0);
    g.topK = o.value(QStringLiteral("top_k")).toInt(50);
    g.topP = o.value(QStringLiteral("top_p")).toDouble(1.0);
    g.repetitionPenalty = o.value(QStringLiteral("repetition_penalty")).toDouble(1.0);
    if (o.contains(QStringLiteral("max_new_tokens")))
        g.maxNewTokens = o.value(QStringLiteral("max_new_tokens")).toInt(128);
    const auto eos = idList(o.value(QStringLiteral("eos_token_id")));
    if (!eos.empty())
        g.eosTokenIds = eos;
    if (o.value(QStringLiteral("pad_token_id")).isDouble())
        g.padTokenId = static_cast<std::int64_t>(o.value(QStringLiteral("pad_token_id")).toDouble());
    if (g.temperature <= 0 || g.topP <= 0 || g.topP > 1 || g.repetitionPenalty <= 0)
        throw Error(QStringLiteral("%1: temperature and repetition_penalty must be positive and top_p in (0, 1]").arg(path));
    return g;
}

} // namespace mpa::vlm
