#include "datasets/image_paths.h"

#include <QDir>
#include <QFileInfo>

namespace mpa::datasets {

QString resolveImagePath(const QString &name, const QString &imageRoot, const QString &annotationFile)
{
    const QString cleaned = QDir::fromNativeSeparators(name);
    if (QDir::isRelativePath(cleaned)) {
        const QString base = imageRoot.isEmpty() ? QFileInfo(annotationFile).absolutePath() : imageRoot;
        return QDir::cleanPath(QDir(base).absoluteFilePath(cleaned));
    }
    if (imageRoot.isEmpty())
        return QDir::cleanPath(cleaned);
    const QStringList parts = cleaned.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    const QDir root(imageRoot);
    for (qsizetype start = 0; start < parts.size(); ++start) {
        const QString candidate = root.absoluteFilePath(parts.mid(start).join(QLatin1Char('/')));
        if (QFileInfo::exists(candidate))
            return QDir::cleanPath(candidate);
    }
    return QDir::cleanPath(root.absoluteFilePath(parts.isEmpty() ? cleaned : parts.last()));
}

} // namespace mpa::datasets
