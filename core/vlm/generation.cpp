#include "vlm/generation.h"

#include "util/error.h"
#include "vlm/tokenizer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <QElapsedTimer>

#include <set>

namespace mpa::vlm {

namespace {

// HF RepetitionPenaltyLogitsProcessor: every id present in the sequence (prompt and padding
// included) has its logit divided by the penalty when positive, multiplied when negative.
void applyRepetitionPenalty(torch::Tensor &scores, const torch::Tensor &sequences, double penalty)
{
    if (penalty == 1.0)
        return;
    auto ids = sequences.to(scores.device());
    auto picked = scores.gather(1, ids);
    picked = torch::where(picked < 0, picked * penalty, picked / penalty);
    scores.scatter_(1, ids, picked);
}

torch::Tensor sample(torch::Tensor scores, const GenerationConfig &c, at::Generator &gen)
{
    scores = scores / c.temperature;
    const auto lowest = -std::numeric_limits<float>::infinity();
    if (c.topK > 0 && c.topK < scores.size(-1)) {
        auto kth = std::get<0>(scores.topk(c.topK, -1)).narrow(-1, c.topK - 1, 1);
        scores = scores.masked_fill(scores < kth, lowest);
    }
    if (c.topP < 1.0) {
        // Keep the smallest set whose probability reaches top_p (HF TopPLogitsWarper: sort
        // ascending, drop the prefix with cumulative probability <= 1 - top_p).
        auto [sorted, order] = scores.sort(-1, false);
        auto cumulative = sorted.softmax(-1).cumsum(-1);
        auto remove = cumulative <= (1.0 - c.topP);
        remove.narrow(-1, remove.size(-1) - 1, 1).fill_(false);
        scores = scores.masked_fill(remove.scatter(-1, order, remove), lowest);
    }
    auto probs = scores.softmax(-1).to(torch::kCPU);
    return torch::multinomial(probs, 1, false, gen).squeeze(1);
}

} // namespace

DecodingModel decodingSteps(const Qwen2VLModel &model, const VisionInput *images, const VisionInput *videos)
{
    DecodingModel steps;
    steps.makeCache = [&model](std::int64_t b, std::int64_t capacity) { return model.makeCache(b, capacity); };
    steps.prefill = [&model, images, videos](const torch::Tensor &ids, const torch::Tensor &mask, KVCache &cache) {
        return model.forward(ids, mask, images, videos, &cache, false, true).logits;
    };
    steps.decode = [&model](const torch::Tensor &tokens, const torch::Tensor &mask, KVCache &cache) { return model.decodeStep(tokens, mask, cache); };
    steps.contextLength = model.config().maxPositionEmbeddings;
    return steps;
}

GenerationOutput generate(const Qwen2VLModel &model, const torch::Tensor &inputIds, const torch::Tensor &attentionMask,
                          const VisionInput *images, const GenerationConfig &config, const std::function<bool()> &cancelled,
                          const VisionInput *videos)
{
    return generate(decodingSteps(model, images, videos), inputIds, attentionMask, config, cancelled);
}

GenerationOutput generate(const DecodingModel &model, const torch::Tensor &inputIdsIn, const torch::Tensor &attentionMaskIn,
                          const GenerationConfig &config, const std::function<bool()> &cancelled)
{
    torch::NoGradGuard noGrad;
    auto inputIds = inputIdsIn.to(torch::kCPU, torch::kInt64);
    const std::int64_t B = inputIds.size(0), L = inputIds.size(1);
    auto mask = attentionMaskIn.defined() ? attentionMaskIn.to(torch::kCPU, torch::kInt64) : torch::ones({B, L}, torch::kInt64);
    const std::int64_t pad = config.padTokenId.value_or(config.eosTokenIds.empty() ? 0 : config.eosTokenIds.front());
    KVCache cache = model.makeCache(B, L + std::max(config.maxNewTokens, 1));
    at::Generator gen = at::detail::createCPUGenerator(config.seed);

    GenerationOutput out;
    out.promptLength = L;
    std::vector<torch::Tensor> tokens, logprobs;
    auto unfinished = torch::ones({B}, torch::kBool);
    auto sequences = inputIds;
    torch::Tensor logits = model.prefill(inputIds, mask, cache).select(1, 0).to(torch::kCPU);
    for (int step = 0; step < config.maxNewTokens; ++step) {
        auto raw = logits.to(torch::kFloat32);
        auto scores = raw.clone();
        applyRepetitionPenalty(scores, sequences, config.repetitionPenalty);
        torch::Tensor next = config.doSample ? sample(scores, config, gen) : scores.argmax(-1);
        next = torch::where(unfinished, next, torch::full_like(next, pad));
        logprobs.push_back(raw.log_softmax(-1).gather(1, next.unsqueeze(1)).squeeze(1));
        tokens.push_back(next);
        sequences = torch::cat({sequences, next.unsqueeze(1)}, 1);
        for (std::int64_t eos : config.eosTokenIds)
            unfinished = unfinished & (next != eos);
        if (!unfinished.any().item<bool>() || step + 1 == config.maxNewTokens)
            break;
        if (cancelled && cancelled()) {
            out.cancelled = true;
            break;
        }
        mask = torch::cat({mask, torch::ones({B, 1}, torch::kInt64)}, 1);
        logits = model.decode(next.unsqueeze(1), mask, cache).select(1, 0).to(torch::kCPU);
    }
    out.sequences = sequences;
    out.tokenLogprobs = tokens.empty() ? torch::zeros({B, 0}) : torch::stack(logprobs, 1);
    return out;
}

std::vector<VlmAnswer> answerPrompts(const DecodingModel &model, const std::vector<std::vector<std::int32_t>> &prompts, std::int64_t pad,
                                     GenerationConfig config, const std::function<bool()> &cancelled, const Tokenizer &tokenizer, bool trim,
                                     VlmTiming *timing)
{
    const auto [ids, mask] = leftPadded(prompts, pad);
    config.padTokenId = pad;
    // Positions beyond max_position_embeddings were never trained (the rotary angles are
    // extrapolated); transformers only warns. A prompt that does not fit is refused by name, and
    // the answer is cut where the context ends (finish_reason "length").
    if (model.contextLength > 0) {
        const std::int64_t longest = ids.size(1);
        if (longest >= model.contextLength)
            throw Error(QStringLiteral("the prompt is %1 tokens (images included); the model's context (max_position_embeddings) holds %2 with the answer")
                            .arg(longest).arg(model.contextLength));
        config.maxNewTokens = static_cast<int>(std::min<std::int64_t>(config.maxNewTokens, model.contextLength - longest));
    }
    QElapsedTimer timer;
    timer.start();
    GenerationOutput out;
    try {
        out = generate(model, ids, mask, config, cancelled);
    } catch (const c10::Error &e) {
        throw Error(QStringLiteral("generation failed: %1").arg(QString::fromStdString(e.what_without_backtrace())));
    }
    if (timing) {
        timing->decodeSeconds = timer.nsecsElapsed() / 1e9;
        timing->generatedTokens = out.sequences.size(0) * (out.sequences.size(1) - out.promptLength);
    }
    return answersFrom(out, prompts, config.eosTokenIds, tokenizer, trim);
}

std::pair<torch::Tensor, torch::Tensor> leftPadded(const std::vector<std::vector<std::int32_t>> &prompts, std::int64_t pad)
{
    std::size_t longest = 0;
    for (const auto &p : prompts)
        longest = std::max(longest, p.size());
    const auto B = static_cast<std::int64_t>(prompts.size()), L = static_cast<std::int64_t>(longest);
    auto ids = torch::full({B, L}, pad, torch::kInt64);
    auto mask = torch::zeros({B, L}, torch::kInt64);
    auto I = ids.accessor<std::int64_t, 2>();
    auto M = mask.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < B; ++b) {
        const auto &pr = prompts[static_cast<std::size_t>(b)];
        const std::int64_t offset = L - static_cast<std::int64_t>(pr.size());
        for (std::size_t i = 0; i < pr.size(); ++i) {
            I[b][offset + static_cast<std::int64_t>(i)] = pr[i];
            M[b][offset + static_cast<std::int64_t>(i)] = 1;
        }
    }
    return {ids, mask};
}

