#pragma once
// Every setting of the four MPA jobs (annotate, identify, align, evaluate), described once: the
// command-line flag, the run-configuration key (what `--config` files and the runs table hold),
// the type, default, valid range or choices, and a one-line help. `mpa <kind>` builds its
// parser from this list and the desktop builds its launchers from it, so neither can offer an
// option the other lacks (test_launcher_parity checks both against `mpa <kind> --help`).
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace mpa::jobs {

enum class JobKind { Annotate, Identify, Align, Evaluate };

QString jobKindName(JobKind kind); // "annotate", "identify", "align", "evaluate"
std::optional<JobKind> jobKindFromName(const QString &name);
QList<JobKind> allJobKinds();

enum class OptionType {
    Model,   // a model folder or an http(s):// endpoint
    Text,    // free text (a GLOB, a source name)
    Choice,  // one of `choices` ("" allowed when it is among them)
    Integer, // within [minimum, maximum]
    Number,  // within [minimum, maximum]
    Pixels,  // an image budget in pixels, or "model" (stored as 0): the model's preprocessor_config.json
    List,    // comma-separated names (stored as a JSON array)
    FlagSet, // comma-separated names among `choices`, each stored as key + name = true
    Device,  // cpu, cuda or cuda:N
};

struct JobOption
{
    QString flag;      // without the leading "--"
    QString key;       // in the run configuration
    OptionType type = OptionType::Text;
    QString label;     // the launcher's label
    QString help;      // one line, for --help and the launcher's tooltip
    QString valueName; // --help's placeholder (DIR, N, X)
    QJsonValue defaultValue; // every option has one ("" for text and models)
    double minimum = 0, maximum = 0;
    QStringList choices;
    bool advanced = false; // the launcher's "Advanced" section
    QString modelRole;     // Model options: "large", "small" or "" (any)
};

// The settings of `kind`, in the order the launcher shows them.
const QList<JobOption> &jobOptions(JobKind kind);
const JobOption *findJobOption(JobKind kind, const QString &flag);

// Options every job command has that are not settings of the run: --config FILE (the
// launcher's "Load…"), --save-config FILE ("Save…") and --resume RUN (the Runs view's Resume).
QStringList jobMetaFlags();

// The run configuration for `kind`: `base` (a --config file, a preset, or {}) with the options'
// defaults for keys it lacks, then every value `given` returns for a flag (the text as typed)
// validated and converted. A bad value throws mpa::Error naming the flag, the value and what
// is accepted.
QJsonObject runConfiguration(JobKind kind, const std::function<std::optional<QString>(const QString &flag)> &given,
                             const QJsonObject &base = {});

// A stored configuration value shown as an option's text (the reverse of the conversion).
QString optionText(const JobOption &option, const QJsonObject &config);

// The settings that tell runs apart, in words: "align approved-gaps · lr 3e-4 × 20 ·
// instructed". The run's default name (the `name` option overrides it). Reads an aligned
// checkpoint's mpa_run.json to name it: call it off the GUI thread.
QString defaultRunName(JobKind kind, const QJsonObject &config);

// Presets: named configurations the launcher offers. "Paper defaults" are the options' defaults
// (the paper's settings); "Demo world" is exactly what `mpa demo run` uses (demo/demo_loop
// builds its runs from the same objects).
struct JobPreset
{
    QString name;
    QJsonObject settings; // applied over the defaults
};
QList<JobPreset> jobPresets(JobKind kind);

} // namespace mpa::jobs
