// The one-row products of a decode step, each alone, against the read bandwidth measured in the
// same run: Qwen2-VL-2B's per-layer Linear shapes and its 151,936-row tied head, float32 and
// bfloat16, through ops::dense (the few-row kernels, few_row_kernels.h), and the same products
// through libtorch's matmul as the baseline. Each product cycles over enough distinct weight
// copies (at least 1 GiB) that every call reads its weights from memory, as a real decode does,
// not from the last-level cache.
// Each kernel line is printed for every software-prefetch setting, the CPU's default last.
// Usage: bench_decode_products [--reps N]
#include "backends/launch_environment.h"
#include "backends/torch_runtime.h"
#include "bench_baselines.h"
#include "vlm/tensor_ops.h"

#include <cstdio>
#include <cstring>

using namespace mpa;

namespace {

struct Shape
{
    const char *name;
    std::int64_t in, out;
};

struct Rate
{
    double gbs = 0, ofBandwidth = 0; // medians over the reps
};

// y = x W^T for one activation row, cycling over distinct copies of W (1 GiB in all), each rep
// followed by a sample of the read bandwidth: the fraction is the median of per-rep ratios, so
// a neighbour taking the memory bus for a while moves both sides of a ratio together.
Rate rate(const std::vector<torch::Tensor> &weights, const torch::Tensor &x, bool viaTorch, int reps, const torch::Tensor &bandwidthProbe)
{
    const double bytes = static_cast<double>(weights.front().numel() * weights.front().element_size()) * static_cast<double>(weights.size());
    auto pass = [&] {
        for (const auto &w : weights)
            (void)(viaTorch ? torch::matmul(x, w.t()) : vlm::ops::dense(x, w));
    };
    pass();
    std::vector<double> gbs, fractions;
    for (int r = 0; r < reps; ++r) {
        const double product = bytes / bench::seconds(pass, 1) / 1e9;
        gbs.push_back(product);
        fractions.push_back(product / bench::readBandwidthSample(bandwidthProbe));
    }
    return {bench::median(gbs), bench::median(fractions)};
}

} // namespace

int main(int argc, char **argv)
{
    bool raw = false;
    int reps = 7;
    for (int i = 1; i < argc; ++i) {
        raw = raw || std::strcmp(argv[i], "--no-launch-env") == 0;
        if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = std::atoi(argv[++i]);
    }
    if (!raw)
        backends::ensureLaunchEnvironment(argc, argv);
    backends::initialiseTorchThreads();
    torch::NoGradGuard noGrad;
    std::printf("%s\n", qPrintable(bench::describeProductPaths()));
    const auto probe = torch::ones({256 * 1024 * 1024}, torch::kFloat32); // 1 GiB, summed after every rep
    const Shape shapes[] = {{"q/o_proj", 1536, 1536}, {"k/v_proj", 1536, 256}, {"gate/up_proj", 1536, 8960},
                            {"down_proj", 8960, 1536}, {"lm_head", 1536, 151936}};
    const std::string defaultPrefetch = vlm::kernels::fewRowPrefetch();
    for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
        const char *dn = dtype == torch::kBFloat16 ? "bf16" : "f32";
        for (const Shape &s : shapes) {
            const std::int64_t bytes = s.in * s.out * (dtype == torch::kBFloat16 ? 2 : 4);
            const auto copies = static_cast<std::size_t>(std::max<std::int64_t>(1, (std::int64_t(1) << 30) / bytes));
            std::vector<torch::Tensor> weights;
            for (std::size_t i = 0; i < copies; ++i)
                weights.push_back(torch::randn({s.out, s.in}).to(dtype));
            const auto x = torch::randn({1, s.in}).to(dtype);
            const Rate viaTorch = rate(weights, x, true, reps, probe);
            // Every prefetch setting, the default last (its line carries the tag).
            for (const char *pf : {"l1-1k", "l2-2k", "none", defaultPrefetch.c_str()}) {
                const bool isDefault = pf == defaultPrefetch.c_str();
                if (!isDefault && defaultPrefetch == pf)
                    continue;
                vlm::kernels::useFewRowPrefetch(pf);
                const Rate ours = rate(weights, x, false, reps, probe);
                std::printf("%-4s %-13s [%6lld x %5lld] prefetch %-5s%s: %5.1f GB/s = %3.0f%% of the read bandwidth; libtorch %5.1f GB/s = %3.0f%% (%.2fx)", dn,
                            s.name, static_cast<long long>(s.out), static_cast<long long>(s.in), pf, isDefault ? " (default)" : "", ours.gbs,
                            100 * ours.ofBandwidth, viaTorch.gbs, 100 * viaTorch.ofBandwidth, ours.ofBandwidth / viaTorch.ofBandwidth);
                if (isDefault)
                    std::printf(" [%s_%s %.6f]", dn, s.name, bytes / ours.gbs / 1e9);
                std::printf("\n");
            }
        }
    }
    return 0;
}
