#include "vlm/activation_kernels.h"

#include "vlm/bf16_bits.h"
#include "vlm/few_row_kernels.h"

#include <ATen/Parallel.h>
// GCC 12's AVX-512 headers trip its own -Wuninitialized (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstring>

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

} // namespace

void bf16SwiGlu(const std::uint16_t *gate, const std::uint16_t *up, std::uint16_t *out, std::int64_t n) { run<true>(gate, up, out, n, 1.0f); }

void bf16QuickGelu(const std::uint16_t *x, std::uint16_t *out, std::int64_t n) { run<false>(x, nullptr, out, n, 1.702f); }

} // namespace mpa::vlm::kernels

#pragma GCC diagnostic pop
