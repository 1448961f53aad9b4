#pragma once
// The tensor names and shapes a Qwen2-VL configuration expects, and a check of a checkpoint
// against them (torch-free: `mpa inspect-model` validates a folder without loading it).
#include "vlm/model_config.h"
#include "vlm/safetensors.h"

#include <QStringList>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mpa::vlm {

std::map<std::string, std::vector<std::int64_t>> qwen2vlExpectedShapes(const Qwen2VLConfig &config);

// Checkpoints re-saved by newer transformers use model.language_model.* and model.visual.*.
QString canonicalWeightName(const QString &name);

struct WeightReport
{
    QStringList missing;   // "name [shape]"
    QStringList misshaped; // "name expected [..], found [..]"
    QStringList unexpected;
    std::map<std::string, QString> stored; // canonical name -> name in the checkpoint
    bool ok() const { return missing.isEmpty() && misshaped.isEmpty() && unexpected.isEmpty(); }
    // One line listing every problem (at most 20 per kind).
    QString summary() const;
};

WeightReport checkWeights(const Qwen2VLConfig &config, const Checkpoint &checkpoint);
// The same check for any architecture: expected canonical name -> shape, whether a stored
// lm_head is redundant, and the mapping of stored names to canonical ones.
WeightReport checkWeightShapes(const std::map<std::string, std::vector<std::int64_t>> &expected, bool tiedHead, const Checkpoint &checkpoint,
                               const std::function<QString(const QString &)> &canonical);
QString shapeText(const std::vector<std::int64_t> &shape);

} // namespace mpa::vlm
