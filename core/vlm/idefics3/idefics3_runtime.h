#pragma once
// Idefics3's (SmolVLM's) entry points for the model registry (torch-free header).
#include "vlm/idefics3/idefics3_config.h"
#include "vlm/vlm_model.h"

namespace mpa::vlm {

std::unique_ptr<VisionLanguageModel> loadIdefics3(const QString &dir, const ModelLoadOptions &options);
ModelInspection inspectIdefics3Folder(const QString &dir);

// An Idefics3 folder of `config`'s shapes with random weights; tokenizer, chat template and
// processor files copied from `tokenizerDir` (a SmolVLM folder), the processor's tile size and
// image_seq_len rewritten to match `config`.
void writeRandomIdefics3Folder(const QString &dir, const Idefics3Config &config, const QString &tokenizerDir, std::uint64_t seed,
                               const QString &dtype = QStringLiteral("f32"));

// The longest edge a --max-pixels budget allows: the largest multiple of the tile whose
// square fits (at least one tile). 0 keeps the folder's own.
int idefics3LongestEdgeForBudget(std::int64_t maxPixels, int tileSize);

} // namespace mpa::vlm
