#pragma once
// Evaluation: a model answers an imported benchmark with the MPA prompt; each prediction is
// stored and scored with the benchmark's official metric and with MPA's substring accuracy;
// the scores are recorded as the run's metrics. Two evaluation runs can be compared
// question by question (the flip table).
#include "backends/vlm_backend.h"
#include "pipeline/run_scope.h"

#include <QList>
#include <QStringList>

namespace mpa::pipeline {

struct EvaluateParams
{
    QString dataset;
    QString split;  // empty: the dataset's only split
    QString metric; // empty: the dataset's official metric (vqa, anls, relaxed)
    int batchSize = 0;
    qint64 limit = 0;
    int maxNewTokens = 128;
    QString name;   // the run's name (empty: one from the model and the benchmark)
    QJsonObject toJson() const;
    static EvaluateParams fromJson(const QJsonObject &o);
};

// textvqa/okvqa/vqa -> vqa, stvqa -> anls, chartqa -> relaxed.
QString officialMetricFor(const QString &dataset);

struct EvaluationScores
{
    QString metric;
    double official = 0;     // mean in [0, 1]
    double mpaAccuracy = 0;
    qint64 questions = 0;
};

JobSummary runEvaluation(const store::Workspace &ws, backends::VlmBackend &model, const QString &modelDir, const EvaluateParams &params,
                         const ProgressFn &progress, qint64 resumeRunId = 0, EvaluationScores *scores = nullptr);

// Scores of an evaluation run from its stored predictions (also recorded as metrics).
EvaluationScores scoreEvaluationRun(const store::Workspace &ws, qint64 runId);

struct FlipRow
{
    qint64 itemId = 0; // benchmark_items.id
    QString questionId;
    QString change; // fixed, broken, still_right or still_wrong
    QString question;
    QStringList answers; // the references
    QString before, after; // the two runs' predictions
};

struct FlipTable
{
    qint64 fixed = 0, broken = 0, stillRight = 0, stillWrong = 0;
    QList<FlipRow> rows; // in benchmark order
};

// Before = runA, after = runB, on the questions both answered; "right" means a score of at
// least 0.5 under the official metric.
FlipTable compareEvaluationRuns(const store::Workspace &ws, qint64 runA, qint64 runB);

} // namespace mpa::pipeline
