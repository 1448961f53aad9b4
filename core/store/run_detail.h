#pragma once
// Everything the Runs view tells about one run: its settings, its final metrics, where its
// checkpoints are, and the runs it came from (an alignment's annotate and identify runs, an
// evaluation's alignment). Reads the database and lists the run folder: call it off the GUI
// thread.
#include "store/workspace.h"

#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QStringList>

namespace mpa::store {

struct RunDetail
{
    qint64 id = 0;
    QString kind, name, status, error;
    qint64 createdMs = 0, startedMs = 0, finishedMs = 0;
    QJsonObject settings;
    QList<QPair<QString, double>> finalMetrics; // each metric's value at its last step
    QString folder;                             // WS/runs/run-N when it exists
    QStringList checkpoints;                    // folder names inside it
    QList<QPair<qint64, QString>> parents;      // (run id, name)
};

RunDetail readRunDetail(const Workspace &ws, qint64 runId);

// Records, for a training run, the runs its samples came from: each sample's own run (the
// Pseudo Annotator or import that wrote it) and the Parity Identifier run of its latest verdict.
// Called with the exact sample ids the run trains and holds out on (run_parents, schema 4).
void recordTrainingSources(const Workspace &ws, qint64 runId, const QList<qint64> &sampleIds);

// "0.4 s", "42 s", "3 min 05 s", "2 h 07 min".
QString humanDuration(double seconds);

} // namespace mpa::store
