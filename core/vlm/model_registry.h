#pragma once
// The architectures MPA Studio runs natively, by config.json model_type. Adding one (e.g.
// SmolVLM / Idefics3) is a folder beside vlm/qwen2vl/ with its runtime (a VisionLanguageModel
// implementation, a loader and a folder inspector) and one entry in architectures().
#include "vlm/vlm_model.h"

#include <functional>
#include <vector>

namespace mpa::vlm {

struct Architecture
{
    QString modelType;   // config.json "model_type"
    QString description;
    std::function<std::unique_ptr<VisionLanguageModel>(const QString &dir, const ModelLoadOptions &options)> load;
    std::function<ModelInspection(const QString &dir)> inspect;
};

const std::vector<Architecture> &architectures();
// The entry for a folder's model_type, or a clear error naming it and the supported ones.
const Architecture &architectureForFolder(const QString &dir);

} // namespace mpa::vlm
