#pragma once
// The Qwen2-VL family's entry points for the model registry (torch-free header).
#include "vlm/vlm_model.h"

namespace mpa::vlm {

std::unique_ptr<VisionLanguageModel> loadQwen2VL(const QString &dir, const ModelLoadOptions &options);
ModelInspection inspectQwen2VLFolder(const QString &dir);

} // namespace mpa::vlm
