#include "vlm/few_row_kernels.h"

#include "vlm/bf16_bits.h"

#include <ATen/Parallel.h>
// GCC 12's AVX-512 headers trip its own -Wuninitialized (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

namespace mpa::vlm::kernels {

namespace {

float toFloat(float v) { return v; }
float toFloat(std::uint16_t v) { return bf16ToFloat(v); }
void store(float *y, float v) { *y = v; }
void store(std::uint16_t *y, float v) { *y = floatToBf16(v); }

// Products with fewer weight bytes run on the calling thread (fewRowLinear).
constexpr std::int64_t kSingleThreadBytes = 2 << 20;

// Weight rows handled together: their loads share each activation load.
constexpr int kRowsAtOnce = 4;
// Software prefetch on the weight streams, chosen per CPU vendor (detectPrefetch() below),
// because the two kinds of build machine disagree:
// - 2-core Intel Xeon VM (Sapphire Rapids): the hardware prefetcher alone left one core's stream
//   at about 11 GB/s (bf16 lm_head: 22 GB/s of 29); into L1 1 KiB ahead gave 33 GB/s, 4 KiB 29,
//   8 KiB 26.
// - 2-core AMD EPYC VM (Zen 4), interleaved medians against torch's own 1 GiB sum in the same
//   run: that L1 prefetch cost 20-25 % (bf16 lm_head 21.6 against 26.5 GB/s without), into L2
//   2 KiB ahead was the best (28-31.6 GB/s, level with the sum).
enum class Prefetch { L1Near, L2Far, None };

template <Prefetch P>
inline void prefetchWeights(const void *line)
{
    if constexpr (P == Prefetch::L1Near)
        _mm_prefetch(static_cast<const char *>(line) + 1024, _MM_HINT_T0);
    else if constexpr (P == Prefetch::L2Far)
        _mm_prefetch(static_cast<const char *>(line) + 2048, _MM_HINT_T1);
}

template <typename T>
void portableRange(const float *xf, const T *w, const T *bias, T *y, std::int64_t rows, std::int64_t in, std::int64_t out, std::int64_t o0,
                   std::int64_t o1)
{
    for (std::int64_t o = o0; o < o1; ++o) {
        const T *wr = w + o * in;
        for (std::int64_t r = 0; r < rows; ++r) {
            const float *xr = xf + r * in;
            float acc = 0;
            for (std::int64_t i = 0; i < in; ++i)
                acc += xr[i] * toFloat(wr[i]);
            store(y + r * out + o, acc + (bias ? toFloat(bias[o]) : 0.0f));
        }
    }
}

// ---- AVX2 + FMA: 8 lanes; bf16 widened by a 16-bit shift ----

__attribute__((target("avx2,fma"))) inline __m256 load8(const float *p) { return _mm256_loadu_ps(p); }
__attribute__((target("avx2,fma"))) inline __m256 load8(const std::uint16_t *p)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))), 16));
}
__attribute__((target("avx2,fma"))) inline float sum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

template <Prefetch P, int R, int J, typename T>
__attribute__((target("avx2,fma"))) void avx2Block(const float *xf, const T *w, const T *bias, T *y, std::int64_t in, std::int64_t out,
                                                   std::int64_t o)
{
    __m256 acc[J][R];
    for (int j = 0; j < J; ++j)
        for (int r = 0; r < R; ++r)
            acc[j][r] = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 8 <= in; i += 8) {
        __m256 xv[R];
        for (int r = 0; r < R; ++r)
            xv[r] = _mm256_loadu_ps(xf + r * in + i);
        for (int j = 0; j < J; ++j) {
            prefetchWeights<P>(w + (o + j) * in + i);
            const __m256 wv = load8(w + (o + j) * in + i);
            for (int r = 0; r < R; ++r)
                acc[j][r] = _mm256_fmadd_ps(wv, xv[r], acc[j][r]);
        }
    }
    for (int j = 0; j < J; ++j)
        for (int r = 0; r < R; ++r) {
            float s = sum8(acc[j][r]);
            for (std::int64_t t = i; t < in; ++t)
                s += xf[r * in + t] * toFloat(w[(o + j) * in + t]);
            store(y + r * out + o + j, s + (bias ? toFloat(bias[o + j]) : 0.0f));
        }
}

// ---- AVX-512F: 16 lanes, masked tails ----

