#include "pipeline/leveler_checkpoints.h"

#include "util/json_file.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace mpa::pipeline {

namespace {
const QString kState = QStringLiteral("trainer_state.json");
}

CheckpointRef latestCheckpoint(const QString &runDir)
{
    CheckpointRef best;
    for (const QString &d : QDir(runDir).entryList({QStringLiteral("checkpoint-*")}, QDir::Dirs, QDir::Name)) {
        const std::int64_t step = d.section(QLatin1Char('-'), 1).toLongLong();
        if (step > best.step && QFileInfo::exists(QDir(runDir).filePath(d + QLatin1Char('/') + kState)))
            best = {QDir(runDir).filePath(d), step};
    }
    return best;
}

QString checkpointDir(const QString &runDir, std::int64_t step)
{
    return QDir(runDir).filePath(QStringLiteral("checkpoint-%1").arg(step, 6, 10, QLatin1Char('0')));
}

void pruneCheckpoints(const QString &runDir, int limit)
{
    if (limit <= 0)
        return;
    QStringList dirs = QDir(runDir).entryList({QStringLiteral("checkpoint-*")}, QDir::Dirs, QDir::Name);
    while (dirs.size() > limit)
        QDir(QDir(runDir).filePath(dirs.takeFirst())).removeRecursively();
}

void writeTrainerState(const QString &checkpoint, std::int64_t step, std::int64_t totalSteps, const QJsonArray &losses)
{
    json::writeFile(QDir(checkpoint).filePath(kState),
                    QJsonDocument(QJsonObject{{QStringLiteral("step"), static_cast<qint64>(step)}, {QStringLiteral("losses"), losses},
                                              {QStringLiteral("total_steps"), static_cast<qint64>(totalSteps)}}));
}

QJsonArray readLossHistory(const QString &checkpoint)
{
    return json::readFile(QDir(checkpoint).filePath(kState)).object().value(QStringLiteral("losses")).toArray();
}

} // namespace mpa::pipeline
