#pragma once
// The whole MPA loop on the demo world, as a newcomer's first workspace and as the measurement
// behind `mpa demo report`: annotate the unlabeled pool with the teacher (each family with its
// task prompt), identify gaps against the student, a scripted review, evaluate teacher and
// student, align the student on the approved gaps, and, for the paper's comparisons, on all
// pseudo pairs and on a random subset of the gaps' size; every aligned model is evaluated.
// No ground-truth label reaches training: the labeled splits are only evaluated on.
#include "store/workspace.h"
#include "util/progress.h"

#include <QString>
#include <cstdint>

namespace mpa::demo {

struct DemoLoopOptions
{
    QString modelsDir;        // holds teacher/ and student/ (findShippedDemoModels() by default)
    std::uint64_t seed = 1;   // the world's seed (and the alignment's)
    int poolPerFamily = 200;
    int testPerFamily = 50;
    bool comparisons = true;  // also train on all pseudo pairs and on a random gap-sized subset
    int alignEpochs = 6;
    double alignLearningRate = 5e-4;
    int batchSize = 16;
};

// Fills a new (empty) workspace. Throws on the first failing step; what was committed stays.
void runDemoLoop(const store::Workspace &ws, const DemoLoopOptions &options, const ProgressFn &progress = {});

// The scripted review: every gap is approved; of the other parsed samples, those whose pseudo
// answer neither model gave are rejected (the annotator's likely mistakes). Returns the counts.
struct ScriptedReview
{
    qint64 approved = 0, rejected = 0;
};
ScriptedReview scriptedReview(const store::Workspace &ws);

} // namespace mpa::demo
