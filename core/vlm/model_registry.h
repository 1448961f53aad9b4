#pragma once
// The architectures MPA Studio runs natively, by config.json model_type. Adding one (e.g.
// SmolVLM / Idefics3) is a folder beside vlm/qwen2vl/ with its runtime (a VisionLanguageModel
// implementation, a loader, a folder inspector and its pipeline::TrainableVlm) and one entry in
// architectures().
#include "pipeline/trainable_vlm_fwd.h"
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
    // The Parity Leveler's view of the architecture (pipeline/trainable_vlm.h); a plain function
    // pointer so that this torch-free header never needs the interface's definition.
    std::unique_ptr<pipeline::TrainableVlm> (*train)(const QString &baseDir, const QString &weightsDir, const pipeline::TrainableOptions &options) = nullptr;
};

const std::vector<Architecture> &architectures();
// The entry for a folder's model_type, or a clear error naming it and the supported ones.
const Architecture &architectureForFolder(const QString &dir);

} // namespace mpa::vlm
