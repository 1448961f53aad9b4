#pragma once
// config.json of an Idefics3 (SmolVLM) model folder: a SigLIP-style vision encoder, the pixel
// shuffle connector and a Llama text model (text_config), with Idefics3Config's and
// LlamaConfig's class defaults for missing keys. Torch-free: also the tensor layout the
// configuration expects and the check of a checkpoint against it.
#include "vlm/qwen2vl/qwen2vl_weights.h"

#include <QJsonObject>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mpa::vlm {

struct Idefics3VisionConfig
{
    // Idefics3VisionConfig's class defaults.
    int hiddenSize = 1152;
    int intermediateSize = 3072;
    int numLayers = 12;
    int numHeads = 16;
    int numChannels = 3;
    int imageSize = 224;
    int patchSize = 32;
    double layerNormEps = 1e-6;
    int patchesPerSide() const { return imageSize / patchSize; }
    int headDim() const { return hiddenSize / numHeads; }
};

struct Idefics3Config
{
    QString modelType = QStringLiteral("idefics3");
    // Text model (Llama).
    int vocabSize = 0;
    int hiddenSize = 0;
    int intermediateSize = 0;
    int numLayers = 0;
    int numHeads = 0;
    int numKvHeads = 0;
    int headDim = 0;
    double rmsNormEps = 1e-5;
    double ropeTheta = 10000.0;
    int maxPositionEmbeddings = 2048; // LlamaConfig's default; SmolVLM's configs say 8192
    bool tieWordEmbeddings = false;
    QString torchDtype = QStringLiteral("float32");
    std::int64_t imageTokenId = -1;
    std::optional<std::int64_t> padTokenId, bosTokenId;
    std::vector<std::int64_t> eosTokenIds;
    int scaleFactor = 2; // pixel shuffle
    Idefics3VisionConfig vision;

    // One <image> token per connector row: (patches per side / scale factor)^2.
    int imageSeqLen() const { return (vision.patchesPerSide() / scaleFactor) * (vision.patchesPerSide() / scaleFactor); }

    // Reads `dir`/config.json; every missing required field, wrong type or inconsistent size
    // (head sizes, the pixel shuffle against the patch grid, features the port does not
    // implement such as rope_scaling or attention biases) is a clear error naming the file.
    static Idefics3Config load(const QString &dir);
    // A small SmolVLM-shaped configuration (tests, create-random-model): 64x64 tiles of
    // 16x16 patches, a 2-layer 32-wide encoder, pixel shuffle 2.
    static Idefics3Config small(int hiddenSize, int layers, int vocabSize);
    QJsonObject toJson() const;
    std::map<std::string, std::vector<std::int64_t>> expectedShapes() const;
    std::int64_t parameterCount() const;
};

WeightReport checkIdefics3Weights(const Idefics3Config &config, const Checkpoint &checkpoint);

} // namespace mpa::vlm
