#pragma once
// The Qwen2-VL trainer entry point (registered in vlm/model_registry.cpp). Torch-free
// declaration: the returned interface is defined in pipeline/trainable_vlm.h.
#include "pipeline/trainable_vlm_fwd.h"

#include <QString>

#include <memory>

namespace mpa::vlm {

std::unique_ptr<pipeline::TrainableVlm> openQwen2VLTrainable(const QString &baseDir, const QString &weightsDir,
                                                             const pipeline::TrainableOptions &options);

} // namespace mpa::vlm
