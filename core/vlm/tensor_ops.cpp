#include "vlm/tensor_ops.h"

#include "vlm/activation_kernels.h"
#include "vlm/few_row_kernels.h"
#include "vlm/onednn_matmul.h"

#include <algorithm>
#include <optional>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace mpa::vlm::ops {

namespace {

bool needsAutograd(std::initializer_list<const torch::Tensor *> tensors)
{
    if (!torch::GradMode::is_enabled())
        return false;
    for (const torch::Tensor *t : tensors)
        if (t->defined() && t->requires_grad())
            return true;
    return false;
}

// Whether the few-row kernels take this product. bfloat16 only for one row: with more rows
// the work is no longer bound by the weight stream, and oneDNN's AMX matmul keeps up (four rows:
// 26 GB/s against the kernel's 17 on the 2-core Xeon). float32 up to four rows, since they
// read the weights once where a matrix-vector product per row reads them each time.
// Whether w (and b) are a plain CPU Linear of x's dtype, as the raw-pointer kernels need.
bool plainLinearOperands(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b)
{
    const auto dtype = x.scalar_type();
    if (!x.device().is_cpu() || w.dim() != 2 || w.scalar_type() != dtype || !w.is_contiguous() || w.size(1) != x.size(-1))
        return false;
    return !b.defined() || (b.scalar_type() == dtype && b.is_contiguous() && b.numel() == w.size(0));
}

bool fewRowKernelTakes(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b, std::int64_t rows)
{
    const auto dtype = x.scalar_type();
    if (!plainLinearOperands(x, w, b))
        return false;
    if (dtype == torch::kBFloat16)
        return rows == 1;
    return dtype == torch::kFloat32 && rows >= 1 && rows <= kernels::kMaxFewRows;
}

torch::Tensor fewRowDense(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b, std::int64_t rows)
{
    const std::int64_t in = w.size(1), out = w.size(0);
    const auto flat = x.reshape({rows, in}).contiguous();
    auto y = torch::empty({rows, out}, x.options());
    if (x.scalar_type() == torch::kBFloat16) {
        kernels::bf16FewRowLinear(reinterpret_cast<const std::uint16_t *>(flat.data_ptr()), reinterpret_cast<const std::uint16_t *>(w.data_ptr()),
                                  b.defined() ? reinterpret_cast<const std::uint16_t *>(b.data_ptr()) : nullptr,
                                  reinterpret_cast<std::uint16_t *>(y.data_ptr()), rows, in, out);
    } else {
        kernels::f32FewRowLinear(flat.data_ptr<float>(), w.data_ptr<float>(), b.defined() ? b.data_ptr<float>() : nullptr, y.data_ptr<float>(), rows,
                                 in, out);
    }
    auto sizes = x.sizes().vec();
    sizes.back() = out;
    return y.view(sizes);
}

std::optional<kernels::GemmDtype> gemmDtypeOf(const torch::Tensor &t)
{
    if (!t.device().is_cpu())
        return std::nullopt;
    if (t.scalar_type() == torch::kFloat32)
        return kernels::GemmDtype::Float32;
    if (t.scalar_type() == torch::kBFloat16)
        return kernels::GemmDtype::BFloat16;
    return std::nullopt;
}

// The products the few-row kernels leave (prefill, vision) through oneDNN called directly
// (onednn_matmul.h); an undefined tensor when it does not take them.
torch::Tensor onednnDense(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b, std::int64_t rows)
{
    const auto dtype = gemmDtypeOf(x);
    if (!dtype || !kernels::onednnMatmulEnabled() || !plainLinearOperands(x, w, b))
        return {};
    const std::int64_t in = w.size(1), out = w.size(0);
    const auto flat = x.reshape({rows, in});
    const auto src = flat.stride(1) == 1 && flat.stride(0) >= in ? flat : flat.contiguous();
    auto y = torch::empty({rows, out}, x.options());
    if (!kernels::onednnLinear(*dtype, src.data_ptr(), src.stride(0), w.data_ptr(), b.defined() ? b.data_ptr() : nullptr, y.data_ptr(), rows, in, out))
        return {};
    auto sizes = x.sizes().vec();
    sizes.back() = out;
    return y.view(sizes);
}

// Operands whose batches are not packed (a block of query rows of every head, keys narrowed out
// of the cache) send oneDNN 2.6 to its gemm:jit fallback: bf16 q k^T at 250-310 GFLOP/s against
// brgemm's 500-640 for the vision blocks, 100 against 400+ for the decoder's cached keys. A copy
// (at most a few MB) is much cheaper. Packed: each matrix a dense block, row-major or transposed.
torch::Tensor withPackedBatches(const torch::Tensor &t)
{
    const std::int64_t d = t.dim();
    if (d <= 2)
        return t;
    const std::int64_t rows = t.size(d - 2), cols = t.size(d - 1);
    const bool rowMajor = t.stride(d - 1) == 1 && t.stride(d - 2) == cols;
    const bool transposed = t.stride(d - 2) == 1 && t.stride(d - 1) == rows;
    bool dense = rowMajor || transposed;
    std::int64_t expected = rows * cols;
    for (std::int64_t i = d - 3; dense && i >= 0; --i) {
        dense = t.size(i) == 1 || t.stride(i) == expected;
        expected *= t.size(i);
    }
    return dense ? t : t.contiguous();
}

// out = a b (batched as torch::matmul, equal batch dims), written into `out` (a strided view
// may be given): oneDNN where it takes it, libtorch otherwise.
void matmulInto(const torch::Tensor &a, const torch::Tensor &b, const torch::Tensor &out)
{
    const auto dtype = gemmDtypeOf(a);
    if (dtype && b.scalar_type() == a.scalar_type() && out.scalar_type() == a.scalar_type() && b.device().is_cpu() && out.device().is_cpu()) {
        auto operand = [](const torch::Tensor &t) { return kernels::StridedOperand{t.data_ptr(), t.sizes().vec(), t.strides().vec()}; };
        // The same holds for the result (a block of rows of every head's output).
        const auto dst = withPackedBatches(out);
        if (kernels::onednnMatmul(*dtype, operand(withPackedBatches(a)), operand(withPackedBatches(b)), operand(dst))) {
            if (!dst.is_same(out))
                out.copy_(dst);
            return;
        }
    }
    out.copy_(torch::matmul(a, b));
}

// Keeps the OpenMP regions (libtorch's kernels, oneDNN) started by this thread on this thread
// while it lives. For work of a few microseconds: under OMP_WAIT_POLICY=PASSIVE (the launch
// environment) the other workers sleep between regions and waking them costs tens of
// microseconds. omp_set_num_threads sets the calling thread's own count, not the process's
// (at::set_num_threads would also clear oneDNN's primitive cache in libtorch 1.13).
class CallingThreadOnly
{
public:
#ifdef _OPENMP
    CallingThreadOnly()
        : m_saved(omp_get_max_threads())
    {
        omp_set_num_threads(1);
    }
    ~CallingThreadOnly() { omp_set_num_threads(m_saved); }
#else
    CallingThreadOnly() = default;
#endif
    CallingThreadOnly(const CallingThreadOnly &) = delete;
    CallingThreadOnly &operator=(const CallingThreadOnly &) = delete;

private:
#ifdef _OPENMP
    int m_saved;
#endif
};

// Multiply-adds per attention product below which decode keeps to the calling thread: about
// 100 microseconds of work on one core (SmolVLM-256M at a 1,100-token cache: 0.65 M).
constexpr std::int64_t kCallingThreadMacs = 2'000'000;

// Softmax over the last dimension, in place, outside autograd.
void softmaxInPlace(torch::Tensor &scores)
{
    const std::int64_t cols = scores.size(-1);
    const std::int64_t rows = cols ? scores.numel() / cols : 0;
    if (scores.device().is_cpu() && scores.is_contiguous()) {
        if (scores.scalar_type() == torch::kFloat32)
            return kernels::f32SoftmaxRows(scores.data_ptr<float>(), rows, cols);
        if (scores.scalar_type() == torch::kBFloat16)
            return kernels::bf16SoftmaxRows(reinterpret_cast<std::uint16_t *>(scores.data_ptr()), rows, cols);
    }
    at::_softmax_out(scores, scores, -1, false);
}

// Calls f(start, count, len) for each run of `count` consecutive segments of length `len`
// starting at row `start` (an image's windows mostly share one length).
template <typename F>
void forEachRunOfEqualSegments(const std::vector<std::int64_t> &segments, F f)
{
    std::int64_t start = 0;
    for (std::size_t i = 0; i < segments.size();) {
        std::size_t j = i;
        while (j < segments.size() && segments[j] == segments[i])
            ++j;
        const auto count = static_cast<std::int64_t>(j - i);
        f(start, count, segments[i]);
        start += count * segments[i];
        i = j;
    }
}

// The reference's formula as it is, for autograd: whole [count, heads, len, len] scores,
// float32 softmax.
torch::Tensor segmentAttentionForAutograd(const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v,
                                          const std::vector<std::int64_t> &segments)
{
    const std::int64_t heads = q.size(1), hd = q.size(2);
    const double norm = std::sqrt(static_cast<double>(hd));
    std::vector<torch::Tensor> outs;
    forEachRunOfEqualSegments(segments, [&](std::int64_t start, std::int64_t count, std::int64_t len) {
        auto view = [&](const torch::Tensor &t) { return t.narrow(0, start, count * len).reshape({count, len, heads, hd}).transpose(1, 2); };
        auto scores = torch::matmul(view(q), view(k).transpose(2, 3)) / norm; // [count, heads, len, len]
        auto probs = torch::softmax(scores.to(torch::kFloat32), -1).to(q.scalar_type());
        outs.push_back(torch::matmul(probs, view(v)).transpose(1, 2).reshape({count * len, heads * hd}));
    });
    return outs.size() == 1 ? outs.front() : torch::cat(outs, 0);
}

// Scores kept per step: 16 MiB, e.g. 16 heads x 128 query rows x 2,024 keys in float32. Fewer
// rows per step starve the products (K = head_dim = 80): measured on 2 cores at 2,024 keys,
// bf16 q k^T 216 GFLOP/s with 32 rows, 625 with 128; float32 130 -> 200.
constexpr std::int64_t kScoreBudgetBytes = 16 << 20;

// Attention over head-major qh, kh, vh [heads, n, hd] (every head's segment one strided
// matrix), qh already scaled by 1/sqrt(hd); returns [n, heads * hd].
torch::Tensor headMajorSegmentAttention(const torch::Tensor &qh, const torch::Tensor &kh, const torch::Tensor &vh,
                                        const std::vector<std::int64_t> &segments)
{
    const std::int64_t heads = qh.size(0), n = qh.size(1), hd = qh.size(2);
    const auto elt = static_cast<std::int64_t>(qh.element_size());
    auto oh = torch::empty({heads, n, hd}, qh.options());
    // One score buffer for every step: a fresh 16 MiB tensor per step costs its page faults.
    torch::Tensor scoreBuffer;
    auto scoresOf = [&](torch::IntArrayRef shape) {
        const std::int64_t need = c10::multiply_integers(shape);
        if (!scoreBuffer.defined() || scoreBuffer.numel() < need)
            scoreBuffer = torch::empty({need}, qh.options());
        return scoreBuffer.narrow(0, 0, need).view(shape);
    };

    forEachRunOfEqualSegments(segments, [&](std::int64_t start, std::int64_t count, std::int64_t len) {
        const std::int64_t perSegment = heads * len * len * elt;
        if (perSegment <= kScoreBudgetBytes) {
            // Small segments (windows): as many whole segments per step as the budget holds,
            // queries [heads, g, len, hd] against their own keys.
            const std::int64_t g = std::max<std::int64_t>(1, kScoreBudgetBytes / perSegment);
            for (std::int64_t s = 0; s < count; s += g) {
                const std::int64_t take = std::min(g, count - s), at = start + s * len;
                auto part = [&](const torch::Tensor &t) { return t.narrow(1, at, take * len).view({heads, take, len, hd}); };
                auto scores = scoresOf({heads, take, len, len});
                matmulInto(part(qh), part(kh).transpose(2, 3), scores);
                softmaxInPlace(scores);
                matmulInto(scores, part(vh), part(oh));
            }
            return;
        }
        // A large segment (a whole image): blocks of query rows against all its keys.
        const std::int64_t m = std::max<std::int64_t>(8, kScoreBudgetBytes / (heads * len * elt));
        for (std::int64_t s = 0; s < count; ++s) {
            const std::int64_t segStart = start + s * len;
            const auto ks = kh.narrow(1, segStart, len), vs = vh.narrow(1, segStart, len);
            for (std::int64_t r = 0; r < len; r += m) {
                const std::int64_t rows = std::min(m, len - r);
                auto scores = scoresOf({heads, rows, len});
                matmulInto(qh.narrow(1, segStart + r, rows), ks.transpose(1, 2), scores);
                softmaxInPlace(scores);
                matmulInto(scores, vs, oh.narrow(1, segStart + r, rows));
            }
        }
    });
    return oh.permute({1, 0, 2}).reshape({n, heads * hd});
}

torch::Tensor segmentAttentionInference(const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v,
                                        const std::vector<std::int64_t> &segments)
{
    const std::int64_t heads = q.size(1), hd = q.size(2);
    // Head-major copies; the 1/sqrt(hd) of the scores is folded into q on the way.
    auto qh = torch::empty({heads, q.size(0), hd}, q.options());
    torch::mul_out(qh, q.permute({1, 0, 2}), 1.0 / std::sqrt(static_cast<double>(hd)));
    return headMajorSegmentAttention(qh, k.permute({1, 0, 2}).contiguous(), v.permute({1, 0, 2}).contiguous(), segments);
}

} // namespace

