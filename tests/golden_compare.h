#pragma once
// The golden tests' comparison (torch): max |actual - ref| / max |ref|, over the selected
// elements when a mask is given, as the fixtures' READMEs define their tolerances.
#include <torch/torch.h>

namespace mpa::test {

inline double relativeError(const torch::Tensor &actual, const torch::Tensor &ref, const torch::Tensor &select = {})
{
    auto a = actual.to(torch::kFloat64), r = ref.to(torch::kFloat64);
    auto diff = (a - r).abs();
    if (select.defined()) {
        diff = diff.masked_select(select);
        r = r.masked_select(select);
    }
    return diff.max().item<double>() / r.abs().max().item<double>();
}

} // namespace mpa::test
