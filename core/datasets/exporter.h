#pragma once
// Writes a workspace's samples for trainers (LLaVA / Qwen2-VL-Finetune JSON, ShareGPT for
// LLaMA-Factory), as lossless JSONL, and a run's predictions in the VQA results format.
#include "store/workspace.h"

#include <QString>

namespace mpa::datasets {

enum class ExportFormat { Llava, ShareGpt, Jsonl, VqaResults };
// Which samples: the PL training set by default (approved knowledge gaps).
enum class ExportSelection { ApprovedGaps, Gaps, Approved, All };

struct ExportOptions
{
    ExportFormat format = ExportFormat::Llava;
    ExportSelection selection = ExportSelection::ApprovedGaps;
    QString imageRoot;    // write image paths relative to this folder
    QString datasetName = QStringLiteral("mpa_gaps"); // ShareGPT: the dataset_info.json key
    qint64 runId = 0;     // VQA results: the run whose predictions to write (0 = latest)
};

// Returns the number of records written. The output is written atomically.
qint64 exportWorkspace(const store::Workspace &ws, const QString &outPath, const ExportOptions &options);

std::optional<ExportFormat> exportFormatFromString(const QString &text);
std::optional<ExportSelection> exportSelectionFromString(const QString &text);

} // namespace mpa::datasets
