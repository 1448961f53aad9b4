#pragma once
// What a model is called in the workspace (the models table, run names, chart legends). A
// folder is named after itself, except an aligned checkpoint: every checkpoint folder is
// "checkpoint-000040", so the approved-gaps model could not be told from the all-pairs or the
// random one (the comparison MPA is about). The Parity Leveler writes mpa_run.json beside the
// weights and the checkpoint is named after its run: "align approved-gaps · lr 3e-4 × 20
// (run 12, step 40)".
#include <QString>

namespace mpa::backends {

constexpr const char *kCheckpointRecordFile = "mpa_run.json";

QString modelDisplayName(const QString &location);

// Written into each checkpoint folder by the Parity Leveler.
void writeCheckpointRecord(const QString &checkpointDir, qint64 runId, const QString &runName, qint64 step);

} // namespace mpa::backends
