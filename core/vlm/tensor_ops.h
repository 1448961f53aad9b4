#pragma once
// Tensor helpers the native models share (torch translation units only): the reference's
// rotate_half, norms, rotary embeddings and gated activations, Linear with the few-row decode
// kernels, and the block-diagonal attention of the vision towers. Each keeps the reference's
// formula under autograd and takes a faster path with fewer temporaries outside it.
#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace mpa::vlm::ops {

inline torch::Tensor rotateHalf(const torch::Tensor &x)
{
    const auto half = x.size(-1) / 2;
    return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// Statistics in float32, cast back to the input dtype, then the weight (Qwen2RMSNorm,
// LlamaRMSNorm). Outside autograd the mean square comes from a norm (no squared copy) and the
// weight is applied in place.
torch::Tensor rmsNorm(const torch::Tensor &x, const torch::Tensor &weight, double eps);

// LayerNorm over the last dimension (torch's layer_norm). Outside autograd a bfloat16 input on
// CPU is normalised in float32 and rounded once: libtorch 1.13's bf16 kernel took 10.4 ms for
// [2,024, 1280] against 2.4 ms for the casts and the float32 kernel (and was 3x less accurate).
torch::Tensor layerNorm(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias, double eps);

// The decoders' rotary embedding, x * cos + rotate_half(x) * sin in the working dtype as the
// reference (cos/sin already cast to it); outside autograd each half in two passes.
torch::Tensor decoderRotary(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin);

// y = x W^T (+ b), PyTorch's Linear convention ([out, in] weights). One activation row (and up
// to four in float32) on CPU outside autograd goes through the few-row kernels
// (few_row_kernels.h): decode is bandwidth-bound and libtorch's GEMMs are not built for it.
// More rows (prefill, vision) go to oneDNN's matmul called directly (onednn_matmul.h), 1.1-1.4x
// libtorch's path on those shapes; whatever neither takes (autograd, CUDA, other dtypes) goes
// through torch::linear.
torch::Tensor dense(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b = {});

// Attention of q, k, v [n, heads, hd] inside consecutive segments of rows (one image, frame
// group or window each), returned as [n, heads * hd]. Softmax as the reference's eager path,
// whose additive mask of the dtype's lowest value gives exactly zero weight outside a segment,
// so each segment is computed alone. Outside autograd the scores are computed a block of query
// rows at a time, softmax in place, so they stay in cache instead of an [heads, n, n] float32
// tensor (262 MB per block at MPA's 2,024-patch maximum) and its copies.
torch::Tensor segmentAttention(const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v, const std::vector<std::int64_t> &segments);

// The decoders' attention outside autograd: q [B, Hq, L, hd] over k, v [B, Hkv, Lk, hd] with
// the additive mask [B, 1, L, Lk], as the reference's eager path computes it (repeat_kv, scores
// scaled, mask added, float32 softmax) but without its copies: each key/value head serves its
// group of query heads as one product ([rep * L] rows, no repeat_interleave of the cache), q is
// pre-scaled, the mask is added and the softmax taken in place. Returns [B, L, Hq * hd].
torch::Tensor groupedAttentionInference(const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v, const torch::Tensor &mask);

// The vision towers' rotary embedding of q and k, the reference's apply_rotary_pos_emb_vision:
// in float32 (q and k upcast), rounded once to the working dtype. `qkv` is the attention's
// [n, 3, heads, hd] projection, cos/sin [n, 1, hd] float32 with equal halves (the 2-D angles
// twice); returns q and k rotated as [n, 2, heads, hd]. Outside autograd it writes each half
// in two passes (x1 c - x2 s, x2 c + x1 s) instead of building rotate_half and the products.
torch::Tensor visionRotary(const torch::Tensor &qkv, const torch::Tensor &cos, const torch::Tensor &sin);

// visionRotary then segmentAttention on the [n, 3, heads, hd] projection, returning
// [n, heads * hd]. Outside autograd on CPU one pass (activation_kernels.h) rotates q and k in
// float32 and writes q (pre-scaled), k and v head-major, the layout the attention's products
// take, instead of the rotary's float32 temporaries and three permuted copies.
torch::Tensor rotaryVisionAttention(const torch::Tensor &qkv, const torch::Tensor &cos, const torch::Tensor &sin, const std::vector<std::int64_t> &segments);

// QuickGELU, x * sigmoid(1.702 x), in the working dtype as the reference; in place outside
// autograd (one temporary instead of three the size of the MLP's hidden layer; bfloat16 on
// CPU through activation_kernels.h, computed in float32 and rounded once).
torch::Tensor quickGelu(torch::Tensor x);

// silu(gate) * up (SwiGLU), in place on `gate` outside autograd (bfloat16 on CPU fused:
// activation_kernels.h).
torch::Tensor swiGlu(torch::Tensor gate, const torch::Tensor &up);

// y + residual, added into y outside autograd (y is a fresh projection output).
torch::Tensor addResidual(torch::Tensor y, const torch::Tensor &residual);

} // namespace mpa::vlm::ops
