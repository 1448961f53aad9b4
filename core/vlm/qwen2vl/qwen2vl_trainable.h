#pragma once
// The Qwen2-VL trainer entry point (registered in vlm/model_registry.cpp). Torch-free
// declaration: the returned interface is defined in pipeline/trainable_vlm.h.
#include <QString>

#include <memory>

namespace mpa::pipeline {
class TrainableVlm;
struct TrainableOptions;
} // namespace mpa::pipeline

namespace mpa::vlm {

std::unique_ptr<pipeline::TrainableVlm> openQwen2VLTrainable(const QString &baseDir, const QString &weightsDir,
                                                             const pipeline::TrainableOptions &options);

} // namespace mpa::vlm
