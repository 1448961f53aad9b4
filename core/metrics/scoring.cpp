#include "metrics/scoring.h"

#include "metrics/anls.h"
#include "metrics/mpa_match.h"
#include "metrics/relaxed_accuracy.h"
#include "metrics/vqa_accuracy.h"
#include "util/error.h"
#include "util/json_file.h"

namespace mpa::metrics {

std::optional<Metric> metricFromString(const QString &t)
{
    if (t == QLatin1String("vqa"))
        return Metric::VqaAccuracy;
    if (t == QLatin1String("anls"))
        return Metric::Anls;
    if (t == QLatin1String("relaxed"))
        return Metric::RelaxedAccuracy;
    if (t == QLatin1String("mpa"))
        return Metric::MpaSubstring;
    return std::nullopt;
}

QString metricName(Metric m)
{
    switch (m) {
    case Metric::VqaAccuracy: return QStringLiteral("VQA accuracy");
    case Metric::Anls: return QStringLiteral("ANLS");
    case Metric::RelaxedAccuracy: return QStringLiteral("relaxed accuracy");
    case Metric::MpaSubstring: return QStringLiteral("MPA substring accuracy");
    }
    return {};
}

double scoreOne(Metric metric, const QString &prediction, const QStringList &answers)
{
    switch (metric) {
    case Metric::VqaAccuracy: return vqaAccuracy(prediction, answers);
    case Metric::Anls: return anls(prediction, answers);
    case Metric::RelaxedAccuracy: {
        // ChartQA has one label; with several, any may match.
        for (const QString &a : answers)
            if (relaxedCorrect(prediction, a))
                return 1.0;
        return 0.0;
    }
    case Metric::MpaSubstring: return answers.isEmpty() ? 0.0 : (mpaMatch(majorityAnswer(answers), prediction) ? 1.0 : 0.0);
    }
    return 0.0;
}

ScoreReport scorePredictions(Metric metric, const QHash<QString, QString> &predictions, const datasets::BenchmarkSet &truth,
                             const QString &predictionsFile)
{
    QHash<QString, const datasets::BenchmarkEntry *> byId;
    for (const auto &e : truth.entries)
        byId.insert(e.questionId, &e);
    for (auto it = predictions.cbegin(); it != predictions.cend(); ++it)
        if (!byId.contains(it.key()))
            throw Error(QStringLiteral("%1: question %2 is not in the annotations").arg(predictionsFile, it.key()));
    ScoreReport r;
    double sum = 0.0;
    for (const auto &e : truth.entries) {
        auto p = predictions.constFind(e.questionId);
        if (p == predictions.cend()) {
            ++r.unanswered;
            continue;
        }
        const double s = scoreOne(metric, *p, e.answers);
        r.perQuestion.insert(e.questionId, s);
        sum += s;
        ++r.scored;
    }
    r.mean = r.scored ? sum / static_cast<double>(r.scored) : 0.0;
    return r;
}

QHash<QString, QString> readPredictionsFile(const QString &path)
{
    const QJsonDocument doc = json::readFile(path);
    const QJsonArray data = json::arrayAt(doc, path);
    QHash<QString, QString> out;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const json::Record r(data.at(i), path, i);
        QString id;
        if (r.object().contains(QStringLiteral("question_id")))
            id = r.id(QStringLiteral("question_id"));
        else if (r.object().contains(QStringLiteral("questionId")))
            id = r.id(QStringLiteral("questionId"));
        else
            r.fail(QStringLiteral("field \"question_id\" is missing"));
        QString answer;
        if (r.object().contains(QStringLiteral("answer")))
            answer = r.optionalString(QStringLiteral("answer"));
        else if (r.object().contains(QStringLiteral("predictions")))
            answer = r.optionalString(QStringLiteral("predictions"));
        else
            r.fail(QStringLiteral("field \"answer\" is missing"));
        if (out.contains(id))
            r.fail(QStringLiteral("question %1 is predicted twice").arg(id));
        out.insert(id, answer);
    }
    return out;
}

} // namespace mpa::metrics
