#pragma once
// The native vision-language model as the rest of MPA Studio sees it: torch-free (pimpl), so
// the CLI, the jobs and the UI never include libtorch. Loads an unmodified Hugging Face
// model folder (config, safetensors, tokenizer, chat template, preprocessor config) and
// answers batches of (images, prompt).
#include "vlm/image_processor.h"
#include "vlm/model_config.h"

#include <QString>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace mpa::vlm {

class Tokenizer;

struct ModelLoadOptions
{
    QString device = QStringLiteral("cpu"); // cpu, cuda, cuda:N
    QString dtype = QStringLiteral("f32");  // f32, bf16, f16
    bool allowChatMLFallback = false;
    std::optional<std::int64_t> minPixels; // override preprocessor_config.json
    std::optional<std::int64_t> maxPixels;
};

struct VlmRequest
{
    std::vector<RgbImage> images; // shown before the text, in order
    QString prompt;
};

struct VlmAnswer
{
    QString text;                    // special tokens skipped, stops before the eos
    std::vector<std::int32_t> ids;   // new tokens (eos included when produced)
    std::vector<float> logprobs;     // per new token, raw model distribution
    std::int64_t promptTokens = 0;
    bool finished = false;           // ended on an eos id (not max_new_tokens / cancel)
};

struct VlmTiming
{
    double prefillSeconds = 0;
    double decodeSeconds = 0;
    std::int64_t generatedTokens = 0;
};

// What any architecture tells about itself.
struct ModelInfo
{
    QString modelType;
    int hiddenSize = 0;
    std::int64_t imageTokenId = -1;
    std::int64_t parameters = 0;
    std::int64_t contextLength = 0; // max_position_embeddings: prompt plus answer tokens
};

class VisionLanguageModel
{
public:
    // Dispatches on config.json's model_type; an unsupported one is refused by name.
    static std::unique_ptr<VisionLanguageModel> load(const QString &dir, const ModelLoadOptions &options = {});
    virtual ~VisionLanguageModel();

    virtual ModelInfo info() const = 0;
    virtual const GenerationConfig &generationConfig() const = 0;
    // Visual tokens one image of height x width costs this model (after its processor's
    // resizing); throws a clear error for an image the processor refuses.
    virtual std::int64_t imageTokens(int height, int width) const = 0;
    virtual std::shared_ptr<const Tokenizer> tokenizer() const = 0;
    virtual QString deviceName() const = 0;

    // The prompt ids for one request (chat template, image placeholders expanded).
    virtual std::vector<std::int32_t> promptIds(const VlmRequest &request, std::vector<std::array<std::int64_t, 3>> *grids = nullptr) const = 0;

    // Answers a batch (left-padded into one forward pass).
    virtual std::vector<VlmAnswer> answer(const std::vector<VlmRequest> &requests, const GenerationConfig &generation,
                                          const std::function<bool()> &cancelled = {}, VlmTiming *timing = nullptr) const = 0;
};

// What `mpa inspect-model` reports, without loading the weights.
struct ModelInspection
{
    QString dir;
    QString architecture;
    QString modelType;
    std::int64_t parameters = 0;       // counted from the checkpoint's headers
    std::int64_t expectedParameters = 0;
    QStringList storedDtypes;
    std::int64_t weightBytes = 0;       // as stored
    QStringList filesFound;
    QStringList filesMissing;
    QString weightProblems;             // empty when names and shapes match the config
    QString chatTemplate;               // recognised template or the reason it is not
    QString toText() const;
};

ModelInspection inspectModelFolder(const QString &dir);

// (inspectModelFolder dispatches on model_type like load(); see vlm/model_registry.h.)

// A Qwen2-VL folder of `config`'s shapes with random weights (seeded), the tokenizer, chat
// template and preprocessor config copied from `tokenizerDir`: for tests and benchmarks, and
// the starting point of the demo models.
void writeRandomModelFolder(const QString &dir, const Qwen2VLConfig &config, const QString &tokenizerDir, std::uint64_t seed,
                            const QString &dtype = QStringLiteral("f32"));

// Rewrites the floating-point weights of the model folder `dir` (any architecture; one file or
// shards) in `dtype` (f32, bf16, f16), in place, and records it as config.json's torch_dtype
// (the demo models ship in bf16: half the bytes). vlm/checkpoint_conversion.cpp says how a
// failure leaves the folder.
void convertModelFolderWeights(const QString &dir, const QString &dtype);

// The token ids of the special tokens a Qwen2-VL config needs, read from a tokenizer.
void fillSpecialTokenIds(Qwen2VLConfig &config, const Tokenizer &tokenizer);

} // namespace mpa::vlm
