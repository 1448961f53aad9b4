#pragma once
// Every bound MPA Studio puts on what comes from outside (HTTP requests, files, folders,
// config values, command-line values), in one place. A value beyond its bound is refused where
// it enters with a message naming the input, the value and the bound; `mpa --help` and the
// README list them. They are far above what real models and datasets use and far below what
// would exhaust a workstation's memory.
#include <cstdint>

namespace mpa::limits {

// Images: checked from the file header before any pixel is decoded (a 74-byte PNG may claim
// 65535 x 65535). 64 megapixels is an 8000 x 8000 photo; MPA resizes to at most ~0.4.
constexpr std::int64_t kMaxImagePixels = 64LL * 1024 * 1024;
constexpr int kMaxImageSide = 32768;
constexpr std::int64_t kMaxImageFileBytes = 512LL * 1024 * 1024;

// Image budgets (--min-pixels / --max-pixels, preprocessor_config.json).
constexpr std::int64_t kMaxBudgetPixels = 16LL * 1024 * 1024;

// Model configs: sizes beyond these are a typo or an attack, not a model.
constexpr int kMaxLayers = 1024;
constexpr int kMaxHiddenSize = 1 << 17;
constexpr int kMaxVocabulary = 4 * 1024 * 1024;
constexpr int kMaxContextLength = 1 << 22; // max_position_embeddings

// mpa serve: request bodies (a 4K PNG in base64 is ~30 MB), prompt tokens (attention memory
// grows with the square of the prompt), new tokens per request.
constexpr std::int64_t kMaxRequestBytes = 48LL * 1024 * 1024;
constexpr int kDefaultMaxPromptTokens = 4096;
constexpr int kMaxNewTokens = 4096;

} // namespace mpa::limits