__attribute__((target("avx512f,avx512bw,avx512vl"))) inline __m512 load16(const float *p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline __m512 load16(const std::uint16_t *p, __mmask16 m)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

template <Prefetch P, int R, int J, typename T>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void avx512Block(const float *xf, const T *w, const T *bias, T *y, std::int64_t in,
                                                             std::int64_t out, std::int64_t o)
{
    __m512 acc[J][R];
    for (int j = 0; j < J; ++j)
        for (int r = 0; r < R; ++r)
            acc[j][r] = _mm512_setzero_ps();
    for (std::int64_t i = 0; i < in; i += 16) {
        const __mmask16 m = in - i >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (in - i)) - 1);
        __m512 xv[R];
        for (int r = 0; r < R; ++r)
            xv[r] = _mm512_maskz_loadu_ps(m, xf + r * in + i);
        for (int j = 0; j < J; ++j) {
            prefetchWeights<P>(w + (o + j) * in + i);
            const __m512 wv = load16(w + (o + j) * in + i, m);
            for (int r = 0; r < R; ++r)
                acc[j][r] = _mm512_fmadd_ps(wv, xv[r], acc[j][r]);
        }
    }
    for (int j = 0; j < J; ++j)
        for (int r = 0; r < R; ++r)
            store(y + r * out + o + j, _mm512_reduce_add_ps(acc[j][r]) + (bias ? toFloat(bias[o + j]) : 0.0f));
}

// One activation row, one weight row at a time, read strictly in order: a single stream per
// thread is what both machines' prefetchers follow best (four interleaved rows, as avx512Block
// reads them, ran at 22 GB/s against 31-35 for one at a time on the AMD VM, float32 lm_head).
// Four accumulators cover the FMA latency.
template <Prefetch P>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void f32DotRow(const float *x, const float *w, const float *bias, float *y, std::int64_t in,
                                                                   std::int64_t o)
{
    const float *wr = w + o * in;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    std::int64_t i = 0;
    for (; i + 64 <= in; i += 64) {
        prefetchWeights<P>(wr + i);
        prefetchWeights<P>(wr + i + 16);
        prefetchWeights<P>(wr + i + 32);
        prefetchWeights<P>(wr + i + 48);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i), _mm512_loadu_ps(x + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i + 16), _mm512_loadu_ps(x + i + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i + 32), _mm512_loadu_ps(x + i + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i + 48), _mm512_loadu_ps(x + i + 48), a3);
    }
    for (; i < in; i += 16) {
        const __mmask16 m = in - i >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (in - i)) - 1);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, wr + i), _mm512_maskz_loadu_ps(m, x + i), a0);
    }
    y[o] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))) + (bias ? bias[o] : 0.0f);
}

// ---- AVX512-BF16: vdpbf16ps, 32 bf16 pairs per instruction, activations stay bf16 ----

// One activation row, as f32DotRow.
template <Prefetch P>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void bf16DotRow(const std::uint16_t *x, const std::uint16_t *w,
                                                                                const std::uint16_t *bias, std::uint16_t *y,
                                                                                std::int64_t in, std::int64_t o)
{
    const std::uint16_t *wr = w + o * in;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    std::int64_t i = 0;
    for (; i + 128 <= in; i += 128) {
        prefetchWeights<P>(wr + i);
        prefetchWeights<P>(wr + i + 32);
        prefetchWeights<P>(wr + i + 64);
        prefetchWeights<P>(wr + i + 96);
        a0 = _mm512_dpbf16_ps(a0, reinterpret_cast<__m512bh>(_mm512_loadu_si512(wr + i)), reinterpret_cast<__m512bh>(_mm512_loadu_si512(x + i)));
        a1 = _mm512_dpbf16_ps(a1, reinterpret_cast<__m512bh>(_mm512_loadu_si512(wr + i + 32)), reinterpret_cast<__m512bh>(_mm512_loadu_si512(x + i + 32)));
        a2 = _mm512_dpbf16_ps(a2, reinterpret_cast<__m512bh>(_mm512_loadu_si512(wr + i + 64)), reinterpret_cast<__m512bh>(_mm512_loadu_si512(x + i + 64)));
        a3 = _mm512_dpbf16_ps(a3, reinterpret_cast<__m512bh>(_mm512_loadu_si512(wr + i + 96)), reinterpret_cast<__m512bh>(_mm512_loadu_si512(x + i + 96)));
    }
    for (; i < in; i += 32) {
        const __mmask32 m = in - i >= 32 ? ~static_cast<__mmask32>(0) : static_cast<__mmask32>((1ull << (in - i)) - 1);
        a0 = _mm512_dpbf16_ps(a0, reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(m, wr + i)), reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(m, x + i)));
    }
    const float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    store(y + o, s + (bias ? bf16ToFloat(bias[o]) : 0.0f));
}

