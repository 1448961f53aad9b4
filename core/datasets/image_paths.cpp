#include "datasets/image_paths.h"

#include "util/error.h"

#include <QDir>
#include <QFileInfo>

namespace mpa::datasets {

QString resolveImagePath(const QString &name, const QString &imageRoot, const QString &annotationFile)
{
    const QString cleaned = QDir::fromNativeSeparators(name);
    if (QDir::isRelativePath(cleaned)) {
        // A relative name stays inside its root: "../../etc/passwd" in a data file is refused.
        const QString base = QDir::cleanPath(QDir(imageRoot.isEmpty() ? QFileInfo(annotationFile).absolutePath() : imageRoot).absolutePath());
        const QString resolved = QDir::cleanPath(QDir(base).absoluteFilePath(cleaned));
        if (!resolved.startsWith(base + QLatin1Char('/')))
            throw Error(QStringLiteral("%1: image path \"%2\" leads outside %3").arg(annotationFile, name, base));
        return resolved;
    }
    if (imageRoot.isEmpty())
        return QDir::cleanPath(cleaned);
    // Re-based onto the root: only the path's own components, never "..".
    QStringList parts = cleaned.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    parts.removeAll(QStringLiteral(".."));
    parts.removeAll(QStringLiteral("."));
    const QDir root(imageRoot);
    for (qsizetype start = 0; start < parts.size(); ++start) {
        const QString candidate = root.absoluteFilePath(parts.mid(start).join(QLatin1Char('/')));
        if (QFileInfo::exists(candidate))
            return QDir::cleanPath(candidate);
    }
    return QDir::cleanPath(root.absoluteFilePath(parts.isEmpty() ? cleaned : parts.last()));
}

} // namespace mpa::datasets
