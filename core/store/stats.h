#pragma once
#include "store/workspace.h"

#include <QList>
#include <QPair>

namespace mpa::store {

struct WorkspaceStats
{
    QList<QPair<QString, qint64>> imagesByStatus;
    QList<QPair<QString, qint64>> samplesByParse;
    QList<QPair<QString, qint64>> samplesByOutcome; // "none" = not identified yet
    QList<QPair<QString, qint64>> samplesByReview;
    QList<QPair<QString, qint64>> benchmarkItems;   // "dataset/split"
    QList<QPair<QString, qint64>> runsByStatus;
    qint64 approvedGaps = 0;
};

WorkspaceStats collectStats(const Workspace &ws);
QString formatStats(const WorkspaceStats &stats);

} // namespace mpa::store
