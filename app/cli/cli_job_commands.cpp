#include "cli_job_commands.h"

#include "cli_common.h"
#include "jobs/configured_job.h"
#include "jobs/job_options.h"
#include "pipeline/evaluator.h"
#include "util/error.h"
#include "util/json_file.h"

#include <QJsonDocument>

namespace mpa::cli {

namespace {

using jobs::JobKind;

// The command's options are the job's settings (jobs/job_options.h, shared with the desktop's
// launchers) plus --config / --save-config / --resume.
void addJobOptions(QCommandLineParser &parser, JobKind kind)
{
    const QJsonObject defaults = jobs::runConfiguration(kind, {});
    for (const jobs::JobOption &o : jobs::jobOptions(kind)) {
        QString help = o.help;
        if (const QString def = jobs::optionText(o, defaults); !def.isEmpty() && o.type != jobs::OptionType::Model)
            help += QStringLiteral(" [default: %1]").arg(def);
        parser.addOption({o.flag, help, o.valueName});
    }
    parser.addOptions({
        {QStringLiteral("config"), QStringLiteral("Read the run's settings from FILE (a --save-config output or the desktop's Save); flags override."),
         QStringLiteral("FILE")},
        {QStringLiteral("save-config"), QStringLiteral("Write the run's settings to FILE and exit."), QStringLiteral("FILE")},
        {QStringLiteral("resume"), QStringLiteral("Continue run RUN (cancelled, failed, interrupted) where it stopped."), QStringLiteral("RUN")},
    });
}

// Flags over the --config file over the defaults; a bad value is a usage error naming the flag.
QJsonObject configurationFrom(const QCommandLineParser &parser, JobKind kind)
{
    const QJsonObject base = parser.isSet(QStringLiteral("config")) ? json::readFile(parser.value(QStringLiteral("config"))).object() : QJsonObject();
    try {
        return jobs::runConfiguration(kind, [&](const QString &flag) -> std::optional<QString> {
            return parser.isSet(flag) ? std::optional<QString>(parser.value(flag)) : std::nullopt;
        }, base);
    } catch (const Error &e) {
        throw UsageError{e.message()};
    }
}

bool saveConfigIfAsked(const QCommandLineParser &parser, const QJsonObject &settings)
{
    if (!parser.isSet(QStringLiteral("save-config")))
        return false;
    json::writeFile(parser.value(QStringLiteral("save-config")), QJsonDocument(settings));
    out() << "wrote " << parser.value(QStringLiteral("save-config")) << '\n';
    return true;
}

// Exit status: 0 when the job did its work, 1 when cancelled, 3 when every item it tried
// failed (an endpoint down, every image unreadable): a script must not take that for success.
int finish(const store::Workspace &ws, const pipeline::JobSummary &s)
{
    out() << s.summary() << '\n';
    if (const QString what = jobs::describeFinishedRun(ws, s.runId); !what.isEmpty())
        out() << what << '\n';
    if (s.cancelled)
        return 1;
    if (s.failed > 0 && s.failed >= s.done) {
        err() << "every item failed (" << s.failed << "); the run can be resumed with --resume " << s.runId << " once the cause is fixed\n";
        return 3;
    }
    return 0;
}

// The shared body of the four job commands.
int runJobCommand(const QStringList &args, JobKind kind, const QString &synopsis, const QString &description, const QStringList &required)
{
    QCommandLineParser parser;
    addJobOptions(parser, kind);
    if (!parse(parser, args, synopsis, description))
        return 0;
    const QStringList p = requirePositional(parser, 1, 1, synopsis);
    const QJsonObject config = configurationFrom(parser, kind);
    if (saveConfigIfAsked(parser, config))
        return 0;
    const qint64 resume = parser.value(QStringLiteral("resume")).toLongLong();
    if (resume == 0) {
        QStringList needed;
        for (const QString &flag : required)
            needed << QStringLiteral("--%1 %2").arg(flag, jobs::findJobOption(kind, flag)->valueName);
        for (const QString &flag : required)
            if (config.value(jobs::findJobOption(kind, flag)->key).toString().isEmpty())
                throw UsageError{QStringLiteral("%1 %2 required").arg(needed.join(QStringLiteral(" and ")), needed.size() > 1 ? QStringLiteral("are") : QStringLiteral("is"))};
    }
    const store::Workspace ws = store::Workspace::open(p.first());
    jobs::JobResults results;
    const pipeline::JobSummary s = jobs::runConfiguredJob(ws, kind, config, resume, stderrProgress(), &results);
    if (kind == JobKind::Align)
        out() << QStringLiteral("model: %1\n").arg(results.align.finalModelDir);
    return finish(ws, s);
}

} // namespace

int cmdAnnotate(const QStringList &args)
{
    return runJobCommand(args, JobKind::Annotate, QStringLiteral("annotate WS --model DIR [--task text|chart|knowledge] [options]"),
                         QStringLiteral("Pseudo Annotator: the large model writes question-answer pairs for the workspace's images with the task's "
                                        "prompt (editable per workspace). Outputs that do not parse are kept with their raw text."),
                         {QStringLiteral("model")});
}

int cmdIdentify(const QStringList &args)
{
    return runJobCommand(args, JobKind::Identify, QStringLiteral("identify WS --large DIR --small DIR [--criterion mpa|vqa|anls|relaxed] [options]"),
                         QStringLiteral("Parity Identifier: both models answer every parsed pseudo question (the large one first, then the small "
                                        "one); each sample gets its outcome: knowledge gap, both right, only the small model right, or both wrong."),
                         {QStringLiteral("large"), QStringLiteral("small")});
}

int cmdAlign(const QStringList &args)
{
    return runJobCommand(args, JobKind::Align, QStringLiteral("align WS --model DIR [--select approved-gaps|gaps|all|random] [--method full|lora] [options]"),
                         QStringLiteral("Parity Leveler: fine-tune the small model on the selected samples (answer tokens only). Checkpoints are "
                                        "complete Hugging Face folders under WS/runs/run-N/, named after the run."),
                         {QStringLiteral("model")});
}

int cmdEvaluate(const QStringList &args)
{
    // --compare is a report over two finished runs, not a run: handled before the job's options.
    if (args.contains(QStringLiteral("--compare"))) {
        QCommandLineParser parser;
        parser.addOption({QStringLiteral("compare"), QStringLiteral("Compare two evaluation runs question by question."), QStringLiteral("RUN_A")});
        const QString synopsis = QStringLiteral("evaluate WS --compare RUN_A RUN_B");
        if (!parse(parser, args, synopsis, QStringLiteral("The flip table between two evaluation runs (fixed, broken, still right, still wrong).")))
            return 0;
        const QStringList p = requirePositional(parser, 2, 2, synopsis);
        const store::Workspace ws = openForReading(p.first());
        const pipeline::FlipTable t = pipeline::compareEvaluationRuns(ws, parser.value(QStringLiteral("compare")).toLongLong(), p.at(1).toLongLong());
        out() << QStringLiteral("fixed: %1\nbroken: %2\nstill right: %3\nstill wrong: %4\n").arg(t.fixed).arg(t.broken).arg(t.stillRight).arg(t.stillWrong);
        return 0;
    }
    return runJobCommand(args, JobKind::Evaluate, QStringLiteral("evaluate WS --model DIR --dataset NAME [--split S] [options]  |  evaluate WS --compare RUN_A RUN_B"),
                         QStringLiteral("Evaluate a model on an imported benchmark with the MPA prompt: its official metric and MPA's substring "
                                        "accuracy; predictions are stored. --compare RUN_A RUN_B prints the flip table between two runs."),
                         {QStringLiteral("model"), QStringLiteral("dataset")});
}

} // namespace mpa::cli
