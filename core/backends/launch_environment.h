#pragma once
// Process-level settings that libraries read once at start-up, applied by re-executing the
// program once with them in its environment (they cannot be changed from inside main()):
//  - OMP_WAIT_POLICY=PASSIVE: libtorch's OpenMP workers otherwise spin between operations and
//    starve OpenBLAS's own threads. Measured on the 2-core build machine (bench_vlm, float32,
//    Qwen2-VL-2B layer shapes): decode 75 -> 40 ms/token, prefill 43 -> 82 % of matmul peak.
//    Re-measured on the AMD VM once the products left OpenBLAS (2026-12-03): a short spin
//    (GOMP_SPINCOUNT=30000) helped one-row decode but slowed the tiny training config (0.33 ->
//    0.41 s/step), so PASSIVE stays, and small decode products keep to the calling thread
//    instead (few_row_kernels.cpp, tensor_ops.cpp's CallingThreadOnly).
//  - GLIBC_TUNABLES=glibc.malloc.hugetlb=1: transparent huge pages for large mallocs (fewer
//    page faults and TLB misses on weights, caches and activations; see design.md).
//  - OPENBLAS_CORETYPE on Intel AVX-512 CPUs that Debian's OpenBLAS 0.3.21 does not
//    recognise (SkylakeX, or Cooperlake with AVX512-BF16): float32 matmul ~7x faster there.
//  - OPENBLAS_THREAD_TIMEOUT=4: OpenBLAS's workers sleep right after a product instead of
//    spinning ~0.1 s on cores libtorch's threads need next (vision tower 8% faster, 2 cores).
//  - OPENCV_IO_MAX_IMAGE_PIXELS: OpenCV's decoder bound, at util/input_limits.h's.
// A value the user already set is kept. MPA_NO_REEXEC=1 disables the re-execution (debuggers).
namespace mpa::backends {

void ensureLaunchEnvironment(int argc, char *argv[]);
// The OpenBLAS kernel to force on this CPU, or nullptr to leave OpenBLAS's own choice.
const char *openBlasCoreForThisCpu();

} // namespace mpa::backends
