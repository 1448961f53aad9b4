#pragma once
// Scores a set of predictions against a benchmark's answers with one metric.
#include "datasets/benchmark_formats.h"

#include <QHash>
#include <QString>

namespace mpa::metrics {

enum class Metric { VqaAccuracy, Anls, RelaxedAccuracy, MpaSubstring };
std::optional<Metric> metricFromString(const QString &text);
QString metricName(Metric metric);

struct ScoreReport
{
    double mean = 0.0; // in [0, 1]
    qint64 scored = 0;
    qint64 unanswered = 0; // annotated questions without a prediction (not scored)
    QHash<QString, double> perQuestion;
};

double scoreOne(Metric metric, const QString &prediction, const QStringList &answers);

// Predictions keyed by question id. A prediction for a question the annotations do not
// have is an error (as in the official evaluator); questions without a prediction are
// counted in `unanswered` and left out of the mean.
ScoreReport scorePredictions(Metric metric, const QHash<QString, QString> &predictions, const datasets::BenchmarkSet &truth,
                             const QString &predictionsFile);

// VQA results `[{"question_id","answer"}]`, ST-VQA/RRC `[{"questionId","answer"}]` or an MPA
// evaluation file (`predictions` field).
QHash<QString, QString> readPredictionsFile(const QString &path);

} // namespace mpa::metrics
