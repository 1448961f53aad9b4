#include "store/records.h"

namespace mpa::store {

QString toString(ImageStatus status)
{
    switch (status) {
    case ImageStatus::Ok: return QStringLiteral("ok");
    case ImageStatus::Missing: return QStringLiteral("missing");
    case ImageStatus::Corrupt: return QStringLiteral("corrupt");
    case ImageStatus::Unreadable: return QStringLiteral("unreadable");
    }
    return {};
}

QString toString(RunKind kind)
{
    switch (kind) {
    case RunKind::Import: return QStringLiteral("import");
    case RunKind::Annotate: return QStringLiteral("annotate");
    case RunKind::Identify: return QStringLiteral("identify");
    case RunKind::Align: return QStringLiteral("align");
    case RunKind::Evaluate: return QStringLiteral("evaluate");
    case RunKind::Export: return QStringLiteral("export");
    }
    return {};
}

QString toString(RunStatus status)
{
    switch (status) {
    case RunStatus::Queued: return QStringLiteral("queued");
    case RunStatus::Running: return QStringLiteral("running");
    case RunStatus::Finished: return QStringLiteral("finished");
    case RunStatus::Failed: return QStringLiteral("failed");
    case RunStatus::Cancelled: return QStringLiteral("cancelled");
    case RunStatus::Interrupted: return QStringLiteral("interrupted");
    }
    return {};
}

QString toString(ModelKind kind)
{
    switch (kind) {
    case ModelKind::Native: return QStringLiteral("native");
    case ModelKind::Http: return QStringLiteral("http");
    case ModelKind::Imported: return QStringLiteral("imported");
    }
    return {};
}

QString toString(ModelRole role)
{
    switch (role) {
    case ModelRole::Large: return QStringLiteral("large");
    case ModelRole::Small: return QStringLiteral("small");
    case ModelRole::Other: return QStringLiteral("other");
    }
    return {};
}

std::optional<ModelRole> modelRoleFromString(const QString &text)
{
    for (ModelRole r : {ModelRole::Large, ModelRole::Small, ModelRole::Other})
        if (toString(r) == text)
            return r;
    return std::nullopt;
}

QString toString(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Gap: return QStringLiteral("gap");
    case Outcome::BothRight: return QStringLiteral("both_right");
    case Outcome::SOnly: return QStringLiteral("s_only");
    case Outcome::BothWrong: return QStringLiteral("both_wrong");
    }
    return {};
}

std::optional<Outcome> outcomeFromString(const QString &text)
{
    for (Outcome o : {Outcome::Gap, Outcome::BothRight, Outcome::SOnly, Outcome::BothWrong})
        if (toString(o) == text)
            return o;
    return std::nullopt;
}

QString toString(Decision decision)
{
    switch (decision) {
    case Decision::Approve: return QStringLiteral("approve");
    case Decision::Reject: return QStringLiteral("reject");
    case Decision::Clear: return QStringLiteral("clear");
    }
    return {};
}

std::optional<Decision> decisionFromString(const QString &text)
{
    for (Decision d : {Decision::Approve, Decision::Reject, Decision::Clear})
        if (toString(d) == text)
            return d;
    return std::nullopt;
}

} // namespace mpa::store
