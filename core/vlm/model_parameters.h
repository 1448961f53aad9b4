#pragma once
// What every native model does with its parameters, kept by checkpoint name (INTERNAL, torch):
// loading them after the weight check, random initialisation for tests and demo models,
// writing model.safetensors, and LoRA adapters (applied inside Linear, merged for saving).
#include "vlm/qwen2vl/qwen2vl_weights.h"

#include <torch/torch.h>

#include <QString>
#include <map>
#include <string>
#include <vector>

namespace mpa::vlm {

class Checkpoint;

// A LoRA adapter on one Linear weight: y += (alpha / rank) * B(A(dropout(x))).
struct LoraAdapter
{
    torch::Tensor a; // [rank, in]
    torch::Tensor b; // [out, rank], zero-initialised so training starts from the base model
    double scale = 1.0;
    double dropout = 0.0;
};

using ParameterMap = std::map<std::string, torch::Tensor>;
using LoraMap = std::map<std::string, LoraAdapter>;

// Where loaded weights live. Inference maps them: a tensor whose stored dtype is the one asked
// for on CPU is a view of the file's (copy-on-write) mapping, so the weights are in memory once,
// as page cache shared with other processes, instead of mapped and copied (peak RSS twice the
// weights). Trainers copy: they update every weight, and a private page per write costs more.
// A mapped model keeps its files mapped: a weight file truncated while it runs faults (as with
// llama.cpp's mmap); the project itself writes checkpoints atomically (new file + rename).
enum class WeightMemory { Copy, MapWhenPossible };

// Every tensor the report found, converted to device and dtype; a failed check is one error
// naming the file and listing every missing, mis-shaped and unexpected tensor.
ParameterMap loadParameters(const WeightReport &report, const Checkpoint &checkpoint, torch::Device device, torch::ScalarType dtype,
                            WeightMemory memory = WeightMemory::Copy);
// Norm weights 1, biases 0, every other tensor N(0, 1/fan_in), from `seed`.
ParameterMap randomParameters(const std::map<std::string, std::vector<std::int64_t>> &shapes, torch::Device device, torch::ScalarType dtype,
                              std::uint64_t seed);
// model.safetensors in `dir`, in the parameters' dtype.
void saveParameters(const ParameterMap &parameters, const QString &dir);

// `name`, or for "lm_head.weight" of a tied head the token embedding `embedding`.
const torch::Tensor &parameterOrTiedHead(const ParameterMap &parameters, const std::string &name, const std::string &embedding);

QString torchDtypeLabel(torch::ScalarType dtype); // config.json's torch_dtype: "float32", "bfloat16", "float16"

// x W^T (+ b) through ops::dense, plus `weight`'s adapter when it has one (dropout in training).
torch::Tensor linearWithLora(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b, const LoraMap &lora, const std::string &weight,
                             bool training);
// W += scale * B A for every adapter, then no adapters.
void mergeLora(ParameterMap &parameters, LoraMap &lora);

// Additive attention mask [B, 1, Q, past + Q]: causal and padding, 0 where allowed and the
// dtype's lowest value elsewhere (not -inf: fully masked padding rows stay finite, as in the
// reference).
torch::Tensor causalPaddingMask(const torch::Tensor &attentionMask, std::int64_t queryLen, std::int64_t pastLen, torch::ScalarType dtype,
                                torch::Device device);

} // namespace mpa::vlm
