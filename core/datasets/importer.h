#pragma once
// Brings images and annotation files into a workspace. Every import is a run (kind
// "import") and commits in batches: a failure mid-way (a malformed record, a full disk)
// keeps every batch committed before it, marks the run failed and reports the file and the
// problem. Re-importing the same file updates records in place, never duplicates them.
#include "datasets/benchmark_formats.h"
#include "store/records.h"
#include "store/workspace.h"
#include "util/progress.h"

#include <QStringList>

namespace mpa::datasets {

struct ImportReport
{
    qint64 runId = 0;
    qint64 images = 0;
    qint64 imagesMissing = 0;
    qint64 imagesCorrupt = 0;
    qint64 samples = 0;
    qint64 samplesUnparsed = 0;
    qint64 questions = 0;
    qint64 answers = 0;
    qint64 predictions = 0;
    qint64 verdicts = 0;
    // Records whose id repeats an earlier one of the same file: the first is kept.
    qint64 duplicates = 0;
    QStringList duplicateIds; // the first few
    QString summary() const;
};

class Importer
{
public:
    explicit Importer(const store::Workspace &ws, ProgressFn progress = {});

    // Records per transaction; tests lower it to exercise failures between batches.
    void setBatchSize(int n) { m_batchSize = std::max(1, n); }

    ImportReport importImageFolder(const QString &dir);
    ImportReport importBenchmark(BenchmarkFormat format, const QString &path, const BenchmarkOptions &options);
    ImportReport importConversations(const QString &path, const QString &imageRoot, const QString &task);
    ImportReport importMpaPseudoAnnotations(const QString &path, const QString &imageRoot, const QString &modelName);
    // role: "large" or "small"; when empty the model's registered role is used.
    ImportReport importMpaParityAnswers(const QString &path, const QString &imageRoot, const QString &modelName, const QString &role);
    // MPA Studio's own JSONL export, restoring answers, verdicts and review decisions.
    ImportReport importJsonl(const QString &path, const QString &imageRoot);

private:
    store::Workspace m_ws;
    ProgressFn m_progress;
    int m_batchSize = 1000;
};

// One annotation file of any supported format (what `mpa import --dataset` and the import
// dialog take).
struct AnnotationImport
{
    QString format; // textvqa stvqa chartqa vqa llava mpa-pa mpa-pi mpa-eval jsonl
    QString file;
    QString imageRoot;
    QString split;
    QString annotationsFile; // vqa
    QString datasetName;
    QString task;  // llava
    QString model; // mpa-pa, mpa-pi
    QString role;  // mpa-pi
};
QStringList annotationFormats();
ImportReport importAnnotations(const store::Workspace &ws, const AnnotationImport &request, const ProgressFn &progress = {});

} // namespace mpa::datasets
