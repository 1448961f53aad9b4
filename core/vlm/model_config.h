#pragma once
// config.json / generation_config.json of a Qwen2-VL family model folder (qwen2_vl, and
// qwen2_5_vl, whose text side is Qwen2-VL's and whose vision tower is windowed: vlm/qwen25vl/). `supportedModelTypes()`
// lists the model types of the registry (vlm/model_registry.h); any other is refused by name.
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace mpa::vlm {

QStringList supportedModelTypes(); // defined with the registry

// Which vision tower a Qwen2-VL family model has.
enum class VisionTower {
    Qwen2VL,  // LayerNorm, quick_gelu MLP, full attention per image
    Qwen25VL, // RMSNorm, SwiGLU MLP with bias, window attention except fullAttentionBlocks
};

struct Qwen2VLVisionConfig
{
    VisionTower tower = VisionTower::Qwen2VL;
    // Class defaults of Qwen2VLVisionConfig; the official config.json only stores a few.
    // Names are Qwen2-VL's: embedDim is the ViT width and hiddenSize the merger output
    // (Qwen2.5-VL's config calls them hidden_size and out_hidden_size).
    int depth = 32;
    int embedDim = 1280;
    int numHeads = 16;
    int mlpRatio = 4;
    int inChannels = 3;
    int patchSize = 14;
    int temporalPatchSize = 2;
    int spatialMergeSize = 2;
    int hiddenSize = 3584; // merger output = LLM hidden size
    QString hiddenAct = QStringLiteral("quick_gelu");
    // Qwen2.5-VL only.
    int intermediateSize = 0;                // SwiGLU width
    int windowSize = 112;                    // attention window side in pixels
    std::vector<int> fullAttentionBlocks;    // blocks attending over the whole image
    int tokensPerSecond = 4;                 // video time axis of M-RoPE
    int windowMergedTokens() const { return windowSize / spatialMergeSize / patchSize; }
};

struct Qwen2VLConfig
{
    QString modelType;
    int vocabSize = 0;
    int hiddenSize = 0;
    int intermediateSize = 0;
    int numLayers = 0;
    int numHeads = 0;
    int numKvHeads = 0;
    int headDim() const { return hiddenSize / numHeads; }
    double rmsNormEps = 1e-6;
    double ropeTheta = 1000000.0;
    int maxPositionEmbeddings = 32768; // the context a prompt plus its answer must fit (Qwen2VLConfig's default)
    std::array<int, 3> mropeSection{16, 24, 24};
    bool tieWordEmbeddings = false;
    QString hiddenAct = QStringLiteral("silu");
    QString torchDtype = QStringLiteral("float32");
    std::int64_t imageTokenId = -1;
    std::int64_t videoTokenId = -1;
    std::int64_t visionStartTokenId = -1;
    std::int64_t visionEndTokenId = -1;
    std::vector<std::int64_t> eosTokenIds;
    std::optional<std::int64_t> bosTokenId;
    Qwen2VLVisionConfig vision;

    // Reads `dir`/config.json (flat or nested text_config layout; rope_scaling or
    // rope_parameters). Every missing required field or wrong type is a clear error.
    static Qwen2VLConfig load(const QString &dir);
    // A small Qwen2-VL of the given width and depth (head_dim 16, two query heads per kv head,
    // one 32-wide vision block): the shape `mpa create-random-model`, the tests and the
    // benchmarks build random models from. `hiddenSize` must be a multiple of 32.
    static Qwen2VLConfig small(int hiddenSize, int layers, int vocabSize);
    // The same with Qwen2.5-VL's tower (two blocks: one windowed, one full attention).
    static Qwen2VLConfig smallQwen25(int hiddenSize, int layers, int vocabSize);
    std::int64_t parameterCount() const;
    // config.json in the original (flat) layout, readable by transformers and by load().
    QJsonObject toJson() const;
};

struct GenerationConfig
{
    bool doSample = false;
    double temperature = 1.0;
    int topK = 50;
    double topP = 1.0;
    double repetitionPenalty = 1.0;
    int maxNewTokens = 128;
    std::vector<std::int64_t> eosTokenIds;
    std::optional<std::int64_t> padTokenId;
    std::uint64_t seed = 0;

    // generation_config.json when present, else the defaults above with config.json's eos.
    static GenerationConfig load(const QString &dir, const Qwen2VLConfig &model);
    // The same for any architecture: `defaultEos` when generation_config.json names none.
    static GenerationConfig load(const QString &dir, const std::vector<std::int64_t> &defaultEos);
};

} // namespace mpa::vlm