torch::Tensor dense(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b)
{
    const std::int64_t in = x.size(-1);
    const std::int64_t rows = in ? x.numel() / in : 0;
    if (rows == 0 || needsAutograd({&x, &w, &b}))
        return torch::linear(x, w, b);
    if (fewRowKernelTakes(x, w, b, rows))
        return fewRowDense(x, w, b, rows);
    if (auto y = onednnDense(x, w, b, rows); y.defined())
        return y;
    return torch::linear(x, w, b);
}

torch::Tensor rmsNorm(const torch::Tensor &x, const torch::Tensor &weight, double eps)
{
    const auto xf = x.to(torch::kFloat32);
    if (needsAutograd({&x, &weight})) {
        const auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps);
        return weight * normed.to(x.scalar_type());
    }
    const double width = static_cast<double>(x.size(-1));
    auto inv = torch::linalg_vector_norm(xf, 2, {-1}, true);
    inv.square_().div_(width).add_(eps).rsqrt_();
    auto normed = torch::mul(xf, inv).to(x.scalar_type());
    return normed.mul_(weight);
}

torch::Tensor layerNorm(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias, double eps)
{
    namespace F = torch::nn::functional;
    const std::int64_t width = x.size(-1);
    if (x.device().is_cpu() && x.scalar_type() == torch::kBFloat16 && !needsAutograd({&x, &weight, &bias})) {
        auto opts = F::LayerNormFuncOptions({width}).eps(eps).weight(weight.to(torch::kFloat32)).bias(bias.to(torch::kFloat32));
        return F::layer_norm(x.to(torch::kFloat32), opts).to(torch::kBFloat16);
    }
    return F::layer_norm(x, F::LayerNormFuncOptions({width}).weight(weight).bias(bias).eps(eps));
}

