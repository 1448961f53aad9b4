#include "vlm/activation_kernels.h"

#include "vlm/bf16_bits.h"
#include "vlm/few_row_kernels.h"

#include <ATen/Parallel.h>
// GCC 12's AVX-512 headers trip its own -Wuninitialized (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

namespace mpa::vlm::kernels {

namespace {

// Gate scale inside the sigmoid: 1 for SiLU, 1.702 for QuickGELU.
template <bool Gated>
void portable(const std::uint16_t *x, const std::uint16_t *up, std::uint16_t *out, std::int64_t n, float scale)
{
    for (std::int64_t i = 0; i < n; ++i) {
        const float v = bf16ToFloat(x[i]);
        float y = v / (1.0f + std::exp(-scale * v));
        if constexpr (Gated)
            y *= bf16ToFloat(up[i]);
        out[i] = floatToBf16(y);
    }
}

#define MPA_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

MPA_AVX512 inline __m512 load16(const std::uint16_t *p, __mmask16 m)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

// Round to nearest even; NaN stays a quiet NaN.
MPA_AVX512 inline void store16(std::uint16_t *p, __m512 v, __mmask16 m)
{
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(bits, 16), _mm512_set1_epi32(0x40));
    _mm256_mask_storeu_epi16(p, m, _mm512_cvtepi32_epi16(r));
}

// e^x for x in float32: n = round(x log2 e), r = x - n ln 2 (in two parts), Cephes' expf
// polynomial for e^r, then scaled by 2^n. Clamped to +-88.
MPA_AVX512 inline __m512 exp16(__m512 x)
{
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.0f)), _mm512_set1_ps(-88.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

template <bool Gated>
MPA_AVX512 void avx512(const std::uint16_t *x, const std::uint16_t *up, std::uint16_t *out, std::int64_t n, float scale)
{
    const __m512 s = _mm512_set1_ps(-scale), one = _mm512_set1_ps(1.0f);
    for (std::int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
        const __m512 v = load16(x + i, m);
        __m512 y = _mm512_div_ps(v, _mm512_add_ps(one, exp16(_mm512_mul_ps(s, v))));
        if constexpr (Gated)
            y = _mm512_mul_ps(y, load16(up + i, m));
        store16(out + i, y, m);
    }
}

template <bool Gated>
void run(const std::uint16_t *x, const std::uint16_t *up, std::uint16_t *out, std::int64_t n, float scale)
{
    // 16 Ki elements per task: a few microseconds of work, worth a thread hand-off.
    at::parallel_for(0, n, 16384, [&](std::int64_t b, std::int64_t e) {
        // The instruction set chosen for the few-row kernels (MPA_FEW_ROW_ISA, useFewRowKernelIsa).
        if (fewRowKernelsUseAvx512())
            avx512<Gated>(x + b, Gated ? up + b : nullptr, out + b, e - b, scale);
        else
            portable<Gated>(x + b, Gated ? up + b : nullptr, out + b, e - b, scale);
    });
}

// ---- softmax over rows ----

inline float loadFloat(const float *p) { return *p; }
inline float loadFloat(const std::uint16_t *p) { return bf16ToFloat(*p); }

template <typename T>
void softmaxRowPortable(T *x, std::int64_t cols, float *scratch)
{
    float mx = -INFINITY;
    for (std::int64_t i = 0; i < cols; ++i)
        mx = std::max(mx, loadFloat(x + i));
    float sum = 0;
    for (std::int64_t i = 0; i < cols; ++i) {
        scratch[i] = std::exp(loadFloat(x + i) - mx);
        sum += scratch[i];
    }
    const float inv = 1.0f / sum;
    for (std::int64_t i = 0; i < cols; ++i) {
        if constexpr (std::is_same_v<T, float>)
            x[i] = scratch[i] * inv;
        else
            x[i] = floatToBf16(scratch[i] * inv);
    }
}

MPA_AVX512 inline __m512 load16(const float *p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
MPA_AVX512 inline void store16(float *p, __m512 v, __mmask16 m) { _mm512_mask_storeu_ps(p, m, v); }

MPA_AVX512 inline __mmask16 tailMask(std::int64_t left)
{
    return left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
}

// Three passes over a row that stays in L1/L2 (2,024 scores: 4-8 KiB): max, exp and sum into
// a float32 scratch row, then scale (and round).
template <typename T>
MPA_AVX512 void softmaxRowAvx512(T *x, std::int64_t cols, float *scratch)
{
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (std::int64_t i = 0; i < cols; i += 16) {
        const __mmask16 m = tailMask(cols - i);
        mx = _mm512_mask_max_ps(mx, m, mx, load16(x + i, m));
    }
    const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (std::int64_t i = 0; i < cols; i += 16) {
        const __mmask16 m = tailMask(cols - i);
        const __m512 d = _mm512_sub_ps(load16(x + i, m), vmax);
        // exp16 clamps at -88; below that (masked scores, -inf) the reference's weight is 0.
        const __m512 e = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(d, _mm512_set1_ps(-87.0f), _CMP_GE_OQ), exp16(d));
        sum = _mm512_mask_add_ps(sum, m, sum, e);
        _mm512_mask_storeu_ps(scratch + i, m, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (std::int64_t i = 0; i < cols; i += 16) {
        const __mmask16 m = tailMask(cols - i);
        store16(x + i, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, scratch + i), inv), m);
    }
}

template <typename T>
void softmaxRows(T *x, std::int64_t rows, std::int64_t cols)
{
    if (rows <= 0 || cols <= 0)
        return;
    const std::int64_t grain = std::max<std::int64_t>(1, 16384 / cols);
    at::parallel_for(0, rows, grain, [&](std::int64_t b, std::int64_t e) {
        std::vector<float> scratch(static_cast<std::size_t>(cols));
        const bool avx512 = fewRowKernelsUseAvx512();
        for (std::int64_t r = b; r < e; ++r) {
            if (avx512)
                softmaxRowAvx512(x + r * cols, cols, scratch.data());
            else
                softmaxRowPortable(x + r * cols, cols, scratch.data());
        }
    });
}

inline void storeValue(float *p, float v) { *p = v; }
inline void storeValue(std::uint16_t *p, float v) { *p = floatToBf16(v); }

template <typename T>
void rotaryToHeadMajor(const T *qkv, const float *cos, const float *sin, T *out, std::int64_t n, std::int64_t heads, std::int64_t hd, float qScale)
{
    const std::int64_t half = hd / 2, plane = heads * n * hd;
    // 16 patches per task: 16 x 3 x 1,280 values, tens of microseconds of work.
    at::parallel_for(0, n, 16, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) {
            const float *c = cos + i * hd, *s = sin + i * hd;
            for (std::int64_t j = 0; j < 3; ++j) {
                for (std::int64_t h = 0; h < heads; ++h) {
                    const T *x = qkv + ((i * 3 + j) * heads + h) * hd;
                    T *o = out + j * plane + (h * n + i) * hd;
                    if (j == 2) {
                        std::memcpy(o, x, static_cast<std::size_t>(hd) * sizeof(T));
                        continue;
                    }
                    const float scale = j == 0 ? qScale : 1.0f;
                    for (std::int64_t d = 0; d < half; ++d) {
                        const float x1 = loadFloat(x + d), x2 = loadFloat(x + d + half);
                        storeValue(o + d, (x1 * c[d] - x2 * s[d]) * scale);
                        storeValue(o + d + half, (x2 * c[d + half] + x1 * s[d + half]) * scale);
                    }
                }
            }
        }
    });
}

} // namespace

