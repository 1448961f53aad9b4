#pragma once
// The Qwen2-VL family in libtorch: Qwen2-VL and Qwen2.5-VL share the language model (M-RoPE,
// KV cache) and differ in the vision tower (Qwen2.5-VL's windowed tower is defined in
// vlm/qwen25vl/qwen25vl_vision.cpp) and in the video time axis of M-RoPE.
// INTERNAL header: it includes torch, so only torch translation units (and tests that link
// torch) may include it; everything else uses vlm/vlm_model.h.
//
// Parameters are kept in one map under the checkpoint's own names ("visual.blocks.0.attn.qkv.
// weight", "model.layers.3.mlp.up_proj.weight", "lm_head.weight"), so loading, saving and
// optimizer state are all by name, and the forward pass below reads them directly.
#include "vlm/model_config.h"
#include "vlm/kv_cache.h"
#include "vlm/model_parameters.h"

#include <torch/torch.h>

#include <QString>
#include <map>
#include <string>
#include <vector>

namespace mpa::vlm {

class Checkpoint;

struct VisionInput
{
    torch::Tensor pixelValues;                    // [rows, 1176] float
    std::vector<std::array<std::int64_t, 3>> grids; // per image/video (t, h, w)
    // Videos only, Qwen2.5-VL: seconds per temporal grid step (temporal_patch_size / fps);
    // empty means 1.0 for each video, as transformers.
    std::vector<double> secondsPerGrid = {};
};

// Intermediate vision tensors, for the golden tests (rows in the order the blocks see them).
struct VisionTrace
{
    torch::Tensor patchEmbeds;
    std::vector<torch::Tensor> blockOutputs;
    torch::Tensor mergerOutput;
};

struct ForwardOutput
{
    torch::Tensor logits;                     // [B, L, V] float32
    std::vector<torch::Tensor> hiddenStates;  // when requested: embeddings, each layer, final norm
};

struct RopeIndex
{
    torch::Tensor positionIds; // [3, B, L] int64
    torch::Tensor ropeDeltas;  // [B, 1] int64
};

class Qwen2VLModel
{
public:
    // Loads every tensor by name; missing, unexpected and mis-shaped tensors are reported all
    // at once with expected and actual shapes.
    Qwen2VLModel(const Qwen2VLConfig &config, const Checkpoint &checkpoint, torch::Device device, torch::ScalarType dtype,
                 WeightMemory memory = WeightMemory::Copy);
    // Randomly initialised model of the given configuration (benchmarks, tests).
    Qwen2VLModel(const Qwen2VLConfig &config, torch::Device device, torch::ScalarType dtype, std::uint64_t seed);

    const Qwen2VLConfig &config() const { return m_config; }
    torch::Device device() const { return m_device; }
    torch::ScalarType dtype() const { return m_dtype; }

    // Vision tower + merger: one row per merged 2x2 window, [rows/4, hidden].
    torch::Tensor encodeVision(const VisionInput &input, VisionTrace *trace = nullptr) const;

    // M-RoPE positions (get_rope_index) for a batch; attentionMask may be undefined (all ones).
    RopeIndex ropeIndex(const torch::Tensor &inputIds, const std::vector<std::array<std::int64_t, 3>> &imageGrids,
                        const std::vector<std::array<std::int64_t, 3>> &videoGrids, const torch::Tensor &attentionMask,
                        const std::vector<double> &videoSecondsPerGrid = {}) const;

    // Full forward over a prompt (training, prefill). With a cache, keys/values are stored.
    // lastLogitsOnly: project only the last position through the head (a prefill needs no
    // more, and for a 151k vocabulary the head is a large share of the prefill's work).
    ForwardOutput forward(const torch::Tensor &inputIds, const torch::Tensor &attentionMask, const VisionInput *images,
                          const VisionInput *videos, KVCache *cache = nullptr, bool wantHiddenStates = false,
                          bool lastLogitsOnly = false) const;
    // One decode step for the last generated tokens [B, 1]; attentionMask covers cache + new.
    torch::Tensor decodeStep(const torch::Tensor &tokens, const torch::Tensor &attentionMask, KVCache &cache) const;

    KVCache makeCache(std::int64_t batch, std::int64_t capacity) const;