torch::Tensor decoderRotary(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin)
{
    if (needsAutograd({&x}))
        return x * cos + rotateHalf(x) * sin;
    const std::int64_t h = x.size(-1) / 2;
    const auto shape = at::infer_size(x.sizes(), cos.sizes());
    auto out = torch::empty(shape, x.options());
    const auto x1 = x.narrow(-1, 0, h), x2 = x.narrow(-1, h, h);
    auto o1 = out.narrow(-1, 0, h), o2 = out.narrow(-1, h, h);
    torch::mul_out(o1, x1, cos.narrow(-1, 0, h));
    o1.addcmul_(x2, sin.narrow(-1, 0, h), -1);
    torch::mul_out(o2, x2, cos.narrow(-1, h, h));
    o2.addcmul_(x1, sin.narrow(-1, h, h), 1);
    return out;
}

torch::Tensor visionRotary(const torch::Tensor &qkv, const torch::Tensor &cos, const torch::Tensor &sin)
{
    const auto qk = qkv.narrow(1, 0, 2);                                // [n, 2, heads, hd]
    const auto c = cos.unsqueeze(1), s = sin.unsqueeze(1);              // [n, 1, 1, hd]
    if (needsAutograd({&qkv})) {
        const auto xf = qk.to(torch::kFloat32);
        return (xf * c + rotateHalf(xf) * s).to(qkv.scalar_type());
    }
    const std::int64_t h = qk.size(-1) / 2;
    auto out = torch::empty(qk.sizes(), qkv.options().dtype(torch::kFloat32));
    const auto x1 = qk.narrow(-1, 0, h), x2 = qk.narrow(-1, h, h);
    const auto c1 = c.narrow(-1, 0, h), s1 = s.narrow(-1, 0, h);
    auto o1 = out.narrow(-1, 0, h), o2 = out.narrow(-1, h, h);
    torch::mul_out(o1, x1, c1);
    o1.addcmul_(x2, s1, -1);
    torch::mul_out(o2, x2, c1);
    o2.addcmul_(x1, s1, 1);
    return out.scalar_type() == qkv.scalar_type() ? out : out.to(qkv.scalar_type());
}

