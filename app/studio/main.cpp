// mpa-studio: the desktop application.
//   mpa-studio [WORKSPACE] [--screenshot FILE]
// --screenshot renders the window to FILE once the workspace is shown, then exits (used by
// the run script on machines without a display and by the screenshot script).
#include "backends/launch_environment.h"
#include "main_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QScreen>
#include <QSettings>
#include <QTimer>
#include <cstdio>

int main(int argc, char *argv[])
{
    mpa::backends::ensureLaunchEnvironment(argc, argv);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("MPA Studio"));
    QApplication::setApplicationName(QStringLiteral("mpa-studio"));
    QApplication::setApplicationVersion(QStringLiteral(MPA_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("MPA Studio: align a small VLM to a large one from unlabeled images."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("workspace"), QStringLiteral("Workspace folder (.mpaw) to open."));
    parser.addOption({QStringLiteral("screenshot"), QStringLiteral("Save a PNG of the window to FILE and exit."), QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("view"), QStringLiteral("Start on this view: home, browser, images, samples, review, runs, evaluation, models."),
                      QStringLiteral("VIEW")});
    parser.addOption({QStringLiteral("compare"), QStringLiteral("Start on the Evaluation view comparing two evaluation runs (e.g. 14,18)."),
                      QStringLiteral("RUN_A,RUN_B")});
    parser.process(app);

    mpa::ui::MainWindow window;
    window.show();
    const QStringList args = parser.positionalArguments();
    const QString workspace = !args.isEmpty() ? args.first() : QSettings().value(QStringLiteral("workspace/last")).toString();
    if (!workspace.isEmpty() && !window.openWorkspace(workspace) && !args.isEmpty())
        return 1;

    if (parser.isSet(QStringLiteral("view")))
        window.showView(parser.value(QStringLiteral("view")));
    if (parser.isSet(QStringLiteral("compare"))) {
        const QStringList runs = parser.value(QStringLiteral("compare")).split(QLatin1Char(','));
        if (runs.size() != 2 || !window.compareEvaluations(runs[0].toLongLong(), runs[1].toLongLong())) {
            std::fprintf(stderr, "mpa-studio: --compare takes two evaluation runs of this workspace, e.g. 14,18\n");
            return 2;
        }
    }
    if (parser.isSet(QStringLiteral("screenshot"))) {
        const QString file = parser.value(QStringLiteral("screenshot"));
        QTimer::singleShot(1500, &window, [&window, file] { // thumbnails and charts arrive asynchronously
            const bool ok = window.grab().save(file);
            QApplication::exit(ok ? 0 : 1);
        });
    }
    return app.exec();
}
