#pragma once
// A job's run record: created (or re-opened to resume) at the start, and always closed with
// its outcome: finished, cancelled, or failed with the error. A process that dies leaves the
// run "running"; Catalog::markInterruptedRuns() turns those into "interrupted" at the next start,
// and resuming one continues with the items it has not finished.
#include "store/records.h"
#include "store/workspace.h"
#include "util/progress.h"

#include <QJsonObject>
#include <QLockFile>
#include <memory>

namespace mpa::pipeline {

struct JobSummary
{
    qint64 runId = 0;
    qint64 done = 0;    // items completed by this invocation
    qint64 skipped = 0; // items already done by an earlier invocation of the run (resume)
    qint64 failed = 0;  // items that failed (e.g. an unreadable image); the run went on
    bool cancelled = false;
    QString summary() const;
};

// A model location is a folder (native) or an http(s):// endpoint.
inline store::ModelKind modelKindFor(const QString &location)
{
    return location.startsWith(QLatin1String("http")) ? store::ModelKind::Http : store::ModelKind::Native;
}

class RunScope
{
public:
    // resumeRunId == 0: a new run with these params; otherwise that run (of the same kind) is
    // re-opened and its stored params are returned by params().
    RunScope(const store::Workspace &ws, store::RunKind kind, const QString &name, const QJsonObject &params, qint64 resumeRunId);
    ~RunScope();
    qint64 id() const { return m_id; }
    const QJsonObject &params() const { return m_params; }
    void finish(bool cancelled);
    void fail(const QString &error);

private:
    store::Workspace m_ws;
    qint64 m_id = 0;
    QJsonObject m_params;
    bool m_closed = false;
    // Held while the run executes: a run marked "running" whose lock nobody holds belongs to a
    // process that died (QLockFile recognises locks of dead processes).
    std::unique_ptr<QLockFile> m_lock;
};

// The run the last RunScope on this thread opened (0: none since forget...()): the job runner
// reads it when a job throws, so a failed job can still be resumed from the Jobs panel.
qint64 lastRunOnThisThread();
void forgetLastRunOnThisThread();

// Runs left "running" by a process that is gone become "interrupted" (they can be resumed).
// Runs another live process (or this one) is executing are left alone. Returns how many.
int recoverInterruptedRuns(const store::Workspace &ws);
QString runLockPath(const store::Workspace &ws, qint64 runId);

} // namespace mpa::pipeline
