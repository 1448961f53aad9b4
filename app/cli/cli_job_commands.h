#pragma once
// `mpa annotate`, `mpa identify`, `mpa evaluate`: the MPA jobs from the shell.
#include <QStringList>

namespace mpa::cli {

int cmdAnnotate(const QStringList &args);
int cmdIdentify(const QStringList &args);
int cmdEvaluate(const QStringList &args);
int cmdAlign(const QStringList &args);

} // namespace mpa::cli
