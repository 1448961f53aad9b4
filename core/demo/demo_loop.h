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
    bool review = true;       // the scripted review; false: every gap approved unread
    int alignEpochs = 20;
    double alignLearningRate = 3e-4;
    int batchSize = 16;
};

// Fills a new (empty) workspace. Throws on the first failing step; what was committed stays.
void runDemoLoop(const store::Workspace &ws, const DemoLoopOptions &options, const ProgressFn &progress = {});

// The scripted review, standing in for the person MPA Studio puts in the loop. It reads the
// questions, never a ground-truth answer: gaps with a well-formed question (one the world asks)
// are approved; gaps whose question is garbled (the teacher samples when annotating and
// sometimes mixes two questions, e.g. "Which bar is the value of bar B") are rejected, as a
// reviewer would; samples whose pseudo answer neither model gives are rejected too.
struct ScriptedReview
{
    qint64 approved = 0, rejected = 0;
};
ScriptedReview scriptedReview(const store::Workspace &ws, bool readQuestions = true);

} // namespace mpa::demo