torch::Tensor quickGelu(torch::Tensor x)
{
    if (needsAutograd({&x}))
        return x * torch::sigmoid(1.702 * x);
    if (x.device().is_cpu() && x.scalar_type() == torch::kBFloat16 && x.is_contiguous()) {
        auto *p = reinterpret_cast<std::uint16_t *>(x.data_ptr());
        kernels::bf16QuickGelu(p, p, x.numel());
        return x;
    }
    auto gate = x.mul(1.702);
    gate.sigmoid_();
    return x.mul_(gate);
}

torch::Tensor swiGlu(torch::Tensor gate, const torch::Tensor &up)
{
    if (needsAutograd({&gate, &up}))
        return torch::silu(gate) * up;
    if (gate.device().is_cpu() && gate.scalar_type() == torch::kBFloat16 && up.scalar_type() == torch::kBFloat16 && gate.is_contiguous()
        && up.is_contiguous() && up.sizes() == gate.sizes()) {
        auto *g = reinterpret_cast<std::uint16_t *>(gate.data_ptr());
        kernels::bf16SwiGlu(g, reinterpret_cast<const std::uint16_t *>(up.data_ptr()), g, gate.numel());
        return gate;
    }
    return torch::silu_(gate).mul_(up);
}

torch::Tensor addResidual(torch::Tensor y, const torch::Tensor &residual)
{
    if (needsAutograd({&y, &residual}))
        return y + residual;
    return y.add_(residual);
}

