#pragma once
// Plain records exchanged between the store and its callers (importers, jobs, the UI models).
#include <QString>
#include <QStringList>
#include <optional>

namespace mpa::store {

enum class ImageStatus { Ok, Missing, Corrupt, Unreadable };
QString toString(ImageStatus status);

struct ImageRecord
{
    QString path; // absolute
    ImageStatus status = ImageStatus::Ok;
    QString format;
    qint64 fileSize = -1;
    int width = 0;
    int height = 0;
    QString sha256;
    qint64 mtimeMs = 0;
    QString error;
};

enum class RunKind { Import, Annotate, Identify, Align, Evaluate, Export };
enum class RunStatus { Queued, Running, Finished, Failed, Cancelled, Interrupted };
QString toString(RunKind kind);
QString toString(RunStatus status);

enum class ModelKind { Native, Http, Imported };
enum class ModelRole { Large, Small, Other };
QString toString(ModelKind kind);
QString toString(ModelRole role);
std::optional<ModelRole> modelRoleFromString(const QString &text);

// One pseudo question-answer pair as produced by a pseudo annotator (or imported).
struct SampleRecord
{
    qint64 imageId = 0;
    QString task;
    QString question;
    QString answer;
    QString rawText;
    bool parsed = true;
    std::optional<qint64> modelId;
    std::optional<qint64> runId;
    QString source;    // where it came from, e.g. "mpa-pa:textVQA" or "llava:file.json"
    QString sourceKey; // unique within source: re-importing the same record updates, never duplicates
};

enum class Outcome { Gap, BothRight, SOnly, BothWrong };
QString toString(Outcome outcome);
std::optional<Outcome> outcomeFromString(const QString &text);

enum class Decision { Approve, Reject, Clear };
QString toString(Decision decision);
std::optional<Decision> decisionFromString(const QString &text);

struct BenchmarkItemRecord
{
    QString dataset;
    QString split;
    QString questionId;
    qint64 imageId = 0;
    QString question;
    QStringList answers;
};

} // namespace mpa::store
