#pragma once
// The settings `mpa demo run` gives each job, as run configurations: the demo loop builds its
// runs from them and the launchers offer them as the "Demo world" preset, so the GUI can
// reproduce the demo exactly.
#include "jobs/job_options.h"

#include <QJsonObject>

namespace mpa::demo {

QJsonObject demoRunSettings(jobs::JobKind kind);

} // namespace mpa::demo
