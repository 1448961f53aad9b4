#pragma once
// Idefics3 (SmolVLM) in libtorch: SigLIP-style vision encoder over 512x512 (config) tiles with
// learned position embeddings, pixel-shuffle connector, Llama decoder with 1-D RoPE and a KV
// cache. INTERNAL header (torch). Parameters are kept by their checkpoint names, as for
// Qwen2-VL (vlm/qwen2vl/qwen2vl_model.h, whose KVCache, LoraAdapter and ForwardOutput it uses).
#include "vlm/idefics3/idefics3_config.h"
#include "vlm/qwen2vl/qwen2vl_model.h"

namespace mpa::vlm {

struct Idefics3VisionTrace
{
    std::vector<torch::Tensor> hiddenStates; // embeddings, then each encoder layer (before post_layernorm)
    torch::Tensor lastHiddenState;           // post_layernorm applied
};

class Idefics3Model
{
public:
    Idefics3Model(const Idefics3Config &config, const Checkpoint &checkpoint, torch::Device device, torch::ScalarType dtype,
                  WeightMemory memory = WeightMemory::Copy);
    Idefics3Model(const Idefics3Config &config, torch::Device device, torch::ScalarType dtype, std::uint64_t seed);

    const Idefics3Config &config() const { return m_config; }
    torch::Device device() const { return m_device; }
    torch::ScalarType dtype() const { return m_dtype; }

    // Tiles [N, 3, T, T] (real tiles only, in prompt order) -> connector output
    // [N, imageSeqLen, hidden]. Full tiles only (what the processor produces).
    torch::Tensor encodeTiles(const torch::Tensor &pixels, Idefics3VisionTrace *trace = nullptr) const;

    // Forward over prompts (training, prefill). The k-th <image> token of the batch takes
    // connector row k mod imageSeqLen of tile k div imageSeqLen. Positions are
    // cumsum(attention mask) - 1 (1 at padded slots), as transformers' generate passes them.
    ForwardOutput forward(const torch::Tensor &inputIds, const torch::Tensor &attentionMask, const torch::Tensor &tiles,
                          KVCache *cache = nullptr, bool wantHiddenStates = false, bool lastLogitsOnly = false) const;
    torch::Tensor decodeStep(const torch::Tensor &tokens, const torch::Tensor &attentionMask, KVCache &cache) const;
    KVCache makeCache(std::int64_t batch, std::int64_t capacity) const;

    std::map<std::string, LoraAdapter> &loraAdapters() { return m_lora; }
    const std::map<std::string, LoraAdapter> &loraAdapters() const { return m_lora; }
    void setTraining(bool training) { m_training = training; }
    void setGradientCheckpointing(bool on) { m_checkpointing = on; }
    void mergeLora() { vlm::mergeLora(m_params, m_lora); }
    std::map<std::string, torch::Tensor> &parameters() { return m_params; }
    const std::map<std::string, torch::Tensor> &parameters() const { return m_params; }
    void save(const QString &dir) const { saveParameters(m_params, dir); }

private:
    const torch::Tensor &p(const std::string &name) const;
    torch::Tensor proj(const torch::Tensor &x, const std::string &weight, const std::string &bias = {}) const;
    bool checkpointing() const { return m_checkpointing && m_training && torch::GradMode::is_enabled(); }
    torch::Tensor encoderLayer(int layer, torch::Tensor x) const;
    torch::Tensor decoderLayer(int layer, torch::Tensor x, const torch::Tensor &cos, const torch::Tensor &sin, const torch::Tensor &mask,
                               KVCache *cache) const;
    torch::Tensor textLayers(torch::Tensor x, const torch::Tensor &positions, const torch::Tensor &mask, KVCache *cache,
                             std::vector<torch::Tensor> *hidden) const;

    Idefics3Config m_config;
    torch::Device m_device;
    torch::ScalarType m_dtype;
    std::map<std::string, torch::Tensor> m_params;
    std::map<std::string, LoraAdapter> m_lora;
    bool m_training = false;
    bool m_checkpointing = false;
};

} // namespace mpa::vlm
