#pragma once
// A synthetic VQA world, deterministic from a seed, in three families mirroring the paper's
// benchmarks: text in scenes (words and numbers on signs and labels, like TextVQA/ST-VQA),
// charts (bar charts and, every third image, line charts with labelled values, like ChartQA) and attributes (shapes, colours and
// counts, standing in for OK-VQA's knowledge questions). Every image is drawn from its own
// question-answer facts, so the ground truth is exact. It produces an unlabeled image pool
// (for MPA) and labeled test splits (benchmark items in the workspace).
#include "store/workspace.h"
#include "util/progress.h"

#include <QString>
#include <QStringList>
#include <cstdint>
#include <vector>

namespace mpa::datasets {

struct SyntheticItem
{
    QString family;   // text, chart, knowledge
    QString question;
    QString answer;
    QStringList answers; // ground truth as a benchmark stores it
};

struct SyntheticImage
{
    QString family;
    std::vector<std::uint8_t> png; // encoded image
    std::vector<SyntheticItem> items; // the facts drawn in it (one question each)
};

// The `index`-th image of a family for `seed` (independent of how many others are generated).
SyntheticImage synthesizeImage(const QString &family, std::uint64_t seed, int index, int size = 224);

struct DemoWorldOptions
{
    std::uint64_t seed = 1;
    int poolPerFamily = 200; // unlabeled images for MPA
    int testPerFamily = 50;  // labeled benchmark questions per family
    int trainPerFamily = 0;  // labeled training images per family (for training the demo models; not part of MPA)
    int size = 224;
};

struct DemoWorldReport
{
    qint64 poolImages = 0;
    qint64 testQuestions = 0;
    QString trainPairs; // LLaVA JSON of the labeled training pairs, when requested
    QString imageDir;
};

// Writes the images under WS/demo/ and imports them: the pool as plain images, the test splits
// as benchmarks "demo-text", "demo-chart", "demo-knowledge" (split "test").
DemoWorldReport createDemoWorld(const store::Workspace &ws, const DemoWorldOptions &options, const ProgressFn &progress = {});

QStringList syntheticFamilies();
// The metric a demo benchmark is scored with ("demo-text": anls, "demo-chart": relaxed,
// "demo-knowledge": mpa, like the real benchmarks each family stands in for; OK-VQA-style
// knowledge answers are short phrases, so the substring match); empty for other datasets.
QString syntheticBenchmarkMetric(const QString &dataset);
// Every question the world asks (with its '?'), e.g. for a scripted reviewer.
QStringList syntheticQuestions();

} // namespace mpa::datasets