torch::Tensor groupedAttentionInference(const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v, const torch::Tensor &mask)
{
    const std::int64_t B = q.size(0), Hq = q.size(1), L = q.size(2), hd = q.size(3), Hkv = k.size(1), Lk = k.size(2), rep = Hq / Hkv;
    // [B, Hkv, rep * L, hd]: the query heads of one group stacked, scaled on the way.
    auto qg = torch::empty({B, Hq, L, hd}, q.options());
    torch::mul_out(qg, q, 1.0 / std::sqrt(static_cast<double>(hd)));
    auto scores = torch::empty({B, Hkv, rep * L, Lk}, q.options());
    // One decode row per head is a few kilobytes of work: libtorch's products, which need no
    // primitive per cache length, on the calling thread (see CallingThreadOnly); oneDNN from a
    // prefill's worth of rows.
    const bool manyRows = rep * L >= 16;
    // Batched decode (the Parity Identifier answers 16 at a time) is enough work for every thread.
    std::optional<CallingThreadOnly> oneThread;
    if (!manyRows && B * Hq * L * Lk * hd < kCallingThreadMacs)
        oneThread.emplace();
    auto product = [&](const torch::Tensor &a, const torch::Tensor &b, torch::Tensor out) {
        if (manyRows)
            matmulInto(a, b, out);
        else
            torch::matmul_out(out, a, b);
    };
    product(qg.view({B, Hkv, rep * L, hd}), k.transpose(2, 3), scores);
    if (mask.defined())
        scores.view({B, Hkv, rep, L, Lk}).add_(mask.unsqueeze(2).to(q.scalar_type()));
    softmaxInPlace(scores);
    auto out = torch::empty({B, Hkv, rep * L, hd}, q.options());
    product(scores, v, out);
    return out.view({B, Hq, L, hd}).transpose(1, 2).reshape({B, L, Hq * hd});
}

