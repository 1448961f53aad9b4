#pragma once
// Helpers shared by the `mpa` commands: output streams, usage errors, option parsing with
// --help, progress on stderr.
#include "store/workspace.h"
#include "util/progress.h"

#include <QCommandLineParser>
#include <QTextStream>

namespace mpa::cli {

QTextStream &out();
QTextStream &err();

// Thrown for command-line mistakes: exit status 2 with the message.
struct UsageError
{
    QString message;
};

ProgressFn stderrProgress();
store::Workspace openForReading(const QString &path);
// Parses `args` (the command's arguments, command name first); false when --help was shown.
bool parse(QCommandLineParser &parser, const QStringList &args, const QString &synopsis, const QString &description);
QStringList requirePositional(const QCommandLineParser &parser, int min, int max, const QString &synopsis);

} // namespace mpa::cli
