#pragma once
// Readers for the benchmarks' official annotation files (reference/formats-and-metrics.md).
// They only parse; datasets/importer.h writes the result into a workspace, and
// `mpa score` uses them directly without a workspace.
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace mpa::datasets {

enum class BenchmarkFormat { TextVqa, StVqa, ChartQa, Vqa, MpaEval };

struct BenchmarkEntry
{
    QString questionId;
    QString imagePath; // resolved on this machine (may not exist)
    QString question;
    QStringList answers;
};

struct BenchmarkSet
{
    QString dataset; // "textvqa", "stvqa", "chartqa", "vqa"/"okvqa"
    QString split;
    QList<BenchmarkEntry> entries;
    // Only for MPA evaluation files: the model's prediction per question id.
    QHash<QString, QString> predictions;
};

struct BenchmarkOptions
{
    QString imageRoot;
    QString split;           // overrides what the file says
    QString annotationsFile; // VQA: the annotations file beside the questions file
    QString dataset;         // overrides the dataset name (e.g. "okvqa")
};

BenchmarkSet readTextVqa(const QString &path, const BenchmarkOptions &options);
BenchmarkSet readStVqa(const QString &path, const BenchmarkOptions &options);
BenchmarkSet readChartQa(const QString &path, const BenchmarkOptions &options);
// Official questions file (+ options.annotationsFile), a lone official annotations file is
// refused, and the merged list variant `[{image_id, question, question_id, answers}]`.
BenchmarkSet readVqa(const QString &path, const BenchmarkOptions &options);
// The official MPA evaluation output: question, majority GT answer and prediction.
BenchmarkSet readMpaEval(const QString &path, const BenchmarkOptions &options);

// Any of the above, telling the format apart by its shape.
BenchmarkSet readBenchmarkAuto(const QString &path, const BenchmarkOptions &options);

// "COCO_val2014_000000297147.jpg"
QString cocoImageName(const QString &split, const QString &imageId);

} // namespace mpa::datasets
