#pragma once
// One interface for every way MPA Studio asks a vision-language model something: the native
// libtorch runtime, or (later) an OpenAI-compatible HTTP server. Jobs only see this.
#include <QString>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace mpa::backends {

struct VlmQuery
{
    QString imagePath; // empty: a text-only question
    QString prompt;
};

struct VlmReply
{
    QString text;
    std::optional<double> logprob; // sum of the answer tokens' log-probabilities, when known
    double latencyMs = 0;          // this item's share of its batch's wall time
    QString error;                 // non-empty: this item failed (e.g. unreadable image), the batch goes on
};

struct GenerationOptions
{
    int maxNewTokens = 128; // the official MPA scripts' limit
    bool greedy = true;
    double temperature = 1.0;
    int topK = 0;
    double topP = 1.0;
    double repetitionPenalty = 1.0;
    std::uint64_t seed = 0;
    // When true the model folder's generation_config.json decides (MPA's PA step uses it).
    bool useModelDefaults = false;
};

class VlmBackend
{
public:
    virtual ~VlmBackend() = default;
    virtual QString name() const = 0;
    // How many queries answer() handles well at once.
    virtual int preferredBatchSize() const = 0;
    // One reply per query, in order. Cancellation is checked between generation steps;
    // a cancelled batch returns what it has (replies may be partial).
    virtual std::vector<VlmReply> answer(const std::vector<VlmQuery> &queries, const GenerationOptions &options,
                                         const std::function<bool()> &cancelled = {}) = 0;
};

struct NativeBackendOptions
{
    QString device = QStringLiteral("cpu");
    QString dtype = QStringLiteral("f32");
    std::optional<std::int64_t> minPixels = 128 * 28 * 28; // MPA's image budget
    std::optional<std::int64_t> maxPixels = 512 * 28 * 28;
    int batchSize = 4;
};

// The libtorch runtime; the model folder is loaded once.
std::unique_ptr<VlmBackend> makeNativeBackend(const QString &modelDir, const NativeBackendOptions &options = {});

} // namespace mpa::backends
