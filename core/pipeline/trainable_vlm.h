#pragma once
// What the Parity Leveler needs from an architecture, and nothing more: its parameters by name
// with the part they belong to, its own preprocessing of a training pair, the loss of a
// micro-batch, LoRA adapters on the weights it names, and writing a complete model folder.
// Qwen2-VL implements it in vlm/qwen2vl/qwen2vl_trainable.cpp; the next families (Qwen2.5-VL,
// SmolVLM) implement it beside their runtime and register it in vlm/model_registry.cpp, and the
// training loop (parity_leveler.cpp) does not change. INTERNAL (torch).
#include "pipeline/training_data.h"

#include <QStringList>

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace mpa::pipeline {

// The parts MPA's recipe gives their own learning rate or freezes.
enum class ModelPart { Vision, Connector, Llm };

struct NamedParameter
{
    std::string name;
    torch::Tensor *tensor;
    ModelPart part;
};

struct LoraSpec
{
    int rank = 8;
    double alpha = 16;
    double dropout = 0.05;
    QStringList targets; // module names: q_proj, k_proj, ...
    std::uint64_t seed = 0;
    std::vector<ModelPart> frozen; // no adapters on these parts
};

struct TrainableOptions
{
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32;
    std::int64_t minPixels = 0; // 0: the model's preprocessor_config.json
    std::int64_t maxPixels = 0;
};

class TrainableVlm
{
public:
    virtual ~TrainableVlm() = default;

    // Every weight of the model (for full fine-tuning), in a stable order.
    virtual std::vector<NamedParameter> parameters() = 0;
    // Adds LoRA adapters to the target weights; returns the adapters' own parameters
    // ("<weight>.lora_A", "<weight>.lora_B"). Throws when no weight matches.
    virtual std::vector<NamedParameter> attachLora(const LoraSpec &spec) = 0;
    // This architecture's prompt, image processing and answer-only labels for one pair.
    virtual TrainingExample example(const TrainingSample &sample) const = 0;
    // Mean causal-LM loss over the answer tokens of a micro-batch; adds its sequence tokens
    // (padding excluded) to *tokens.
    virtual torch::Tensor loss(const std::vector<const TrainingExample *> &batch, std::int64_t *tokens) = 0;
    virtual void setTraining(bool training) = 0;
    virtual void setGradientCheckpointing(bool on) = 0;
    // A complete model folder (config with torch_dtype, weights with any adapters merged,
    // tokenizer, templates and processor configs) that transformers, vLLM and MPA Studio load.
    virtual void saveModelFolder(const QString &dir) const = 0;
};

// Opens `baseDir`'s architecture (config.json model_type) for training, with the weights of
// `weightsDir` (a checkpoint of the same model when resuming full fine-tuning).
std::unique_ptr<TrainableVlm> openTrainableVlm(const QString &baseDir, const QString &weightsDir, const TrainableOptions &options);

} // namespace mpa::pipeline
