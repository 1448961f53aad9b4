#include "vlm/qwen2vl/qwen2vl_model.h"

#include "vlm/activation_checkpoint.h"

#include "util/error.h"
#include "vlm/qwen2vl/qwen2vl_weights.h"
#include "vlm/safetensors.h"
#include "vlm/tensor_ops.h"

#include <QDir>
#include <QStringList>
#include <cmath>

namespace mpa::vlm {

namespace {

namespace F = torch::nn::functional;



using ops::dense;
using ops::rmsNorm;

} // namespace

namespace {

const Checkpoint::Entry &checkpointEntry(const Checkpoint &checkpoint, const QString &name)
{
    const Checkpoint::Entry *e = checkpoint.find(name);
    if (!e)
        throw Error(QStringLiteral("tensor \"%1\" is not in the checkpoint").arg(name));
    return *e;
}

} // namespace

torch::Tensor tensorFromCheckpoint(const Checkpoint &checkpoint, const QString &name)
{
    const Checkpoint::Entry &e = checkpointEntry(checkpoint, name);
    const TensorInfo &info = *e.info;
    // Copy out of the mapping (from_blob + clone): the model owns its memory and the tensor is
    // correctly aligned whatever the file's offsets.
    auto view = torch::from_blob(const_cast<std::uint8_t *>(e.file->data(info)), info.shape,
                                 torch::TensorOptions().dtype(torchType(info.dtype)));
    return view.clone();
}

torch::Tensor mappedTensorFromCheckpoint(const Checkpoint &checkpoint, const QString &name, torch::ScalarType dtype)
{
    const Checkpoint::Entry &e = checkpointEntry(checkpoint, name);
    const TensorInfo &info = *e.info;
    const auto stored = torchType(info.dtype);
    const auto *bytes = e.file->data(info);
    const auto size = static_cast<std::uintptr_t>(c10::elementSize(stored));
    if (stored != dtype || reinterpret_cast<std::uintptr_t>(bytes) % size != 0)
        return {};
    // The tensor owns a reference to the file: the mapping lives as long as any weight of it.
    std::shared_ptr<const SafetensorsFile> keep = e.file;
    return torch::from_blob(const_cast<std::uint8_t *>(bytes), info.shape, [keep](void *) mutable { keep.reset(); },
                            torch::TensorOptions().dtype(stored));
}

torch::Tensor tensorFromFile(const SafetensorsFile &file, const QString &name)
{
    const TensorInfo *info = file.find(name);
    if (!info)
        throw Error(QStringLiteral("%1: tensor \"%2\" not found").arg(file.path(), name));
    return torch::from_blob(const_cast<std::uint8_t *>(file.data(*info)), info->shape,
                            torch::TensorOptions().dtype(torchType(info->dtype))).clone();
}

torch::Device parseDevice(const QString &text)
{
    const QString t = text.trimmed().toLower();
    if (t.isEmpty() || t == QLatin1String("cpu"))
        return torch::kCPU;
    if (t.startsWith(QLatin1String("cuda"))) {
        if (!torch::cuda::is_available())
            throw Error(QStringLiteral("CUDA was requested (\"%1\") but is not available: this libtorch has no CUDA support or no GPU is visible").arg(text));
        const int index = t.contains(QLatin1Char(':')) ? t.section(QLatin1Char(':'), 1).toInt() : 0;
        if (index < 0 || index >= static_cast<int>(torch::cuda::device_count()))
            throw Error(QStringLiteral("CUDA device %1 does not exist (%2 visible)").arg(index).arg(torch::cuda::device_count()));
        return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw Error(QStringLiteral("unknown device \"%1\" (cpu, cuda, cuda:N)").arg(text));
}

torch::ScalarType torchType(DType d)
{
    switch (d) {
    case DType::F64: return torch::kFloat64;
    case DType::F32: return torch::kFloat32;
    case DType::F16: return torch::kFloat16;
    case DType::BF16: return torch::kBFloat16;
    case DType::I64: return torch::kInt64;
    case DType::I32: return torch::kInt32;
    case DType::I16: return torch::kInt16;
    case DType::I8: return torch::kInt8;
    case DType::U8: return torch::kUInt8;
    case DType::Bool: return torch::kBool;
    }
    return torch::kFloat32;
}

torch::ScalarType parseDtype(const QString &text)
{
    const QString t = text.trimmed().toLower();
    if (t == QLatin1String("f32") || t == QLatin1String("float32"))
        return torch::kFloat32;
    if (t == QLatin1String("bf16") || t == QLatin1String("bfloat16"))
        return torch::kBFloat16;
    if (t == QLatin1String("f16") || t == QLatin1String("float16"))
        return torch::kFloat16;
    throw Error(QStringLiteral("unknown dtype \"%1\" (f32, bf16, f16)").arg(text));
}

std::map<std::string, std::vector<std::int64_t>> Qwen2VLModel::expectedShapes(const Qwen2VLConfig &c)
{
    return qwen2vlExpectedShapes(c);
}

Qwen2VLModel::Qwen2VLModel(const Qwen2VLConfig &config, const Checkpoint &checkpoint, torch::Device device, torch::ScalarType dtype,
                           WeightMemory memory)
    : m_config(config)
    , m_device(device)
    , m_dtype(dtype)
    , m_params(loadParameters(checkWeights(config, checkpoint), checkpoint, device, dtype, memory))
{
}

Qwen2VLModel::Qwen2VLModel(const Qwen2VLConfig &config, torch::Device device, torch::ScalarType dtype, std::uint64_t seed)
    : m_config(config)
    , m_device(device)
    , m_dtype(dtype)
    , m_params(randomParameters(expectedShapes(config), device, dtype, seed))
{
}

const torch::Tensor &Qwen2VLModel::p(const std::string &name) const
{
    return parameterOrTiedHead(m_params, name, "model.embed_tokens.weight");
}

torch::Tensor Qwen2VLModel::proj(const torch::Tensor &x, const std::string &weight, const std::string &bias) const
{
    return linearWithLora(x, p(weight), bias.empty() ? torch::Tensor() : p(bias), m_lora, weight, m_training);
}

torch::Tensor Qwen2VLModel::encodeVision(const VisionInput &input, VisionTrace *trace) const
{
    const auto &v = m_config.vision;
    const std::int64_t E = v.embedDim, heads = v.numHeads, hd = E / heads, M = v.spatialMergeSize;
    auto x = input.pixelValues.to(m_device, m_dtype);
    // Conv3d with kernel == stride is a matmul over the flattened (C, T, P, P) patch.
    x = torch::matmul(x, p("visual.patch_embed.proj.weight").reshape({E, -1}).t());

    // 2-D rotary ids in the processor's row order (merge windows), repeated per frame group.
    std::vector<std::int64_t> rows, cols, segments;
    for (const auto &g : input.grids) {
        const auto t = g[0], h = g[1], w = g[2];
        for (std::int64_t ti = 0; ti < t; ++ti) {
            for (std::int64_t bh = 0; bh < h / M; ++bh)
                for (std::int64_t bw = 0; bw < w / M; ++bw)
                    for (std::int64_t ih = 0; ih < M; ++ih)
                        for (std::int64_t iw = 0; iw < M; ++iw) {
                            rows.push_back(bh * M + ih);
                            cols.push_back(bw * M + iw);
                        }
            segments.push_back(h * w); // no attention across images or frame groups
        }
    }
    const auto n = static_cast<std::int64_t>(rows.size());
    if (n != x.size(0))
        throw Error(QStringLiteral("pixel rows (%1) do not match the image grids (%2 patches)").arg(x.size(0)).arg(n));
    const std::int64_t rotDim = hd / 2; // VisionRotaryEmbedding(head_dim / 2)
    auto invFreq = 1.0 / torch::pow(10000.0, torch::arange(0, rotDim, 2, torch::kFloat64).to(torch::kFloat32) / static_cast<double>(rotDim));
    auto fopts = torch::TensorOptions().dtype(torch::kInt64);
    auto rowT = torch::from_blob(rows.data(), {n}, fopts).to(torch::kFloat32);
    auto colT = torch::from_blob(cols.data(), {n}, fopts).to(torch::kFloat32);
    auto angles = torch::cat({torch::outer(rowT, invFreq), torch::outer(colT, invFreq)}, 1); // [n, hd/2]
    if (trace)
        trace->patchEmbeds = x;
    if (v.tower == VisionTower::Qwen25VL)
        return encodeWindowedVision(input, x, angles, trace);
    auto emb = torch::cat({angles, angles}, 1).to(m_device);                                  // [n, hd]
    const auto cos = emb.cos().unsqueeze(1), sin = emb.sin().unsqueeze(1);                    // [n, 1, hd] float32

    for (int b = 0; b < v.depth; ++b) {
        // Captured by value: with checkpointing the block runs again during backward.
        auto block = [this, b, cos, sin, segments](const torch::Tensor &in) { return visionBlock(b, in, cos, sin, segments); };
        x = checkpointing() ? checkpointed(block, x) : block(x);
        if (trace)
            trace->blockOutputs.push_back(x);
    }
    auto y = ops::layerNorm(x, p("visual.merger.ln_q.weight"), p("visual.merger.ln_q.bias"), 1e-6);
    y = y.view({n / (M * M), E * M * M});
    y = dense(y, p("visual.merger.mlp.0.weight"), p("visual.merger.mlp.0.bias"));
    y = torch::gelu(y); // exact (erf) GELU
    return dense(y, p("visual.merger.mlp.2.weight"), p("visual.merger.mlp.2.bias"));
}

torch::Tensor Qwen2VLModel::visionBlock(int b, torch::Tensor x, const torch::Tensor &cos, const torch::Tensor &sin,
                                        const std::vector<std::int64_t> &segments) const
{
    const auto &v = m_config.vision;
    const std::int64_t E = v.embedDim, heads = v.numHeads, hd = E / heads, n = x.size(0);
    const std::string pre = "visual.blocks." + std::to_string(b) + ".";
    auto h = ops::layerNorm(x, p(pre + "norm1.weight"), p(pre + "norm1.bias"), 1e-6);
    auto qkv = proj(h, pre + "attn.qkv.weight", pre + "attn.qkv.bias").view({n, 3, heads, hd});
    // float32 rotary, as the reference (apply_rotary_pos_emb_vision)
    x = ops::addResidual(proj(ops::rotaryVisionAttention(qkv, cos, sin, segments), pre + "attn.proj.weight",
                              pre + "attn.proj.bias"),
                         x);
    h = ops::layerNorm(x, p(pre + "norm2.weight"), p(pre + "norm2.bias"), 1e-6);
    auto f = ops::quickGelu(proj(h, pre + "mlp.fc1.weight", pre + "mlp.fc1.bias"));
    return ops::addResidual(proj(f, pre + "mlp.fc2.weight", pre + "mlp.fc2.bias"), x);
}

RopeIndex Qwen2VLModel::ropeIndex(const torch::Tensor &inputIdsIn, const std::vector<std::array<std::int64_t, 3>> &imageGrids,
                                  const std::vector<std::array<std::int64_t, 3>> &videoGrids, const torch::Tensor &maskIn,
                                  const std::vector<double> &videoSecondsPerGrid) const
{
    const auto ids = inputIdsIn.to(torch::kCPU, torch::kInt64).contiguous();
    const std::int64_t B = ids.size(0), L = ids.size(1);
    const auto mask = maskIn.defined() ? maskIn.to(torch::kCPU, torch::kInt64).contiguous() : torch::ones({B, L}, torch::kInt64);
    auto pos = torch::ones({3, B, L}, torch::kInt64); // padded slots hold 1
    auto deltas = torch::zeros({B, 1}, torch::kInt64);
    auto P = pos.accessor<std::int64_t, 3>();
    const auto I = ids.accessor<std::int64_t, 2>();
    const auto Mk = mask.accessor<std::int64_t, 2>();
    const std::int64_t merge = m_config.vision.spatialMergeSize;
    std::size_t imageIndex = 0, videoIndex = 0;
    for (std::int64_t b = 0; b < B; ++b) {
        std::vector<std::int64_t> valid;
        for (std::int64_t l = 0; l < L; ++l)
            if (Mk[b][l] == 1)
                valid.push_back(l);
        std::vector<std::array<std::int64_t, 3>> out;
        out.reserve(valid.size());
        std::int64_t next = 0;
        std::size_t i = 0;
        while (i < valid.size()) {
            const std::int64_t tok = I[b][valid[i]];
            const bool vision = (tok == m_config.imageTokenId || tok == m_config.videoTokenId) && i > 0
                                && I[b][valid[i - 1]] == m_config.visionStartTokenId;
            if (!vision) {
                out.push_back({next, next, next});
                ++next;
                ++i;
                continue;
            }
            const bool isImage = tok == m_config.imageTokenId;
            const auto &grids = isImage ? imageGrids : videoGrids;
            std::size_t &index = isImage ? imageIndex : videoIndex;
            if (index >= grids.size())
                throw Error(QStringLiteral("the prompt has more %1 placeholders than %1 inputs").arg(isImage ? QStringLiteral("image") : QStringLiteral("video")));
            const std::size_t which = index++;
            const auto g = grids[which];
            const std::int64_t t = g[0], gh = g[1] / merge, gw = g[2] / merge;
            // Qwen2-VL: temporal position = slice index. Qwen2.5-VL (videos): int(slice *
            // seconds per grid step * tokens_per_second), computed in float32 as transformers
            // (a long tensor times a Python float, then an int) and truncated.
            const bool timed = m_config.vision.tower == VisionTower::Qwen25VL;
            const float seconds = !timed ? 1.0f : !isImage ? static_cast<float>(which < videoSecondsPerGrid.size() ? videoSecondsPerGrid[which] : 1.0) : 0.0f;
            std::int64_t top = next;
            for (std::int64_t ti = 0; ti < t; ++ti) {
                const std::int64_t tp = timed ? static_cast<std::int64_t>(static_cast<float>(ti) * seconds * static_cast<float>(m_config.vision.tokensPerSecond)) : ti;
                for (std::int64_t hi = 0; hi < gh; ++hi)
                    for (std::int64_t wi = 0; wi < gw; ++wi)
                        out.push_back({next + tp, next + hi, next + wi});
                top = std::max({top, next + tp, next + gh - 1, next + gw - 1});
            }
            next = top + 1;
            i += static_cast<std::size_t>(t * gh * gw);
        }
        if (out.size() != valid.size())
            throw Error(QStringLiteral("sample %1: the number of image placeholder tokens does not match the image grid").arg(b));
        std::int64_t maxPos = -1;
        for (std::size_t k = 0; k < valid.size(); ++k) {
            for (int a = 0; a < 3; ++a) {
                P[a][b][valid[k]] = out[k][static_cast<std::size_t>(a)];
                maxPos = std::max(maxPos, out[k][static_cast<std::size_t>(a)]);
            }
        }
        deltas[b][0] = maxPos + 1 - L;
    }
    return {pos, deltas};
}

std::pair<torch::Tensor, torch::Tensor> Qwen2VLModel::ropeCosSin(const torch::Tensor &positionIds) const
{
    const std::int64_t hd = m_config.headDim();
    auto invFreq = (1.0 / torch::pow(m_config.ropeTheta, torch::arange(0, hd, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(hd))).to(m_device);
    auto freqs = positionIds.to(m_device, torch::kFloat32).unsqueeze(-1) * invFreq; // [3, B, L, hd/2]
    auto emb = torch::cat({freqs, freqs}, -1);                                       // [3, B, L, hd]
    auto cos = emb.cos(), sin = emb.sin();
    // Dimension chunks [s0, s1, s2, s0, s1, s2] take their angles from axis (chunk % 3).
    std::vector<torch::Tensor> cosParts, sinParts;
    std::int64_t offset = 0;
    for (int c = 0; c < 6; ++c) {
        const std::int64_t len = m_config.mropeSection[static_cast<std::size_t>(c % 3)];
        cosParts.push_back(cos[c % 3].narrow(-1, offset, len));
        sinParts.push_back(sin[c % 3].narrow(-1, offset, len));
        offset += len;
    }
    // The reference casts cos/sin to the activation dtype before rotating.
    return {torch::cat(cosParts, -1).unsqueeze(1).to(m_dtype), torch::cat(sinParts, -1).unsqueeze(1).to(m_dtype)}; // [B, 1, L, hd]
}

torch::Tensor Qwen2VLModel::decoderLayer(int i, torch::Tensor x, const torch::Tensor &cos, const torch::Tensor &sin, const torch::Tensor &mask,
                                         KVCache *cache) const
{
    const std::int64_t B = x.size(0), L = x.size(1), Hq = m_config.numHeads, Hkv = m_config.numKvHeads, hd = m_config.headDim();
    const double eps = m_config.rmsNormEps;
    const std::string pre = "model.layers." + std::to_string(i) + ".";
    auto h = rmsNorm(x, p(pre + "input_layernorm.weight"), eps);
    auto q = proj(h, pre + "self_attn.q_proj.weight", pre + "self_attn.q_proj.bias").view({B, L, Hq, hd}).transpose(1, 2);
    auto k = proj(h, pre + "self_attn.k_proj.weight", pre + "self_attn.k_proj.bias").view({B, L, Hkv, hd}).transpose(1, 2);
    auto v = proj(h, pre + "self_attn.v_proj.weight", pre + "self_attn.v_proj.bias").view({B, L, Hkv, hd}).transpose(1, 2);
    q = ops::decoderRotary(q, cos, sin);
    k = ops::decoderRotary(k, cos, sin);
    auto a = cachedAttention(q, k, v, mask, cache, i);
    x = ops::addResidual(proj(a, pre + "self_attn.o_proj.weight"), x);
    h = rmsNorm(x, p(pre + "post_attention_layernorm.weight"), eps);
    auto g = proj(h, pre + "mlp.gate_proj.weight");
    auto u = proj(h, pre + "mlp.up_proj.weight");
    return ops::addResidual(proj(ops::swiGlu(g, u), pre + "mlp.down_proj.weight"), x);
}

torch::Tensor Qwen2VLModel::textLayers(torch::Tensor x, const torch::Tensor &cos, const torch::Tensor &sin, const torch::Tensor &mask,
                                       KVCache *cache, std::vector<torch::Tensor> *hidden) const
{
    const std::int64_t L = x.size(1);
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
    x = rmsNorm(x, p("model.norm.weight"), m_config.rmsNormEps);
    if (hidden)
        hidden->push_back(x);
    return x;
}

KVCache Qwen2VLModel::makeCache(std::int64_t batch, std::int64_t capacity) const
{
    return makeKvCache(m_config.numLayers, batch, m_config.numKvHeads, capacity, m_config.headDim(), m_device, m_dtype);
}

ForwardOutput Qwen2VLModel::forward(const torch::Tensor &inputIdsIn, const torch::Tensor &attentionMaskIn, const VisionInput *images,
                                    const VisionInput *videos, KVCache *cache, bool wantHiddenStates, bool lastLogitsOnly) const
{
    const auto inputIds = inputIdsIn.to(m_device, torch::kInt64);
    const std::int64_t B = inputIds.size(0), L = inputIds.size(1);
    const auto attentionMask = attentionMaskIn.defined() ? attentionMaskIn.to(m_device, torch::kInt64) : torch::ones({B, L}, torch::TensorOptions().dtype(torch::kInt64).device(m_device));
    auto x = torch::embedding(p("model.embed_tokens.weight"), inputIds);
    // Vision rows replace the placeholder tokens in order of appearance (row-major over the batch).
    auto scatter = [&](const VisionInput *in, std::int64_t tokenId, const char *what) {
        if (!in || !in->pixelValues.defined())
            return;
        auto rows = encodeVision(*in).to(m_dtype);
        auto where = (inputIds == tokenId);
        const std::int64_t count = where.sum().item<std::int64_t>();
        if (count != rows.size(0))
            throw Error(QStringLiteral("%1 placeholder tokens (%2) do not match the %3 features (%4)").arg(QLatin1String(what)).arg(count).arg(QLatin1String(what)).arg(rows.size(0)));
        x = x.masked_scatter(where.unsqueeze(-1).expand_as(x), rows);
    };
    scatter(images, m_config.imageTokenId, "image");
    scatter(videos, m_config.videoTokenId, "video");

    const RopeIndex rope = ropeIndex(inputIds, images ? images->grids : std::vector<std::array<std::int64_t, 3>>{},
                                     videos ? videos->grids : std::vector<std::array<std::int64_t, 3>>{}, attentionMask,
                                     videos ? videos->secondsPerGrid : std::vector<double>{});
    const std::int64_t past = cache ? cache->length : 0;
    if (cache) {
        if (past + L > cache->capacity)
            throw Error(QStringLiteral("KV cache capacity %1 exceeded").arg(cache->capacity));
        cache->ropeDeltas = rope.ropeDeltas;
    }
    const auto [cos, sin] = ropeCosSin(rope.positionIds);
    const auto mask = causalPaddingMask(attentionMask, L, past, m_dtype, m_device);
    ForwardOutput out;
    std::vector<torch::Tensor> hidden;
    if (wantHiddenStates)
        hidden.push_back(x);
    x = textLayers(x, cos, sin, mask, cache, wantHiddenStates ? &hidden : nullptr);
    if (lastLogitsOnly)
        x = x.narrow(1, L - 1, 1);
    out.logits = dense(x, p("lm_head.weight")).to(torch::kFloat32);
    out.hiddenStates = std::move(hidden);
    return out;
}

torch::Tensor Qwen2VLModel::decodeStep(const torch::Tensor &tokens, const torch::Tensor &attentionMask, KVCache &cache) const
{
    const std::int64_t B = tokens.size(0), L = tokens.size(1);
    if (cache.length + L > cache.capacity)
        throw Error(QStringLiteral("KV cache capacity %1 exceeded").arg(cache.capacity));
    auto x = torch::embedding(p("model.embed_tokens.weight"), tokens.to(m_device, torch::kInt64));
    // Position = cache position + rope delta, on all three axes.
    auto steps = torch::arange(cache.length, cache.length + L, torch::kInt64).unsqueeze(0).expand({B, L});
    auto pos = (steps + cache.ropeDeltas.to(torch::kCPU)).unsqueeze(0).expand({3, B, L});
    const auto [cos, sin] = ropeCosSin(pos);
    const auto mask = causalPaddingMask(attentionMask, L, cache.length, m_dtype, m_device);
    x = textLayers(x, cos, sin, mask, &cache, nullptr);
    return dense(x, p("lm_head.weight")).to(torch::kFloat32);
}

torch::Tensor Qwen2VLModel::causalLmLoss(const torch::Tensor &logits, const torch::Tensor &labels)
{
    const auto V = logits.size(-1);
    auto shiftedLogits = logits.narrow(1, 0, logits.size(1) - 1).to(torch::kFloat32).reshape({-1, V});
    auto shiftedLabels = labels.to(logits.device(), torch::kInt64).narrow(1, 1, labels.size(1) - 1).reshape({-1});
    return F::cross_entropy(shiftedLogits, shiftedLabels, F::CrossEntropyFuncOptions().ignore_index(-100));
}

} // namespace mpa::vlm