    // Causal LM loss: logits[:, :-1] predict labels[:, 1:], -100 ignored, mean in float32.
    static torch::Tensor causalLmLoss(const torch::Tensor &logits, const torch::Tensor &labels);

    // Adapters keyed by the weight they modify ("model.layers.0.self_attn.q_proj.weight").
    std::map<std::string, LoraAdapter> &loraAdapters() { return m_lora; }
    const std::map<std::string, LoraAdapter> &loraAdapters() const { return m_lora; }
    void setTraining(bool training) { m_training = training; }
    // Activation checkpointing per decoder layer and vision block while training: activations
    // are recomputed in backward instead of kept (see vlm/activation_checkpoint.h).
    void setGradientCheckpointing(bool on) { m_checkpointing = on; }
    // Folds every adapter into its weight (W += scale * B A) and removes the adapters.
    void mergeLora() { vlm::mergeLora(m_params, m_lora); }

    std::map<std::string, torch::Tensor> &parameters() { return m_params; }
    const std::map<std::string, torch::Tensor> &parameters() const { return m_params; }
    // Expected name -> shape of every parameter of this configuration.
    static std::map<std::string, std::vector<std::int64_t>> expectedShapes(const Qwen2VLConfig &config);
    // Writes the parameters (lm_head omitted when tied) as model.safetensors into `dir`.
    void save(const QString &dir) const { saveParameters(m_params, dir); }

private:
    const torch::Tensor &p(const std::string &name) const;
    // Linear through `weight` (+ bias when given) plus its LoRA adapter, if any.
    torch::Tensor proj(const torch::Tensor &x, const std::string &weight, const std::string &bias = {}) const;
    bool checkpointing() const { return m_checkpointing && m_training && torch::GradMode::is_enabled(); }
    torch::Tensor visionBlock(int block, torch::Tensor x, const torch::Tensor &cos, const torch::Tensor &sin,
                              const std::vector<std::int64_t> &segments) const;
    // Qwen2.5-VL (vlm/qwen25vl/qwen25vl_vision.cpp).
    torch::Tensor encodeWindowedVision(const VisionInput &input, const torch::Tensor &patches, const torch::Tensor &angles,
                                       VisionTrace *trace) const;
    torch::Tensor windowedVisionBlock(int block, torch::Tensor x, const torch::Tensor &cos, const torch::Tensor &sin,
                                      const std::vector<std::int64_t> &segments) const;
    torch::Tensor decoderLayer(int layer, torch::Tensor x, const torch::Tensor &cos, const torch::Tensor &sin, const torch::Tensor &mask,
                               KVCache *cache) const;
    torch::Tensor textLayers(torch::Tensor x, const torch::Tensor &cos, const torch::Tensor &sin, const torch::Tensor &mask,
                             KVCache *cache, std::vector<torch::Tensor> *hidden) const;
    std::pair<torch::Tensor, torch::Tensor> ropeCosSin(const torch::Tensor &positionIds) const;

    Qwen2VLConfig m_config;
    torch::Device m_device;
    torch::ScalarType m_dtype;
    std::map<std::string, torch::Tensor> m_params;
    std::map<std::string, LoraAdapter> m_lora;
    bool m_training = false;
    bool m_checkpointing = false;
};

// Maps "cpu", "cuda", "cuda:1" and "f32"/"bf16"/"f16" to torch values; CUDA requested in a
// CPU-only build (or without a GPU) is a clear error.
torch::Device parseDevice(const QString &text);
torch::ScalarType parseDtype(const QString &text);
enum class DType;
// The torch type of a safetensors dtype.
torch::ScalarType torchType(DType d);

// Copies a stored tensor (any safetensors dtype) into a torch tensor on device/dtype.
torch::Tensor tensorFromCheckpoint(const Checkpoint &checkpoint, const QString &name);
// A view of the checkpoint's mapping when the stored dtype is `dtype` and the bytes are aligned
// for it (the view keeps the file mapped); an undefined tensor otherwise.
torch::Tensor mappedTensorFromCheckpoint(const Checkpoint &checkpoint, const QString &name, torch::ScalarType dtype);
class SafetensorsFile;
torch::Tensor tensorFromFile(const SafetensorsFile &file, const QString &name);

} // namespace mpa::vlm
