#pragma once
// Where a workspace stands in the MPA loop: counts per stage (import, pseudo-annotate,
// identify, review, align, evaluate) and per task, and the next stage to do. What the
// desktop's pipeline home shows; a few grouped counts over indexed columns, read off the GUI
// thread.
#include "store/workspace.h"

#include <QList>
#include <QMap>
#include <QString>

namespace mpa::store {

enum class PipelineStage { Import, Annotate, Identify, Review, Align, Evaluate, Done };

struct PipelineProgress
{
    qint64 poolImages = 0;      // readable images no benchmark uses: what MPA learns from
    qint64 benchmarkImages = 0; // images of imported benchmarks (evaluated on, never trained on)
    qint64 unreadableImages = 0;
    qint64 benchmarkItems = 0;
    qint64 pseudoPairs = 0;     // parsed
    qint64 parseFailures = 0;
    QMap<QString, qint64> pairsByTask;
    QMap<QString, qint64> outcomes; // gap, both_right, s_only, both_wrong (identified samples)
    qint64 identified() const;
    qint64 reviewed = 0;       // approved or rejected
    qint64 approvedGaps = 0;
    qint64 rejected = 0;
    qint64 gapsToReview = 0;   // knowledge gaps not yet approved or rejected
    qint64 alignmentRuns = 0;  // finished
    qint64 evaluations = 0;    // finished
    qint64 runningRuns = 0;
    PipelineStage next() const; // the first stage with nothing done yet (Done when all have)
};

PipelineProgress readPipelineProgress(const Workspace &ws);

QString stageName(PipelineStage stage); // "import", "annotate", ...

} // namespace mpa::store
