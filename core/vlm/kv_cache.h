#pragma once
// The decoders' key/value cache and the causal attention over it (INTERNAL, torch), shared by
// the Qwen2 and Llama decoders.
#include "vlm/tensor_ops.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace mpa::vlm {

// Per-layer keys/values, pre-allocated for `capacity` positions and filled in place (a fresh
// allocation per step costs more than the step itself on CPU).
struct KVCache
{
    std::vector<torch::Tensor> keys, values; // [B, Hkv, capacity, hd]
    std::int64_t length = 0;
    std::int64_t capacity = 0;
    torch::Tensor ropeDeltas; // [B, 1] int64, from the prefill (M-RoPE)
};

inline KVCache makeKvCache(int layers, std::int64_t batch, std::int64_t kvHeads, std::int64_t capacity, std::int64_t headDim, torch::Device device,
                           torch::ScalarType dtype)
{
    KVCache c;
    c.capacity = capacity;
    auto opts = torch::TensorOptions().device(device).dtype(dtype);
    for (int i = 0; i < layers; ++i) {
        c.keys.push_back(torch::empty({batch, kvHeads, capacity, headDim}, opts));
        c.values.push_back(torch::empty({batch, kvHeads, capacity, headDim}, opts));
    }
    return c;
}

// Attention of q [B, Hq, L, hd] over k, v [B, Hkv, L, hd] (grouped query heads), after storing
// k and v in `cache` at layer `layer` when given; `mask` is additive [B, 1, L, past + L].
// Softmax in float32 as the reference's eager path. Returns [B, L, Hq * hd]. Under autograd the
// reference's formula as written; otherwise ops::groupedAttentionInference.
inline torch::Tensor cachedAttention(const torch::Tensor &q, torch::Tensor k, torch::Tensor v, const torch::Tensor &mask, KVCache *cache, int layer)
{
    const std::int64_t B = q.size(0), Hq = q.size(1), L = q.size(2), hd = q.size(3), Hkv = k.size(1);
    if (cache) {
        auto &kc = cache->keys[static_cast<std::size_t>(layer)];
        auto &vc = cache->values[static_cast<std::size_t>(layer)];
        kc.narrow(2, cache->length, L).copy_(k);
        vc.narrow(2, cache->length, L).copy_(v);
        k = kc.narrow(2, 0, cache->length + L);
        v = vc.narrow(2, 0, cache->length + L);
    }
    if (!torch::GradMode::is_enabled() || !(q.requires_grad() || k.requires_grad() || v.requires_grad()))
        return ops::groupedAttentionInference(q, k, v, mask);
    if (Hq / Hkv > 1) {
        k = k.repeat_interleave(Hq / Hkv, 1);
        v = v.repeat_interleave(Hq / Hkv, 1);
    }
    auto scores = torch::matmul(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(hd)) + mask;
    auto probs = torch::softmax(scores.to(torch::kFloat32), -1).to(q.scalar_type());
    return torch::matmul(probs, v).transpose(1, 2).reshape({B, L, Hq * hd});
}

} // namespace mpa::vlm
