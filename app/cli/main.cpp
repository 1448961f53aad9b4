// mpa: the headless command line over mpa_core (runs without a display, e.g. on a GPU server).
#include "backends/launch_environment.h"
#include "cli_commands.h"

#include <QCoreApplication>

int main(int argc, char *argv[])
{
    mpa::backends::ensureLaunchEnvironment(argc, argv);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mpa"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MPA_VERSION));
    return mpa::cli::run(QCoreApplication::arguments());
}
