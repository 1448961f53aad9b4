#pragma once
// Where the Parity Leveler keeps a run's checkpoints (WS.mpaw/runs/run-N/checkpoint-000123/):
// finding the newest complete one to resume from, naming new ones, keeping only the newest K
// (--save-total-limit), and the trainer state (step, loss history) written beside the model.
#include <QJsonArray>
#include <QString>

namespace mpa::pipeline {

struct CheckpointRef
{
    QString dir;          // empty: none
    std::int64_t step = 0;
};

// The newest checkpoint-* of `runDir` that has its trainer_state.json (a checkpoint cut short
// by a crash has none and is ignored).
CheckpointRef latestCheckpoint(const QString &runDir);
QString checkpointDir(const QString &runDir, std::int64_t step);
// Keeps the newest `limit` checkpoint-* folders (limit <= 0: all).
void pruneCheckpoints(const QString &runDir, int limit);

void writeTrainerState(const QString &checkpoint, std::int64_t step, std::int64_t totalSteps, const QJsonArray &losses);
QJsonArray readLossHistory(const QString &checkpoint);

} // namespace mpa::pipeline
