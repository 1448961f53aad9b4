#pragma once
// `mpa inspect-model`, `mpa tokenize`, `mpa generate`: the native VLM runtime from the shell.
#include <QStringList>

namespace mpa::cli {

int cmdInspectModel(const QStringList &args);
int cmdTokenize(const QStringList &args);
int cmdGenerate(const QStringList &args);
int cmdServe(const QStringList &args);
int cmdCreateRandomModel(const QStringList &args);
int cmdConvertModel(const QStringList &args);

} // namespace mpa::cli
