#include "datasets/mpa_results.h"

#include "datasets/image_paths.h"
#include "util/error.h"
#include "util/json_file.h"

#include <QFileInfo>

namespace mpa::datasets {

QList<PseudoAnnotation> readMpaPseudoAnnotations(const QString &path, const QString &imageRoot)
{
    const QJsonDocument doc = json::readFile(path);
    const QJsonArray data = json::arrayAt(doc, path);
    QList<PseudoAnnotation> out;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const json::Record r(data.at(i), path, i);
        PseudoAnnotation a;
        a.questionId = r.id(QStringLiteral("question_id"));
        a.imagePath = resolveImagePath(r.string(QStringLiteral("image_path")), imageRoot, path);
        if (!r.object().contains(QStringLiteral("predicted_question")))
            r.fail(QStringLiteral("field \"predicted_question\" is missing (is this a PA output file?)"));
        // The official code stores None when the output did not parse: keep it as a failure.
        a.parsed = r.has(QStringLiteral("predicted_question")) && r.has(QStringLiteral("predicted_answer"));
        a.question = r.optionalString(QStringLiteral("predicted_question"));
        a.answer = r.optionalString(QStringLiteral("predicted_answer"));
        out << a;
    }
    return out;
}

QList<ParityAnswer> readMpaParityAnswers(const QString &path, const QString &imageRoot)
{
    const QJsonDocument doc = json::readFile(path);
    const QJsonArray data = json::arrayAt(doc, path);
    QList<ParityAnswer> out;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const json::Record r(data.at(i), path, i);
        ParityAnswer a;
        a.questionId = r.id(QStringLiteral("question_id"));
        a.imagePath = resolveImagePath(r.string(QStringLiteral("image_path")), imageRoot, path);
        a.question = r.string(QStringLiteral("PA_question"));
        a.answer = r.optionalString(QStringLiteral("PA_answer"));
        if (!r.object().contains(QStringLiteral("predictions")))
            r.fail(QStringLiteral("field \"predictions\" is missing (is this a PI answer file?)"));
        a.prediction = r.optionalString(QStringLiteral("predictions"));
        out << a;
    }
    return out;
}

MpaFileName parseMpaFileName(const QString &path)
{
    // PI_<annotator>_<model>_<dataset>.json; model names contain '-' but not '_'.
    const QStringList parts = QFileInfo(path).completeBaseName().split(QLatin1Char('_'));
    MpaFileName n;
    if (parts.size() >= 4 && parts.first() == QLatin1String("PI")) {
        n.dataset = parts.last();
        n.model = parts.at(parts.size() - 2);
    } else if (parts.size() >= 2) {
        n.dataset = parts.last();
    }
    return n;
}

QString taskForMpaDataset(const QString &dataset)
{
    const QString d = dataset.toLower();
    if (d.startsWith(QLatin1String("chart")))
        return QStringLiteral("chart");
    if (d.startsWith(QLatin1String("ok")) || d.contains(QLatin1String("knowledge")))
        return QStringLiteral("knowledge");
    return QStringLiteral("text");
}

} // namespace mpa::datasets
