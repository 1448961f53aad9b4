#include "vlm/idefics3/idefics3_model.h"

#include "util/error.h"
#include "vlm/activation_checkpoint.h"
#include "vlm/safetensors.h"
#include "vlm/tensor_ops.h"

#include <QDir>
#include <cmath>

namespace mpa::vlm {


Idefics3Model::Idefics3Model(const Idefics3Config &config, const Checkpoint &checkpoint, torch::Device device, torch::ScalarType dtype,
                             WeightMemory memory)
    : m_config(config)
    , m_device(device)
    , m_dtype(dtype)
    , m_params(loadParameters(checkIdefics3Weights(config, checkpoint), checkpoint, device, dtype, memory))
{
}

Idefics3Model::Idefics3Model(const Idefics3Config &config, torch::Device device, torch::ScalarType dtype, std::uint64_t seed)
    : m_config(config)
    , m_device(device)
    , m_dtype(dtype)
    , m_params(randomParameters(config.expectedShapes(), device, dtype, seed))
{
}

const torch::Tensor &Idefics3Model::p(const std::string &name) const
{
    return parameterOrTiedHead(m_params, name, "model.text_model.embed_tokens.weight");
}

torch::Tensor Idefics3Model::proj(const torch::Tensor &x, const std::string &weight, const std::string &bias) const
{
    return linearWithLora(x, p(weight), bias.empty() ? torch::Tensor() : p(bias), m_lora, weight, m_training);
}

torch::Tensor Idefics3Model::encoderLayer(int l, torch::Tensor x) const
{
    const auto &v = m_config.vision;
    const std::int64_t N = x.size(0), S = x.size(1), H = v.numHeads, hd = v.headDim(), E = v.hiddenSize;
    const std::string pre = "model.vision_model.encoder.layers." + std::to_string(l) + ".";
    auto ln = [&](const torch::Tensor &in, const char *n) {
        return ops::layerNorm(in, p(pre + n + ".weight"), p(pre + n + ".bias"), v.layerNormEps);
    };
    auto h = ln(x, "layer_norm1");
    // Idefics3VisionAttention (eager): scores * head_dim^-0.5, softmax in float32, each tile
    // attending to itself: one segment per tile.
    auto heads = [&](const char *n) { return proj(h, pre + "self_attn." + n + ".weight", pre + "self_attn." + n + ".bias").view({N * S, H, hd}); };
    const auto a = ops::segmentAttention(heads("q_proj"), heads("k_proj"), heads("v_proj"), std::vector<std::int64_t>(static_cast<std::size_t>(N), S));
    x = ops::addResidual(proj(a.view({N, S, E}), pre + "self_attn.out_proj.weight", pre + "self_attn.out_proj.bias"), x);
    h = ln(x, "layer_norm2");
    auto f = torch::gelu(proj(h, pre + "mlp.fc1.weight", pre + "mlp.fc1.bias"), "tanh");
    return ops::addResidual(proj(f, pre + "mlp.fc2.weight", pre + "mlp.fc2.bias"), x);
}

torch::Tensor Idefics3Model::encodeTiles(const torch::Tensor &pixelsIn, Idefics3VisionTrace *trace) const
{
    const auto &v = m_config.vision;
    const std::int64_t T = v.imageSize, P = v.patchSize, E = v.hiddenSize, side = v.patchesPerSide();
    if (pixelsIn.dim() != 4 || pixelsIn.size(1) != 3 || pixelsIn.size(2) != T || pixelsIn.size(3) != T)
        throw Error(QStringLiteral("image tiles must be [N, 3, %1, %1], got %2").arg(T).arg(QString::fromStdString(torch::str(pixelsIn.sizes()))));
    const std::int64_t N = pixelsIn.size(0);
    // Conv2d with kernel == stride: each patch (c, y, x) flattened, times the kernel.
    auto x = pixelsIn.to(m_device, m_dtype).view({N, 3, side, P, side, P}).permute({0, 2, 4, 1, 3, 5}).reshape({N, side * side, 3 * P * P});
    x = ops::dense(x, p("model.vision_model.embeddings.patch_embedding.weight").reshape({E, -1}), p("model.vision_model.embeddings.patch_embedding.bias"));
    // Full tiles: the NaViT bucket position ids are 0 .. side^2 - 1 in raster order.
    x = x + p("model.vision_model.embeddings.position_embedding.weight").unsqueeze(0);
    if (trace)
        trace->hiddenStates.push_back(x);
    for (int l = 0; l < v.numLayers; ++l) {
        auto layer = [this, l](const torch::Tensor &in) { return encoderLayer(l, in); };
        x = checkpointing() ? checkpointed(layer, x) : layer(x);
        if (trace)
            trace->hiddenStates.push_back(x);
    }
    x = ops::layerNorm(x, p("model.vision_model.post_layernorm.weight"), p("model.vision_model.post_layernorm.bias"), v.layerNormEps);
    if (trace)
        trace->lastHiddenState = x;
    // Idefics3Connector.pixel_shuffle, the same view / permute sequence.
    const std::int64_t s = m_config.scaleFactor, seq = side * side;
    auto y = x.view({N, side, side, E});
    y = y.view({N, side, side / s, E * s});
    y = y.permute({0, 2, 1, 3});
    y = y.reshape({N, side / s, side / s, E * s * s});
    y = y.permute({0, 2, 1, 3});
    y = y.reshape({N, seq / (s * s), E * s * s});
    return proj(y, "model.connector.modality_projection.proj.weight");
}

torch::Tensor Idefics3Model::decoderLayer(int i, torch::Tensor x, const torch::Tensor &cos, const torch::Tensor &sin, const torch::Tensor &mask,
                                          KVCache *cache) const
{
    const std::int64_t B = x.size(0), L = x.size(1), Hq = m_config.numHeads, Hkv = m_config.numKvHeads, hd = m_config.headDim;
    const double eps = m_config.rmsNormEps;
    const std::string pre = "model.text_model.layers." + std::to_string(i) + ".";
    auto h = ops::rmsNorm(x, p(pre + "input_layernorm.weight"), eps);
    auto q = proj(h, pre + "self_attn.q_proj.weight").view({B, L, Hq, hd}).transpose(1, 2);
    auto k = proj(h, pre + "self_attn.k_proj.weight").view({B, L, Hkv, hd}).transpose(1, 2);
    auto v = proj(h, pre + "self_attn.v_proj.weight").view({B, L, Hkv, hd}).transpose(1, 2);
    q = ops::decoderRotary(q, cos, sin);
    k = ops::decoderRotary(k, cos, sin);
    auto a = cachedAttention(q, k, v, mask, cache, i);
    x = ops::addResidual(proj(a, pre + "self_attn.o_proj.weight"), x);
    h = ops::rmsNorm(x, p(pre + "post_attention_layernorm.weight"), eps);
    return ops::addResidual(proj(ops::swiGlu(proj(h, pre + "mlp.gate_proj.weight"), proj(h, pre + "mlp.up_proj.weight")), pre + "mlp.down_proj.weight"), x);
}

torch::Tensor Idefics3Model::textLayers(torch::Tensor x, const torch::Tensor &positions, const torch::Tensor &mask, KVCache *cache,
                                        std::vector<torch::Tensor> *hidden) const
{
    // LlamaRotaryEmbedding: angles in float32, cos/sin cast to the activation dtype.
    const std::int64_t hd = m_config.headDim, L = x.size(1);
    auto invFreq = (1.0 / torch::pow(m_config.ropeTheta, torch::arange(0, hd, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(hd))).to(m_device);
    auto freqs = positions.to(m_device, torch::kFloat32).unsqueeze(-1) * invFreq; // [B, L, hd/2]
    auto emb = torch::cat({freqs, freqs}, -1);
    const auto cos = emb.cos().to(m_dtype).unsqueeze(1), sin = emb.sin().to(m_dtype).unsqueeze(1); // [B, 1, L, hd]
    for (int i = 0; i < m_config.numLayers; ++i) {
        if (!cache && checkpointing()) {
            auto layer = [this, i, cos, sin, mask](const torch::Tensor &in) { return decoderLayer(i, in, cos, sin, mask, nullptr); };
            x = checkpointed(layer, x);
        } else {
            x = decoderLayer(i, x, cos, sin, mask, cache);
        }
        if (hidden && i + 1 < m_config.numLayers)
            hidden->push_back(x);
    }
    if (cache)
        cache->length += L;
    x = ops::rmsNorm(x, p("model.text_model.norm.weight"), m_config.rmsNormEps);
    if (hidden)
        hidden->push_back(x);
    return x;
}

KVCache Idefics3Model::makeCache(std::int64_t batch, std::int64_t capacity) const
{
    return makeKvCache(m_config.numLayers, batch, m_config.numKvHeads, capacity, m_config.headDim, m_device, m_dtype);
}

ForwardOutput Idefics3Model::forward(const torch::Tensor &inputIdsIn, const torch::Tensor &attentionMaskIn, const torch::Tensor &tiles,
                                     KVCache *cache, bool wantHiddenStates, bool lastLogitsOnly) const
{
    const auto inputIds = inputIdsIn.to(m_device, torch::kInt64);
    const std::int64_t B = inputIds.size(0), L = inputIds.size(1);
    const auto mask = attentionMaskIn.defined() ? attentionMaskIn.to(m_device, torch::kInt64)
                                                : torch::ones({B, L}, torch::TensorOptions().dtype(torch::kInt64).device(m_device));
    auto x = torch::embedding(p("model.text_model.embed_tokens.weight"), inputIds);
    const auto where = inputIds == m_config.imageTokenId;
    const std::int64_t slots = where.sum().item<std::int64_t>();
    if (tiles.defined() && tiles.numel() > 0) {
        auto rows = encodeTiles(tiles).reshape({-1, m_config.hiddenSize}).to(m_dtype);
        if (slots != rows.size(0))
            throw Error(QStringLiteral("%1 <image> tokens do not match the %2 image features (%3 tiles x %4)")
                            .arg(slots).arg(rows.size(0)).arg(tiles.size(0)).arg(m_config.imageSeqLen()));
        x = x.masked_scatter(where.unsqueeze(-1).expand_as(x), rows);
    } else if (slots > 0) {
        throw Error(QStringLiteral("the prompt has %1 <image> tokens but no image was given").arg(slots));
    }
    const std::int64_t past = cache ? cache->length : 0;
    if (cache && past + L > cache->capacity)
        throw Error(QStringLiteral("KV cache capacity %1 exceeded").arg(cache->capacity));
    auto positions = (mask.cumsum(1) - 1).masked_fill(mask == 0, 1) + past;
    ForwardOutput out;
    std::vector<torch::Tensor> hidden;
    if (wantHiddenStates)
        hidden.push_back(x);
    x = textLayers(x, positions, causalPaddingMask(mask, L, past, m_dtype, m_device), cache, wantHiddenStates ? &hidden : nullptr);
    if (lastLogitsOnly)
        x = x.narrow(1, L - 1, 1);
    out.logits = ops::dense(x, p("lm_head.weight")).to(torch::kFloat32);
    out.hiddenStates = std::move(hidden);
    return out;
}

torch::Tensor Idefics3Model::decodeStep(const torch::Tensor &tokens, const torch::Tensor &attentionMask, KVCache &cache) const
{
    const std::int64_t L = tokens.size(1);
    if (cache.length + L > cache.capacity)
        throw Error(QStringLiteral("KV cache capacity %1 exceeded").arg(cache.capacity));
    auto x = torch::embedding(p("model.text_model.embed_tokens.weight"), tokens.to(m_device, torch::kInt64));
    // Position of each new token: the number of real tokens before it.
    const auto mask = attentionMask.to(m_device, torch::kInt64);
    auto positions = (mask.cumsum(1) - 1).narrow(1, cache.length, L);
    x = textLayers(x, positions, causalPaddingMask(mask, L, cache.length, m_dtype, m_device), &cache, nullptr);
    return ops::dense(x, p("lm_head.weight")).to(torch::kFloat32);
}

} // namespace mpa::vlm
