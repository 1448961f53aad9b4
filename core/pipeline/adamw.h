#pragma once
// AdamW exactly as torch.optim.AdamW computes it (decoupled weight decay first, then the
// bias-corrected update with denom = sqrt(v) / sqrt(1 - beta2^t) + eps). Written out instead of
// using torch::optim::AdamW so that its state (m, v, step) is plain tensors we can checkpoint
// and restore by parameter name. INTERNAL (torch).
#include <torch/torch.h>

namespace mpa::pipeline {

inline void adamwStep(torch::Tensor &param, const torch::Tensor &grad, torch::Tensor &expAvg, torch::Tensor &expAvgSq, std::int64_t step,
                      double lr, double beta1, double beta2, double eps, double weightDecay)
{
    torch::NoGradGuard noGrad;
    param.mul_(1.0 - lr * weightDecay);
    expAvg.mul_(beta1).add_(grad, 1.0 - beta1);
    expAvgSq.mul_(beta2).addcmul_(grad, grad, 1.0 - beta2);
    const double biasCorrection1 = 1.0 - std::pow(beta1, static_cast<double>(step));
    const double biasCorrection2 = 1.0 - std::pow(beta2, static_cast<double>(step));
    const double stepSize = lr / biasCorrection1;
    auto denom = (expAvgSq.sqrt() / std::sqrt(biasCorrection2)).add_(eps);
    param.addcdiv_(expAvg, denom, -stepSize);
}

} // namespace mpa::pipeline
