#pragma once
// The same-run baselines every torch benchmark reports against: a timer, the matmul peak and
// the read bandwidth of this machine at this moment (shared machines drift between runs).
#include <torch/torch.h>

#include "vlm/few_row_kernels.h"
#include "vlm/onednn_matmul.h"

#include <QElapsedTimer>
#include <QFile>
#include <QString>
#include <algorithm>
#include <functional>
#include <vector>

namespace mpa::bench {

// Seconds per call of f, after one warm-up call.
inline double seconds(const std::function<void()> &f, int reps)
{
    f();
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < reps; ++i)
        f();
    return t.nsecsElapsed() / 1e9 / reps;
}

inline double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The median seconds of `reps` calls of f after one warm-up call (robust to the other tenants
// of a shared machine taking a core for one call).
inline double medianSeconds(const std::function<void()> &f, int reps)
{
    f();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        QElapsedTimer timer;
        timer.start();
        f();
        t.push_back(timer.nsecsElapsed() / 1e9);
    }
    return median(t);
}

// Which code multiplies what, printed above every table: OpenBLAS's kernel for float32 GEMMs,
// oneDNN (AMX or AVX512-BF16 where the CPU has them) for bfloat16, the few-row decode kernels'
// instruction set, and the launch environment's settings.
inline QString describeProductPaths()
{
    QFile cpuinfo(QStringLiteral("/proc/cpuinfo"));
    QByteArray flags;
    if (cpuinfo.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : cpuinfo.readAll().split('\n'))
            if (line.startsWith("flags")) {
                flags = " " + line.mid(line.indexOf(':') + 1) + " ";
                break;
            }
    }
    auto has = [&](const char *f) { return flags.contains(QByteArray(QByteArray(" ") + f + " ")); };
    auto env = [](const char *v) { return qEnvironmentVariableIsSet(v) ? qEnvironmentVariable(v) : QStringLiteral("(unset)"); };
    const QString openblas = qEnvironmentVariableIsSet("OPENBLAS_CORETYPE") ? qEnvironmentVariable("OPENBLAS_CORETYPE") : QStringLiteral("as detected");
    const QString bf16Isa = has("amx_bf16") ? QStringLiteral("AMX-BF16") : has("avx512_bf16") ? QStringLiteral("AVX512-BF16") : QStringLiteral("no bf16 instructions");
    const QString gemms = vlm::kernels::onednnMatmulEnabled()
                              ? QStringLiteral("many-row products (prefill, vision, attention): oneDNN called directly (f32 %1, bf16 %2)")
                                    .arg(QString::fromLatin1(vlm::kernels::onednnMatmulImplementation(vlm::kernels::GemmDtype::Float32)),
                                         QString::fromLatin1(vlm::kernels::onednnMatmulImplementation(vlm::kernels::GemmDtype::BFloat16)))
                              : QStringLiteral("many-row products through libtorch (float32: OpenBLAS core %1; bfloat16: oneDNN via ideep, %2)").arg(openblas, bf16Isa);
    return QStringLiteral("%1; one-row decode products: %2 kernels; OpenBLAS core %3; OMP_WAIT_POLICY=%4 OPENBLAS_THREAD_TIMEOUT=%5 GLIBC_TUNABLES=%6")
        .arg(gemms, QString::fromLatin1(vlm::kernels::fewRowKernelIsa()) + QStringLiteral(" (prefetch %1)").arg(QString::fromLatin1(vlm::kernels::fewRowPrefetch())), openblas, env("OMP_WAIT_POLICY"), env("OPENBLAS_THREAD_TIMEOUT"),
             env("GLIBC_TUNABLES"));
}

// GFLOP/s of a 2048^3 matmul in `dtype`.
inline double matmulPeak(torch::ScalarType dtype = torch::kFloat32)
{
    const std::int64_t n = 2048;
    auto a = torch::randn({n, n}).to(dtype), b = torch::randn({n, n}).to(dtype), c = torch::empty({n, n}, dtype);
    const double flops = 2.0 * n * n * n;
    double best = flops / seconds([&] { torch::matmul_out(c, a, b); }, 5) / 1e9;
    // The peak is the faster of the two GEMMs this build can call, so that a percentage of it
    // is not flattered by the slower one.
    const auto gemmDtype = dtype == torch::kBFloat16 ? vlm::kernels::GemmDtype::BFloat16 : vlm::kernels::GemmDtype::Float32;
    if (vlm::kernels::onednnMatmulEnabled() && (dtype == torch::kFloat32 || dtype == torch::kBFloat16))
        best = std::max(best, flops / seconds([&] { vlm::kernels::onednnLinear(gemmDtype, a.data_ptr(), n, b.data_ptr(), nullptr, c.data_ptr(), n, n, n); }, 5) / 1e9);
    return best;
}

// GB/s of one sum over `probe` (float32): the sample benchmarks take right after each rep, so a
// neighbour's use of the memory bus moves both sides of a ratio together.
inline double readBandwidthSample(const torch::Tensor &probe)
{
    return static_cast<double>(probe.numel()) * 4.0 / seconds([&] { (void)probe.sum().item<float>(); }, 1) / 1e9;
}

// GB/s of summing 1 GiB of float32.
inline double readBandwidth()
{
    auto t = torch::ones({256 * 1024 * 1024}, torch::kFloat32);
    return t.numel() * 4.0 / seconds([&] { (void)t.sum().item<float>(); }, 5) / 1e9;
}

} // namespace mpa::bench