std::vector<VlmAnswer> answersFrom(const GenerationOutput &out, const std::vector<std::vector<std::int32_t>> &prompts,
                                   const std::vector<std::int64_t> &eosTokenIds, const Tokenizer &tokenizer, bool trim)
{
    std::vector<VlmAnswer> answers;
    const std::set<std::int64_t> eos(eosTokenIds.begin(), eosTokenIds.end());
    const auto seq = out.sequences.contiguous();
    const auto lp = out.tokenLogprobs.contiguous();
    const std::int64_t L = out.promptLength;
    for (std::size_t b = 0; b < prompts.size(); ++b) {
        const auto row = static_cast<std::int64_t>(b);
        VlmAnswer a;
        a.promptTokens = static_cast<std::int64_t>(prompts[b].size());
        std::vector<std::int32_t> textIds;
        for (std::int64_t k = L; k < seq.size(1); ++k) {
            const auto id = seq[row][k].item<std::int64_t>();
            a.ids.push_back(static_cast<std::int32_t>(id));
            a.logprobs.push_back(lp[row][k - L].item<float>());
            if (eos.count(id)) {
                a.finished = true;
                break;
            }
            textIds.push_back(static_cast<std::int32_t>(id));
        }
        a.text = tokenizer.decode(textIds, true);
        if (trim)
            a.text = a.text.trimmed();
        answers.push_back(std::move(a));
    }
    return answers;
}

} // namespace mpa::vlm
