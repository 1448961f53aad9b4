#pragma once
#include <QStringList>

namespace mpa::cli {

// Runs `mpa <command> ...` and returns the process exit code: 0 success, 1 failure (one line
// on stderr naming the input and the problem), 2 usage error.
int run(const QStringList &arguments);

} // namespace mpa::cli