enum class Isa { Portable, Avx2, Avx512, Avx512Bf16 };

bool supported(Isa which)
{
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    switch (which) {
    case Isa::Avx512Bf16: return avx512 && __builtin_cpu_supports("avx512bf16");
    case Isa::Avx512: return avx512;
    case Isa::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::Portable: return true;
    }
    return false;
}

const char *isaName(Isa which)
{
    switch (which) {
    case Isa::Avx512Bf16: return "avx512-bf16";
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Portable: break;
    }
    return "portable";
}

bool isaNamed(const char *name, Isa *out)
{
    for (Isa i : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2, Isa::Portable}) {
        if (name && std::strcmp(name, isaName(i)) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

Isa detectIsa()
{
    Isa forced;
    if (isaNamed(std::getenv("MPA_FEW_ROW_ISA"), &forced) && supported(forced))
        return forced;
    for (Isa i : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2})
        if (supported(i))
            return i;
    return Isa::Portable;
}

std::atomic<Isa> &isaSetting()
{
    static std::atomic<Isa> chosen{detectIsa()};
    return chosen;
}

Isa isa() { return isaSetting().load(std::memory_order_relaxed); }

const char *prefetchName(Prefetch which)
{
    switch (which) {
    case Prefetch::L1Near: return "l1-1k";
    case Prefetch::L2Far: return "l2-2k";
    case Prefetch::None: break;
    }
    return "none";
}

bool prefetchNamed(const char *name, Prefetch *out)
{
    for (Prefetch p : {Prefetch::L1Near, Prefetch::L2Far, Prefetch::None}) {
        if (name && std::strcmp(name, prefetchName(p)) == 0) {
            *out = p;
            return true;
        }
    }
    return false;
}

// MPA_FEW_ROW_PREFETCH names one; otherwise what was measured best on each vendor's machines
// (see Prefetch). Other vendors keep the Intel setting, the one measured first.
Prefetch detectPrefetch()
{
    Prefetch forced;
    if (prefetchNamed(std::getenv("MPA_FEW_ROW_PREFETCH"), &forced))
        return forced;
    __builtin_cpu_init();
    return __builtin_cpu_is("amd") ? Prefetch::L2Far : Prefetch::L1Near;
}

std::atomic<Prefetch> &prefetchSetting()
{
    static std::atomic<Prefetch> chosen{detectPrefetch()};
    return chosen;
}

// Output rows [o0, o1): blocks of `step` weight rows, then one at a time.
template <typename BlockN, typename Block1>
void blocks(std::int64_t o0, std::int64_t o1, std::int64_t step, BlockN several, Block1 one)
{
    std::int64_t o = o0;
    for (; o + step <= o1; o += step)
        several(o);
    for (; o < o1; ++o)
        one(o);
}

template <Prefetch P, int R, typename T>
void simdRange(Isa chosen, const float *xf, const T *xRaw, const T *w, const T *bias, T *y, std::int64_t in, std::int64_t out, std::int64_t o0,
               std::int64_t o1)
{
    const bool avx512 = chosen == Isa::Avx512 || chosen == Isa::Avx512Bf16;
    if constexpr (R == 1) {
        if constexpr (std::is_same_v<T, std::uint16_t>) {
            if (chosen == Isa::Avx512Bf16) {
                for (std::int64_t o = o0; o < o1; ++o)
                    bf16DotRow<P>(xRaw, w, bias, y, in, o);
                return;
            }
        } else if (avx512) {
            for (std::int64_t o = o0; o < o1; ++o)
                f32DotRow<P>(xf, w, bias, y, in, o);
            return;
        }
    }
    if (avx512) {
        blocks(o0, o1, kRowsAtOnce, [&](std::int64_t o) { avx512Block<P, R, kRowsAtOnce>(xf, w, bias, y, in, out, o); },
                  [&](std::int64_t o) { avx512Block<P, R, 1>(xf, w, bias, y, in, out, o); });
    } else {
        // 16 ymm registers: fewer weight rows at once when there are more activation rows.
        constexpr int J = R <= 2 ? kRowsAtOnce : 2;
        blocks(o0, o1, J, [&](std::int64_t o) { avx2Block<P, R, J>(xf, w, bias, y, in, out, o); },
                  [&](std::int64_t o) { avx2Block<P, R, 1>(xf, w, bias, y, in, out, o); });
    }
}

template <Prefetch P, typename T>
void simdRangeForRows(Isa chosen, const float *xf, const T *xRaw, const T *w, const T *bias, T *y, std::int64_t rows, std::int64_t in, std::int64_t out,
                      std::int64_t o0, std::int64_t o1)
{
    switch (rows) {
    case 1: simdRange<P, 1>(chosen, xf, xRaw, w, bias, y, in, out, o0, o1); break;
    case 2: simdRange<P, 2>(chosen, xf, xRaw, w, bias, y, in, out, o0, o1); break;
    case 3: simdRange<P, 3>(chosen, xf, xRaw, w, bias, y, in, out, o0, o1); break;
    default: simdRange<P, 4>(chosen, xf, xRaw, w, bias, y, in, out, o0, o1); break;
    }
}

template <typename T>
void fewRowLinear(Isa chosen, const float *xf, const T *xRaw, const T *w, const T *bias, T *y, std::int64_t rows, std::int64_t in, std::int64_t out)
{
    // About 64 KiB of weights per task: enough to hide the hand-off, small enough to balance.
    const std::int64_t grain = std::max<std::int64_t>(kRowsAtOnce, (64 * 1024 / static_cast<std::int64_t>(sizeof(T))) / std::max<std::int64_t>(in, 1));
    const Prefetch prefetch = prefetchSetting().load(std::memory_order_relaxed);
    auto range = [&](std::int64_t o0, std::int64_t o1) {
        if (chosen == Isa::Portable) {
            portableRange(xf, w, bias, y, rows, in, out, o0, o1);
            return;
        }
        switch (prefetch) {
        case Prefetch::L1Near: simdRangeForRows<Prefetch::L1Near>(chosen, xf, xRaw, w, bias, y, rows, in, out, o0, o1); break;
        case Prefetch::L2Far: simdRangeForRows<Prefetch::L2Far>(chosen, xf, xRaw, w, bias, y, rows, in, out, o0, o1); break;
        case Prefetch::None: simdRangeForRows<Prefetch::None>(chosen, xf, xRaw, w, bias, y, rows, in, out, o0, o1); break;
        }
    };
    // A small product stays on the calling thread: under OMP_WAIT_POLICY=PASSIVE (the launch
    // environment) the other workers sleep between operations, and waking them cost more than
    // it saves below a few MB. SmolVLM-256M's decode (every layer product under 2 MB, 576 wide)
    // ran at 52-67 ms/token on 2 threads against 28 on one (bf16, AMD VM).
    if (out * in * static_cast<std::int64_t>(sizeof(T)) < kSingleThreadBytes) {
        range(0, out);
        return;
    }
    at::parallel_for(0, out, grain, range);
}

} // namespace