torch::Tensor rotaryVisionAttention(const torch::Tensor &qkv, const torch::Tensor &cos, const torch::Tensor &sin, const std::vector<std::int64_t> &segments)
{
    const auto dtype = qkv.scalar_type();
    const bool fused = !needsAutograd({&qkv}) && qkv.device().is_cpu() && qkv.is_contiguous() && (dtype == torch::kFloat32 || dtype == torch::kBFloat16) &&
                       cos.scalar_type() == torch::kFloat32 && sin.scalar_type() == torch::kFloat32;
    if (!fused) {
        const auto qk = visionRotary(qkv, cos, sin);
        return segmentAttention(qk.select(1, 0), qk.select(1, 1), qkv.select(1, 2), segments);
    }
    const std::int64_t n = qkv.size(0), heads = qkv.size(2), hd = qkv.size(3);
    const auto c = cos.reshape({n, hd}).contiguous(), s = sin.reshape({n, hd}).contiguous();
    auto heads3 = torch::empty({3, heads, n, hd}, qkv.options());
    const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
    if (dtype == torch::kBFloat16)
        kernels::bf16RotaryToHeadMajor(reinterpret_cast<const std::uint16_t *>(qkv.data_ptr()), c.data_ptr<float>(), s.data_ptr<float>(),
                                       reinterpret_cast<std::uint16_t *>(heads3.data_ptr()), n, heads, hd, scale);
    else
        kernels::f32RotaryToHeadMajor(qkv.data_ptr<float>(), c.data_ptr<float>(), s.data_ptr<float>(), heads3.data_ptr<float>(), n, heads, hd, scale);
    return headMajorSegmentAttention(heads3[0], heads3[1], heads3[2], segments);
}

torch::Tensor segmentAttention(const torch::Tensor &q, const torch::Tensor &k, const torch::Tensor &v, const std::vector<std::int64_t> &segments)
{
    if (needsAutograd({&q, &k, &v}))
        return segmentAttentionForAutograd(q, k, v, segments);
    return segmentAttentionInference(q, k, v, segments);
}

} // namespace mpa::vlm::ops
