#include "backends/model_identity.h"

#include "util/json_file.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace mpa::backends {

QString modelDisplayName(const QString &location)
{
    if (location.startsWith(QLatin1String("http://")) || location.startsWith(QLatin1String("https://")))
        return location;
    const QString folder = QFileInfo(QDir::cleanPath(location)).fileName();
    const QString record = QDir(location).filePath(QLatin1String(kCheckpointRecordFile));
    if (!QFileInfo(record).isFile())
        return folder;
    try {
        const QJsonObject o = json::readFile(record).object();
        const QString run = o.value(QStringLiteral("run_name")).toString().trimmed();
        if (run.isEmpty())
            return folder;
        return QStringLiteral("%1 (run %2, step %3)").arg(run).arg(o.value(QStringLiteral("run_id")).toInteger()).arg(o.value(QStringLiteral("step")).toInteger());
    } catch (...) {
        return folder; // a damaged record never stops a model from loading
    }
}

void writeCheckpointRecord(const QString &checkpointDir, qint64 runId, const QString &runName, qint64 step)
{
    json::writeFile(QDir(checkpointDir).filePath(QLatin1String(kCheckpointRecordFile)),
                    QJsonDocument(QJsonObject{{QStringLiteral("run_id"), runId}, {QStringLiteral("run_name"), runName}, {QStringLiteral("step"), step}}));
}

} // namespace mpa::backends
