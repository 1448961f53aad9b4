#pragma once
// `mpa demo ...`: the synthetic demo world, its teacher and student models, the whole MPA loop
// on it and the report of what MPA changed.
#include <QStringList>

namespace mpa::cli {

int cmdDemo(const QStringList &args);

} // namespace mpa::cli
