#pragma once
// Matrix products of many rows (prefill, the vision towers, their attention) through oneDNN's
// matmul called directly.
//
// Why not libtorch: libtorch 1.13 sends float32 to OpenBLAS's sgemm and bfloat16 to oneDNN
// through ideep, which re-creates the primitive on every call. Measured on the 2-core Xeon
// (AVX-512, AMX-BF16), Qwen2-VL-2B's shapes, same process:
// - Linear at 299 rows: float32 OpenBLAS (core Cooperlake) 207-238 GFLOP/s, oneDNN's brgemm
//   293-336; bfloat16 through libtorch 808-916, oneDNN called directly 824-1,042.
// - The vision attention's q k^T (K = head_dim = 80, 16 heads, 128-512 query rows x 2,024 keys):
//   float32 143-181 -> 148-252 GFLOP/s, bfloat16 380-505 -> 490-635; probs x v float32 170-180
//   -> 314-320.
// The oneDNN is the one libtorch already loads (Debian's libdnnl.so.2), so this adds a header
// package to the build, not a library to the product.
//
// Primitives are cached per shape and strides (a prompt length or an image size each) and run
// on a per-thread stream with a per-thread scratchpad, so several backend threads may call at
// once. Operands stay where they are (strided views, mapped checkpoints used in place).
// bfloat16 values are raw 16-bit patterns; oneDNN accumulates in float32, adds the bias and
// rounds once, as torch's bfloat16 products do.
#include <cstdint>
#include <vector>

namespace mpa::vlm::kernels {

enum class GemmDtype { Float32, BFloat16 };

// An operand: a (batch of) matrices, dims and strides in elements, the last two dims the
// matrix. Batch dims of a and b are equal or 1 (broadcast), as in torch::matmul.
struct StridedOperand {
    const void *data = nullptr;
    std::vector<std::int64_t> dims, strides;
};

// Whether the oneDNN path is built in and selected. MPA_GEMM=torch (read once) turns it off, so
// that a benchmark can set both paths side by side; useOnednnMatmul() does the same in-process.
bool onednnMatmulEnabled();
void useOnednnMatmul(bool on);

// c = a b (+ bias, [N] of the same dtype), written into c's memory (c.data is written). False
// when oneDNN is not built in, not selected, or refuses the shape: the caller then uses libtorch.
bool onednnMatmul(GemmDtype dtype, const StridedOperand &a, const StridedOperand &b, const StridedOperand &c, const void *bias = nullptr);

// Linear's convention: y[rows][out] = x[rows][in] W^T (+ b), W row-major [out][in], x rows
// `ldx` elements apart, y contiguous.
bool onednnLinear(GemmDtype dtype, const void *x, std::int64_t ldx, const void *w, const void *bias, void *y, std::int64_t rows,
                  std::int64_t in, std::int64_t out);

// The implementation oneDNN picks for a prefill-sized Linear of this dtype, e.g.
// "brg:avx512_core_amx_bf16" (benchmarks print it); "off" when the path is not in use.
const char *onednnMatmulImplementation(GemmDtype dtype);

} // namespace mpa::vlm::kernels
