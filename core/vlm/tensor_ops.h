#pragma once
// Tensor helpers the native models share (torch translation units only): the reference's
// rotate_half and RMSNorm, Linear with a matrix-vector fast path for decode, and the
// block-diagonal attention of the vision towers.
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
// LlamaRMSNorm).
inline torch::Tensor rmsNorm(const torch::Tensor &x, const torch::Tensor &weight, double eps)
{
    const auto xf = x.to(torch::kFloat32);
    const auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps);
    return weight * normed.to(x.scalar_type());
}

// y = x W^T (+ b), PyTorch's Linear convention ([out, in] weights).
// Decode multiplies one or a few rows by each weight matrix. On CPU in float32, OpenBLAS's
// sgemm is poor for so few rows (27 GB/s of weights for one row, 12 GB/s for four, measured
// on the 2-core build machine) while sgemv streams the weights at 66 GB/s, so up to four rows
// go through matrix-vector products. bfloat16 (oneDNN) has no such gap.
inline torch::Tensor dense(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b = {})
{
    const std::int64_t in = x.size(-1);
    const std::int64_t rows = in ? x.numel() / in : 0;
    if (rows >= 1 && rows <= 4 && x.device().is_cpu() && x.scalar_type() == torch::kFloat32) {
        auto flat = x.reshape({rows, in});
        std::vector<torch::Tensor> outs;
        for (std::int64_t r = 0; r < rows; ++r)
            outs.push_back(torch::mv(w, flat[r]));
        auto y = torch::stack(outs);
        if (b.defined())
            y = y + b;
        auto sizes = x.sizes().vec();
        sizes.back() = w.size(0);
        return y.view(sizes);
    }
    return torch::linear(x, w, b);
}

// Attention of q, k, v [n, heads, hd] inside consecutive segments of rows (one image, frame
// group or window each): softmax in float32, as the reference's eager path, whose additive
// mask of the dtype's lowest value gives exactly zero weight outside the segment. Runs of
// equal-length segments (the windows of one image) go through one batched product.
inline torch::Tensor segmentAttention(const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v,
                                      const std::vector<std::int64_t> &segments)
{
    const std::int64_t heads = q.size(1), hd = q.size(2);
    const double norm = std::sqrt(static_cast<double>(hd));
    std::vector<torch::Tensor> outs;
    std::int64_t start = 0;
    for (std::size_t i = 0; i < segments.size();) {
        const std::int64_t len = segments[i];
        std::size_t j = i;
        while (j < segments.size() && segments[j] == len)
            ++j;
        const auto count = static_cast<std::int64_t>(j - i);
        auto view = [&](const torch::Tensor &t) { return t.narrow(0, start, count * len).reshape({count, len, heads, hd}).transpose(1, 2); };
        auto scores = torch::matmul(view(q), view(k).transpose(2, 3)) / norm; // [count, heads, len, len]
        auto probs = torch::softmax(scores.to(torch::kFloat32), -1).to(q.scalar_type());
        outs.push_back(torch::matmul(probs, view(v)).transpose(1, 2).reshape({count * len, heads * hd}));
        start += count * len;
        i = j;
    }
    return outs.size() == 1 ? outs.front() : torch::cat(outs, 0);
}

} // namespace mpa::vlm::ops
