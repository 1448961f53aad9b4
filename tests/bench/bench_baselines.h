#pragma once
// The same-run baselines every torch benchmark reports against: a timer, the matmul peak and
// the read bandwidth of this machine at this moment (shared machines drift between runs).
#include <torch/torch.h>

#include <QElapsedTimer>
#include <functional>

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

// GFLOP/s of a 2048^3 matmul in `dtype`.
inline double matmulPeak(torch::ScalarType dtype = torch::kFloat32)
{
    const std::int64_t n = 2048;
    auto a = torch::randn({n, n}).to(dtype), b = torch::randn({n, n}).to(dtype), c = torch::empty({n, n}, dtype);
    return 2.0 * n * n * n / seconds([&] { torch::matmul_out(c, a, b); }, 5) / 1e9;
}

// GB/s of summing 1 GiB of float32.
inline double readBandwidth()
{
    auto t = torch::ones({256 * 1024 * 1024}, torch::kFloat32);
    return t.numel() * 4.0 / seconds([&] { (void)t.sum().item<float>(); }, 5) / 1e9;
}

} // namespace mpa::bench
