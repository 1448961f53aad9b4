#pragma once
// Products of a few activation rows with a weight matrix, the work of one decode step:
// y[r][o] = b[o] + sum_i x[r][i] * w[o][i] for r < rows (1-4), with w row-major [out][in] as
// PyTorch's Linear stores it. These are bandwidth-bound (each weight is read once per step and
// used `rows` times), so the kernels stream every weight row once for all rows, accumulate in
// float32 and are split over libtorch's intra-op threads by output rows.
//
// Why not libtorch: oneDNN's bf16 matmul (what torch::linear runs for bfloat16) reached 56-63%
// of the read bandwidth for one row, and OpenBLAS's sgemm 40% for float32 (sgemv 66 GB/s, but
// once per row). llama.cpp's ggml_vec_dot_bf16 shows the way: AVX512-BF16's vdpbf16ps takes
// 32 bf16 pairs per instruction, and without it bf16 -> f32 is a 16-bit shift before an FMA.
//
// bfloat16 values are passed as their raw 16-bit patterns; results are rounded to nearest even
// (as torch's float -> bfloat16 conversion), once per output, after the bias is added.
#include <cstdint>

namespace mpa::vlm::kernels {

constexpr std::int64_t kMaxFewRows = 4;

void bf16FewRowLinear(const std::uint16_t *x, const std::uint16_t *w, const std::uint16_t *bias, std::uint16_t *y, std::int64_t rows,
                      std::int64_t in, std::int64_t out);
void f32FewRowLinear(const float *x, const float *w, const float *bias, float *y, std::int64_t rows, std::int64_t in, std::int64_t out);

// The instruction set the kernels run with: "avx512-bf16", "avx512", "avx2" or "portable"
// (benchmarks print it). The best the CPU has, unless MPA_FEW_ROW_ISA names a lower one or
// useFewRowKernelIsa() chose one (tests run every set the machine can).
const char *fewRowKernelIsa();
// Selects `name` when this CPU supports it; false (and no change) otherwise.
bool useFewRowKernelIsa(const char *name);
// The software prefetch on the weight streams: "l1-1k" (into L1, 1 KiB ahead: Intel), "l2-2k"
// (into L2, 2 KiB ahead: AMD) or "none"; MPA_FEW_ROW_PREFETCH or useFewRowPrefetch() overrides
// the per-vendor default (benchmarks print it; tests run every one).
const char *fewRowPrefetch();
bool useFewRowPrefetch(const char *name);
// Whether the selected set is an AVX-512 one (the activation kernels follow the same choice).
bool fewRowKernelsUseAvx512();

} // namespace mpa::vlm::kernels
