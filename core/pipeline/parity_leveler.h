#pragma once
// The Parity Leveler: supervised fine-tuning of the small model on the selected samples
// (approved gaps by default), full or LoRA, on a libtorch backend thread. Every optimizer step
// records loss, learning rate, gradient norm, tokens/s and ETA in the workspace; checkpoints are
// complete Hugging Face model folders; a cancelled or crashed run resumes from its last
// checkpoint and continues the same loss curve (same data order, same optimizer state).
#include "pipeline/run_scope.h"

#include <QStringList>

namespace mpa::pipeline {

struct AlignParams
{
    QString selection = QStringLiteral("approved-gaps");
    std::uint64_t seed = 0;
    QString method = QStringLiteral("full"); // full | lora
    int loraRank = 8;
    double loraAlpha = 16;
    double loraDropout = 0.05;
    QStringList loraTargets = {QStringLiteral("q_proj"), QStringLiteral("k_proj"), QStringLiteral("v_proj"), QStringLiteral("o_proj"),
                               QStringLiteral("gate_proj"), QStringLiteral("up_proj"), QStringLiteral("down_proj")};
    // Defaults of the fine-tuning framework MPA points to (see mpa-method.md).
    double lrLlm = 1e-5;
    double lrMerger = 1e-5;
    double lrVision = 2e-6;
    bool freezeVision = false;
    bool freezeMerger = false;
    bool freezeLlm = false;
    double beta1 = 0.9;
    double beta2 = 0.98;
    double eps = 1e-7;
    double weightDecay = 0.0;
    double warmupRatio = 0.03;
    int epochs = 1;
    int batchSize = 1;  // samples per micro-batch
    int gradAccum = 16; // micro-batches per optimizer step (effective batch 16)
    double maxGradNorm = 1.0;
    int maxSteps = 0;   // 0: epochs decide
    int saveEvery = 0;  // optimizer steps between checkpoints (0: only at the end)
    int saveTotalLimit = 0; // keep only the newest K checkpoints of the run (0: keep all)
    int evalEvery = 0;  // optimizer steps between held-out losses (0: never)
    double heldOutFraction = 0.0;
    // The user turn: "bare" is the official PI output (the question alone); "instructed" appends
    // the single-word-or-phrase instruction, i.e. trains on exactly what PI and evaluation ask.
    QString trainPrompt = QStringLiteral("bare");
    QString device = QStringLiteral("cpu");
    // Activation checkpointing per decoder layer and vision block: "on", "off", or "auto" (on
    // with CUDA, where memory is what limits the batch; off on CPU, where it costs ~1/3 more
    // compute for memory the machine usually has).
    QString gradientCheckpointing = QStringLiteral("auto");
    // f32; bf16 / f16: mixed precision (compute in 16 bits, float32 master weights and AdamW
    // moments, as Hugging Face Trainer's bf16=True; f16 adds dynamic loss scaling); bf16-pure:
    // everything in bfloat16 (half the optimizer memory, but an update below the bfloat16
    // spacing of a weight rounds to nothing: at lr 1e-5 almost no weight moves).
    QString dtype = QStringLiteral("f32");
    // The image budget; 0: the model's preprocessor_config.json ("model" on the command line).
    std::int64_t minPixels = 128 * 28 * 28;
    std::int64_t maxPixels = 512 * 28 * 28;
    QString name; // the run's name, also the aligned model's (empty: one from the model and the selection)

    QJsonObject toJson() const;
    static AlignParams fromJson(const QJsonObject &o);
};

struct AlignResult
{
    QString finalModelDir; // the aligned model: a complete Hugging Face folder
    qint64 trainSamples = 0;
    qint64 steps = 0;
    double lastLoss = 0;
};

// Stops when progress returns false (after the current optimizer step, with a checkpoint).
JobSummary runParityLeveler(const store::Workspace &ws, const QString &modelDir, const AlignParams &params, const ProgressFn &progress,
                            qint64 resumeRunId = 0, AlignResult *result = nullptr);

} // namespace mpa::pipeline
