#include "cli_common.h"

#include "util/error.h"

#include <QElapsedTimer>
#include <cstdio>
#include <memory>
#include <unistd.h>

namespace mpa::cli {

QTextStream &out()
{
    static QTextStream s(stdout);
    return s;
}
QTextStream &err()
{
    static QTextStream s(stderr);
    return s;
}


// A progress line on stderr: rewritten in place on a terminal, every 10% otherwise.
ProgressFn stderrProgress()
{
    const bool tty = isatty(fileno(stderr));
    auto lastDecile = std::make_shared<qint64>(-1);
    auto lastWhat = std::make_shared<QString>();
    auto timer = std::make_shared<QElapsedTimer>();
    timer->start();
    return [tty, lastDecile, lastWhat, timer](qint64 done, qint64 total, const QString &what) {
        if (total <= 0)
            return true;
        if (what != *lastWhat) {
            *lastWhat = what;
            *lastDecile = -1;
        }
        const qint64 decile = done * 10 / total;
        if (tty) {
            err() << QStringLiteral("\r%1: %2/%3").arg(what).arg(done).arg(total);
            if (done == total)
                err() << '\n';
            err().flush();
        } else if (decile != *lastDecile) {
            *lastDecile = decile;
            err() << QStringLiteral("%1: %2/%3 (%4 s)\n").arg(what).arg(done).arg(total).arg(timer->elapsed() / 1000.0, 0, 'f', 1);
            err().flush();
        }
        return true;
    };
}

// Read-only commands open read-write when they may (so an older workspace is migrated
// rather than refused) and fall back to read-only on a write-protected workspace.
store::Workspace openForReading(const QString &path)
{
    try {
        return store::Workspace::open(path);
    } catch (const Error &e) {
        if (!e.message().contains(QLatin1String("read-only")))
            throw;
        return store::Workspace::open(path, store::OpenMode::ReadOnly);
    }
}

// Parses `args` (the command's arguments, command name first) with `parser`; handles --help.
bool parse(QCommandLineParser &parser, const QStringList &args, const QString &synopsis, const QString &description)
{
    parser.setApplicationDescription(description);
    parser.addHelpOption();
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    if (!parser.parse(args))
        throw UsageError{parser.errorText()};
    if (parser.isSet(QStringLiteral("help"))) {
        out() << "usage: mpa " << synopsis << "\n\n" << description << "\n\n";
        QString help = parser.helpText();
        // Drop Qt's own "Usage:" line and its copy of the description; ours are above.
        const qsizetype options = help.indexOf(QLatin1String("\nOptions:"));
        help = options >= 0 ? help.mid(options + 1) : help.section(QLatin1Char('\n'), 1);
        out() << help;
        out().flush();
        return false;
    }
    return true;
}

QStringList requirePositional(const QCommandLineParser &parser, int min, int max, const QString &synopsis)
{
    const QStringList p = parser.positionalArguments();
    if (p.size() < min || p.size() > max)
        throw UsageError{QStringLiteral("expected: mpa %1").arg(synopsis)};
    return p;
}

} // namespace mpa::cli
