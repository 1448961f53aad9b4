#pragma once
// The Parity Leveler's optimizer: AdamW exactly as torch.optim.AdamW (pipeline/adamw.h) per
// parameter with its own learning rate, HF's cosine schedule with warm-up, global-norm clipping,
// mixed precision (float32 master weights and moments behind 16-bit weights) and float16 loss
// scaling; its state saves to and restores from named float32 tensors. INTERNAL (torch).
#include "pipeline/trainable_vlm.h"

#include <QString>

namespace mpa::vlm {
class SafetensorsFile;
struct TensorToWrite;
} // namespace mpa::vlm

namespace mpa::pipeline {

// How the weights are held while training (see AlignParams::dtype).
struct Precision
{
    torch::ScalarType compute = torch::kFloat32;
    bool mixed = false;       // float32 master weights and moments
    bool lossScaling = false; // float16: gradients would underflow without it

    static Precision parse(const QString &dtype); // f32, bf16, f16, bf16-pure
};

// transformers' get_cosine_schedule_with_warmup at 0-based `step`.
double cosineWithWarmup(std::int64_t step, std::int64_t warmup, std::int64_t total);

struct AdamWSettings
{
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0, maxGradNorm = 1.0;
};

class LevelerOptimizer
{
public:
    LevelerOptimizer(const Precision &precision, const AdamWSettings &settings);

    void add(const NamedParameter &p, double lr);
    bool empty() const { return m_params.empty(); }

    // What the backward of a step must be multiplied by (1 unless float16 loss scaling).
    double lossScale() const { return m_lossScale; }
    struct StepResult
    {
        double gradNorm = 0; // of the unscaled gradients, before clipping
        bool skipped = false; // float16 overflow: nothing was updated
    };
    // Clips, updates every parameter that has a gradient at `lrFactor` times its learning rate
    // (1-based AdamW step `step`), clears the gradients.
    StepResult step(std::int64_t step, double lrFactor);

    // Moments (and masters, and the values of `withValues` parameters such as LoRA adapters)
    // as float32 CPU tensors named "<param>.exp_avg" etc. `keep` owns their memory.
    std::vector<vlm::TensorToWrite> state(std::vector<torch::Tensor> &keep, bool withValues) const;
    void restore(const vlm::SafetensorsFile &state, bool withValues, const QString &where);

private:
    struct Slot
    {
        NamedParameter param;
        double lr;
        torch::Tensor expAvg, expAvgSq;
        torch::Tensor master; // mixed precision only
    };
    Precision m_precision;
    AdamWSettings m_settings;
    std::vector<Slot> m_params;
    double m_lossScale;
    int m_goodSteps = 0;
};

} // namespace mpa::pipeline
