#pragma once
#include <QString>

namespace mpa::datasets {

// Where an image named in an annotation file lives on this machine.
// - relative path: under imageRoot, or else next to the annotation file;
// - absolute path with an imageRoot (files from another machine, e.g. the MPA scripts'
//   /workspace/data/...): the longest tail of the path that exists under imageRoot, or
//   imageRoot/<file name> when none does (it is then recorded as missing).
QString resolveImagePath(const QString &name, const QString &imageRoot, const QString &annotationFile);

} // namespace mpa::datasets