void bf16RotaryToHeadMajor(const std::uint16_t *qkv, const float *cos, const float *sin, std::uint16_t *out, std::int64_t n, std::int64_t heads,
                           std::int64_t hd, float qScale)
{
    rotaryToHeadMajor(qkv, cos, sin, out, n, heads, hd, qScale);
}

void f32RotaryToHeadMajor(const float *qkv, const float *cos, const float *sin, float *out, std::int64_t n, std::int64_t heads, std::int64_t hd,
                          float qScale)
{
    rotaryToHeadMajor(qkv, cos, sin, out, n, heads, hd, qScale);
}

void bf16SoftmaxRows(std::uint16_t *x, std::int64_t rows, std::int64_t cols) { softmaxRows(x, rows, cols); }

void f32SoftmaxRows(float *x, std::int64_t rows, std::int64_t cols) { softmaxRows(x, rows, cols); }

void bf16SwiGlu(const std::uint16_t *gate, const std::uint16_t *up, std::uint16_t *out, std::int64_t n) { run<true>(gate, up, out, n, 1.0f); }

void bf16QuickGelu(const std::uint16_t *x, std::uint16_t *out, std::int64_t n) { run<false>(x, nullptr, out, n, 1.702f); }

} // namespace mpa::vlm::kernels

#pragma GCC diagnostic pop
