#include "pipeline/leveler_optimizer.h"

#include "pipeline/adamw.h"
#include "util/error.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/safetensors.h"

#include <cmath>

namespace mpa::pipeline {

Precision Precision::parse(const QString &dtype)
{
    Precision p;
    const bool pure = dtype.endsWith(QLatin1String("-pure"));
    p.compute = vlm::parseDtype(pure ? dtype.chopped(5) : dtype);
    p.mixed = !pure && p.compute != torch::kFloat32;
    p.lossScaling = p.mixed && p.compute == torch::kFloat16;
    if (pure && p.compute != torch::kBFloat16)
        throw Error(QStringLiteral("unknown dtype \"%1\" (f32, bf16, f16, bf16-pure)").arg(dtype));
    return p;
}

double cosineWithWarmup(std::int64_t step, std::int64_t warmup, std::int64_t total)
{
    if (step < warmup)
        return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
    const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<std::int64_t>(1, total - warmup));
    return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
}

LevelerOptimizer::LevelerOptimizer(const Precision &precision, const AdamWSettings &settings)
    : m_precision(precision)
    , m_settings(settings)
    // float16 only: dynamic loss scaling with torch.cuda.amp.GradScaler's defaults.
    , m_lossScale(precision.lossScaling ? 65536.0 : 1.0)
{
}

void LevelerOptimizer::add(const NamedParameter &p, double lr)
{
    const torch::Tensor &t = *p.tensor;
    // The moments are float32 unless the user chose pure bfloat16.
    const torch::ScalarType stateType = m_precision.mixed || t.scalar_type() == torch::kFloat32 ? torch::kFloat32 : t.scalar_type();
    Slot s{p, lr, torch::zeros(t.sizes(), t.options().dtype(stateType)), torch::zeros(t.sizes(), t.options().dtype(stateType)), {}};
    if (m_precision.mixed)
        s.master = t.detach().to(torch::kFloat32).clone();
    m_params.push_back(std::move(s));
}

LevelerOptimizer::StepResult LevelerOptimizer::step(std::int64_t step, double lrFactor)
{
    // Global gradient norm (torch.nn.utils.clip_grad_norm_), in float64 over the unscaled
    // gradients.
    double norm2 = 0;
    for (const Slot &s : m_params)
        if (s.param.tensor->grad().defined())
            norm2 += s.param.tensor->grad().to(torch::kFloat64).pow(2).sum().item<double>();
    StepResult r;
    r.gradNorm = std::sqrt(norm2) / m_lossScale;
    r.skipped = !std::isfinite(r.gradNorm);
    const double maxNorm = m_settings.maxGradNorm;
    const double clip = (maxNorm > 0 && r.gradNorm > maxNorm) ? maxNorm / (r.gradNorm + 1e-6) : 1.0;
    const AdamWSettings &a = m_settings;
    for (Slot &s : m_params) {
        torch::Tensor &param = *s.param.tensor;
        if (!param.grad().defined())
            continue;
        if (!r.skipped) {
            torch::NoGradGuard noGrad;
            if (s.master.defined()) {
                // Mixed precision: AdamW on the float32 master, then round into the 16-bit
                // weight the next forward uses.
                auto g = param.grad().to(torch::kFloat32) * (clip / m_lossScale);
                adamwStep(s.master, g, s.expAvg, s.expAvgSq, step, s.lr * lrFactor, a.beta1, a.beta2, a.eps, a.weightDecay);
                param.copy_(s.master);
            } else {
                auto g = param.grad() * clip;
                adamwStep(param, g, s.expAvg, s.expAvgSq, step, s.lr * lrFactor, a.beta1, a.beta2, a.eps, a.weightDecay);
            }
        }
        param.mutable_grad() = torch::Tensor();
    }
    if (m_precision.lossScaling) {
        // An overflowing step is skipped and the scale halved; 2000 good steps double it.
        if (r.skipped) {
            m_lossScale = std::max(1.0, m_lossScale / 2);
            m_goodSteps = 0;
        } else if (++m_goodSteps == 2000) {
            m_lossScale *= 2;
            m_goodSteps = 0;
        }
    }
    return r;
}

std::vector<vlm::TensorToWrite> LevelerOptimizer::state(std::vector<torch::Tensor> &keep, bool withValues) const
{
    std::vector<vlm::TensorToWrite> out;
    auto put = [&](const QString &name, const torch::Tensor &t) {
        auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
        keep.push_back(c);
        out.push_back({name, vlm::DType::F32, c.sizes().vec(), c.data_ptr()});
    };
    for (const Slot &s : m_params) {
        const QString n = QString::fromStdString(s.param.name);
        put(n + QStringLiteral(".exp_avg"), s.expAvg);
        put(n + QStringLiteral(".exp_avg_sq"), s.expAvgSq);
        if (withValues)
            put(n + QStringLiteral(".value"), s.master.defined() ? s.master : *s.param.tensor);
        if (s.master.defined())
            put(n + QStringLiteral(".master"), s.master);
    }
    return out;
}

void LevelerOptimizer::restore(const vlm::SafetensorsFile &state, bool withValues, const QString &where)
{
    torch::NoGradGuard noGrad;
    for (Slot &s : m_params) {
        const QString n = QString::fromStdString(s.param.name);
        torch::Tensor &param = *s.param.tensor;
        s.expAvg = vlm::tensorFromFile(state, n + QStringLiteral(".exp_avg")).to(param.device(), s.expAvg.scalar_type());
        s.expAvgSq = vlm::tensorFromFile(state, n + QStringLiteral(".exp_avg_sq")).to(param.device(), s.expAvgSq.scalar_type());
        if (withValues)
            param.copy_(vlm::tensorFromFile(state, n + QStringLiteral(".value")));
        // The float32 master weights: the 16-bit checkpoint is only their rounding, so
        // resuming from it alone would not continue the same run.
        if (s.master.defined()) {
            if (!state.find(n + QStringLiteral(".master")))
                throw Error(QStringLiteral("%1: the checkpoint has no float32 master weights for %2 (written by a pure-precision run?)").arg(where, n));
            s.master = vlm::tensorFromFile(state, n + QStringLiteral(".master")).to(param.device(), torch::kFloat32).clone();
            param.copy_(s.master);
        }
    }
}

} // namespace mpa::pipeline