void bf16FewRowLinear(const std::uint16_t *x, const std::uint16_t *w, const std::uint16_t *bias, std::uint16_t *y, std::int64_t rows,
                      std::int64_t in, std::int64_t out)
{
    // The widening kernels multiply float activations: convert them once, not per weight row.
    // Only one row with AVX512-BF16 multiplies bf16 directly (more rows widen: see tensor_ops).
    const Isa chosen = isa();
    std::vector<float> widened;
    if (chosen != Isa::Avx512Bf16 || rows > 1) {
        widened.resize(static_cast<std::size_t>(rows * in));
        for (std::int64_t i = 0; i < rows * in; ++i)
            widened[static_cast<std::size_t>(i)] = bf16ToFloat(x[i]);
    }
    fewRowLinear<std::uint16_t>(chosen, widened.data(), x, w, bias, y, rows, in, out);
}

void f32FewRowLinear(const float *x, const float *w, const float *bias, float *y, std::int64_t rows, std::int64_t in, std::int64_t out)
{
    fewRowLinear<float>(isa(), x, x, w, bias, y, rows, in, out);
}

const char *fewRowKernelIsa() { return isaName(isa()); }

bool fewRowKernelsUseAvx512() { return isa() == Isa::Avx512 || isa() == Isa::Avx512Bf16; }

const char *fewRowPrefetch() { return prefetchName(prefetchSetting().load(std::memory_order_relaxed)); }

bool useFewRowPrefetch(const char *name)
{
    Prefetch which;
    if (!prefetchNamed(name, &which))
        return false;
    prefetchSetting().store(which);
    return true;
}

bool useFewRowKernelIsa(const char *name)
{
    Isa which;
    if (!isaNamed(name, &which) || !supported(which))
        return false;
    isaSetting().store(which);
    return true;
}

} // namespace mpa::vlm::kernels

#pragma GCC diagnostic pop
