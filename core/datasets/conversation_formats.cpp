#include "datasets/conversation_formats.h"

#include "datasets/image_paths.h"
#include "util/error.h"
#include "util/json_file.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>

namespace mpa::datasets {

QString stripImageMarker(const QString &text)
{
    QString t = text;
    t.remove(QStringLiteral("<image>\n"));
    t.remove(QStringLiteral("<image>"));
    return t.trimmed();
}

QString relativeImagePath(const QString &imagePath, const QString &imageRoot)
{
    if (imageRoot.isEmpty())
        return imagePath;
    const QString rel = QDir(imageRoot).relativeFilePath(imagePath);
    return rel.startsWith(QLatin1String("../")) ? imagePath : rel;
}

QList<QaPair> readLlava(const QString &path, const QString &imageRoot)
{
    const QJsonDocument doc = json::readFile(path);
    const QJsonArray records = json::arrayAt(doc, path);
    QList<QaPair> out;
    for (qsizetype i = 0; i < records.size(); ++i) {
        const json::Record r(records.at(i), path, i);
        const QString id = r.has(QStringLiteral("id")) ? r.id(QStringLiteral("id")) : QString::number(i);
        QString image;
        const QJsonValue imageValue = r.object().value(QStringLiteral("image"));
        if (imageValue.isString()) {
            image = imageValue.toString();
        } else if (imageValue.isArray()) {
            const QStringList images = r.stringList(QStringLiteral("image"));
            if (images.size() != 1)
                r.fail(QStringLiteral("has %1 images; MPA samples have exactly one").arg(images.size()));
            image = images.first();
        } else {
            r.fail(imageValue.isUndefined() ? QStringLiteral("field \"image\" is missing (text-only records are not VQA samples)")
                                            : QStringLiteral("field \"image\" must be a string or a list of one string"));
        }
        const QJsonArray turns = r.array(QStringLiteral("conversations"));
        const QString resolved = resolveImagePath(image, imageRoot, path);
        int pairIndex = 0;
        for (qsizetype t = 0; t < turns.size(); t += 2) {
            const json::Record human(turns.at(t), path + QStringLiteral(" record %1 turn").arg(i + 1), t);
            if (t + 1 >= turns.size())
                r.fail(QStringLiteral("turn %1 has no answer after it").arg(t + 1));
            const json::Record gpt(turns.at(t + 1), path + QStringLiteral(" record %1 turn").arg(i + 1), t + 1);
            if (human.string(QStringLiteral("from")) != QLatin1String("human") || gpt.string(QStringLiteral("from")) != QLatin1String("gpt"))
                r.fail(QStringLiteral("turns %1-%2 are not a human/gpt pair").arg(t + 1).arg(t + 2));
            QaPair p;
            p.id = pairIndex == 0 ? id : QStringLiteral("%1#%2").arg(id).arg(pairIndex);
            p.imagePath = resolved;
            p.question = stripImageMarker(human.string(QStringLiteral("value")));
            p.answer = gpt.string(QStringLiteral("value"));
            out << p;
            ++pairIndex;
        }
        if (turns.isEmpty())
            r.fail(QStringLiteral("has no conversation turns"));
    }
    return out;
}

void writeLlava(const QString &path, const QList<QaPair> &pairs, const QString &imageRoot)
{
    QJsonArray records;
    for (const QaPair &p : pairs) {
        records.append(QJsonObject{
            {QStringLiteral("id"), p.id},
            {QStringLiteral("image"), relativeImagePath(p.imagePath, imageRoot)},
            {QStringLiteral("conversations"), QJsonArray{
                QJsonObject{{QStringLiteral("from"), QStringLiteral("human")}, {QStringLiteral("value"), QString(QStringLiteral("<image>\n") + p.question)}},
                QJsonObject{{QStringLiteral("from"), QStringLiteral("gpt")}, {QStringLiteral("value"), p.answer}},
            }},
        });
    }
    json::writeFile(path, QJsonDocument(records));
}

void writeShareGpt(const QString &path, const QList<QaPair> &pairs, const QString &imageRoot, const QString &datasetName)
{
    QJsonArray records;
    for (const QaPair &p : pairs) {
        records.append(QJsonObject{
            {QStringLiteral("conversations"), QJsonArray{
                QJsonObject{{QStringLiteral("from"), QStringLiteral("human")}, {QStringLiteral("value"), QString(QStringLiteral("<image>") + p.question)}},
                QJsonObject{{QStringLiteral("from"), QStringLiteral("gpt")}, {QStringLiteral("value"), p.answer}},
            }},
            {QStringLiteral("images"), QJsonArray{relativeImagePath(p.imagePath, imageRoot)}},
        });
    }
    json::writeFile(path, QJsonDocument(records));
    // LLaMA-Factory finds datasets through dataset_info.json in its dataset_dir.
    const QString infoPath = QFileInfo(path).absoluteDir().filePath(QStringLiteral("dataset_info.json"));
    QJsonObject info;
    if (QFileInfo::exists(infoPath)) {
        const QJsonDocument existing = json::readFile(infoPath);
        if (!existing.isObject())
            throw Error(QStringLiteral("%1: exists but is not a JSON object; not overwriting it").arg(infoPath));
        info = existing.object();
    }
    info.insert(datasetName, QJsonObject{
        {QStringLiteral("file_name"), QFileInfo(path).fileName()},
        {QStringLiteral("formatting"), QStringLiteral("sharegpt")},
        {QStringLiteral("columns"), QJsonObject{{QStringLiteral("messages"), QStringLiteral("conversations")},
                                                {QStringLiteral("images"), QStringLiteral("images")}}},
    });
    json::writeFile(infoPath, QJsonDocument(info));
}

} // namespace mpa::datasets
