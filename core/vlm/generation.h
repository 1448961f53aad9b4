#pragma once
// Batched generation with a KV cache (internal, torch). Left-padded prompts; greedy or
// sampling (temperature -> top-k -> top-p, after the repetition penalty, in the reference's
// order); stops on any eos id or max_new_tokens; finished rows are filled with the pad id;
// cancellable between steps.
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/vlm_model.h"

#include <functional>

namespace mpa::vlm {

struct GenerationOutput
{
    torch::Tensor sequences;     // [B, L + steps] int64: the (padded) prompt and the new tokens
    torch::Tensor tokenLogprobs; // [B, steps] float32: log p(token) under the raw model distribution
    std::int64_t promptLength = 0;
    bool cancelled = false;
};

// What the loop needs from any architecture: a cache, the prefill's and a decode step's
// last-position logits [B, 1, V].
struct DecodingModel
{
    std::function<KVCache(std::int64_t batch, std::int64_t capacity)> makeCache;
    std::function<torch::Tensor(const torch::Tensor &inputIds, const torch::Tensor &attentionMask, KVCache &cache)> prefill;
    std::function<torch::Tensor(const torch::Tensor &tokens, const torch::Tensor &attentionMask, KVCache &cache)> decode;
    std::int64_t contextLength = 0; // max_position_embeddings; 0: unbounded
};

GenerationOutput generate(const DecodingModel &model, const torch::Tensor &inputIds, const torch::Tensor &attentionMask,
                          const GenerationConfig &config, const std::function<bool()> &cancelled = {});

// The steps of a Qwen2-VL family model for `images` / `videos` (either may be null).
DecodingModel decodingSteps(const Qwen2VLModel &model, const VisionInput *images, const VisionInput *videos = nullptr);

GenerationOutput generate(const Qwen2VLModel &model, const torch::Tensor &inputIds, const torch::Tensor &attentionMask,
                          const VisionInput *images, const GenerationConfig &config,
                          const std::function<bool()> &cancelled = {}, const VisionInput *videos = nullptr);

// A runtime's whole answer(): the prompts left-padded with `pad`, generated (libtorch errors
// become mpa::Error; a prompt longer than the model's context is refused, and the answers end
// where the context does), decoded into answers (see answersFrom), timed into `timing` when given.
std::vector<VlmAnswer> answerPrompts(const DecodingModel &model, const std::vector<std::vector<std::int32_t>> &prompts, std::int64_t pad,
                                     GenerationConfig config, const std::function<bool()> &cancelled, const Tokenizer &tokenizer, bool trim,
                                     VlmTiming *timing);

// Prompts left-padded with `pad` into ids [B, L] and an attention mask (1 = real token).
std::pair<torch::Tensor, torch::Tensor> leftPadded(const std::vector<std::vector<std::int32_t>> &prompts, std::int64_t pad);

// Each row's new tokens up to and including the first eos, their log-probabilities, and the
// text before the eos (special tokens skipped; `trim`: without surrounding white space).
std::vector<VlmAnswer> answersFrom(const GenerationOutput &out, const std::vector<std::vector<std::int32_t>> &prompts,
                                   const std::vector<std::int64_t> &eosTokenIds, const Tokenizer &tokenizer, bool trim);

} // namespace mpa::vlm
