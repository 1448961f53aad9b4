#pragma once
// Idefics3 (SmolVLM) as a pipeline::TrainableVlm (torch-free header).
#include "pipeline/trainable_vlm_fwd.h"

#include <QString>
#include <memory>

namespace mpa::vlm {

std::unique_ptr<pipeline::TrainableVlm> openIdefics3Trainable(const QString &baseDir, const QString &weightsDir, const pipeline::TrainableOptions &options);

} // namespace mpa::vlm
