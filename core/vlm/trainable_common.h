#pragma once
// What every architecture's pipeline::TrainableVlm shares (INTERNAL, torch): LoRA adapters on
// the target weights, the right-padded micro-batch of Qwen2-VL-Finetune's collator, and the
// side files of a complete model folder.
#include "pipeline/trainable_vlm.h"
#include "vlm/model_parameters.h"
#include "vlm/safetensors.h"

#include <QString>

namespace mpa::vlm {

// Adapters (A ~ N(0, 1/in), B = 0) on every 2-D weight whose module is one of spec.targets,
// outside spec.frozen parts and the embeddings; returns their parameters
// ("<weight>.lora_A/B"). Throws when no weight matches.
std::vector<pipeline::NamedParameter> attachLoraAdapters(ParameterMap &parameters, LoraMap &lora, const pipeline::LoraSpec &spec,
                                                         pipeline::ModelPart (*partOf)(const std::string &name));

struct PaddedBatch
{
    torch::Tensor ids, labels, mask; // [B, L]; labels -100 and mask 0 on the padding
    std::vector<float> pixels;       // the examples' pixels, in order
    std::int64_t rows = 0;           // pixel rows (Qwen2-VL patches, Idefics3 tiles)
    std::int64_t tokens = 0;         // real tokens (padding excluded)
};
PaddedBatch rightPadded(const std::vector<const pipeline::TrainingExample *> &batch, std::int64_t pad);

// Every weight with the part it belongs to, in the map's (stable) order.
std::vector<pipeline::NamedParameter> namedParameters(ParameterMap &parameters, pipeline::ModelPart (*partOf)(const std::string &name));

// The trained weights into `dir`: as they are, or, with LoRA, the base weights with the
// adapters folded in (what transformers and vLLM load). Model is any native model class.
template<typename Model, typename Config>
void saveTrainedWeights(const Model &trained, const Config &config, const QString &baseDir, torch::ScalarType dtype, const QString &dir)
{
    if (trained.loraAdapters().empty()) {
        trained.save(dir);
        return;
    }
    Model merged(config, Checkpoint::openFolder(baseDir), torch::kCPU, dtype);
    for (const auto &[name, a] : trained.loraAdapters())
        merged.loraAdapters()[name] = LoraAdapter{a.a.detach().to(torch::kCPU), a.b.detach().to(torch::kCPU), a.scale, 0.0};
    merged.mergeLora();
    merged.save(dir);
}

// config.json (with torch_dtype) and the tokenizer, template and processor files of
// `baseDir` into `dir`; the weights are the caller's.
void writeModelFolderFiles(const QString &baseDir, const QString &dir, torch::ScalarType dtype);

} // namespace mpa::vlm
