#pragma once
// The demo world's teacher (the L-VLM) and student (the S-VLM): real Qwen2-VL model folders
// (config.json, safetensors, a byte-level BPE tokenizer.json trained on the world's text, the
// Qwen2-VL chat template, a preprocessor config) produced by the project's own trainer
// (pipeline::runParityLeveler) from labeled synthetic images, reproducibly from a seed.
// The student learns text scenes and charts from random weights and never sees the shapes
// (knowledge) family, so it is weak there: the gap MPA should close. The teacher starts from the
// student and learns every family, including writing pairs from the Pseudo Annotator prompts.
#include "backends/vlm_backend.h"
#include "util/progress.h"

#include <QString>
#include <QStringList>
#include <cstdint>

namespace mpa::demo {

struct DemoModelOptions
{
    std::uint64_t seed = 1;
    int imagesPerFamily = 1000; // labeled training images per family (disjoint from pool and test)
    int hiddenSize = 192;
    int layers = 4;
    int visionDepth = 3;
    int visionEmbedDim = 128;
    int bpeMerges = 600;
    int studentSteps = 1500;
    int teacherSteps = 2000; // on top of the student's
    int batchSize = 16;
    double learningRate = 1e-3;
    QString dtype = QStringLiteral("bf16"); // of the written weights (training is f32)
    // The student never sees shapes. (Text would mirror the paper better, but a model this size
    // does not learn to read in minutes of CPU training: measured, the teacher read 0 of 40 words
    // and numbers after 4,500 steps, so text gaps could never be confirmed by the teacher.)
    QStringList studentFamilies = {QStringLiteral("text"), QStringLiteral("chart")};
};

// The demo models' image budget: 112x112 pixels (8x8 patches, 16 visual tokens). Every job of
// the demo loop passes it, as MPA's 128..512-token budget would be far too slow for CPU demo.
constexpr std::int64_t kDemoImagePixels = 112 * 112;
constexpr std::int64_t kDemoMinPixels = 56 * 56;

// Native backend options with the demo image budget (what every demo job and test passes).
backends::NativeBackendOptions demoBackendOptions();

struct DemoModelReport
{
    QString teacherDir, studentDir;
    qint64 teacherParameters = 0, studentParameters = 0;
    qint64 teacherSamples = 0, studentSamples = 0;
    double teacherLastLoss = 0, studentLastLoss = 0;
    double seconds = 0;
};

// Writes OUT/teacher and OUT/student (and OUT/training, the scratch workspaces and images).
DemoModelReport trainDemoModels(const QString &outDir, const DemoModelOptions &options, const ProgressFn &progress = {});

// The folder with the shipped demo models (resources/demo/models next to the source tree or
// share/mpa-studio/demo-models when installed); empty when none is found.
QString findShippedDemoModels();

} // namespace mpa::demo
