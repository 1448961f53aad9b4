#include "pipeline/run_scope.h"

#include "store/rows.h"

#include "store/catalog.h"
#include "store/sql_util.h"
#include "util/error.h"

#include <QDir>
#include <QJsonDocument>

namespace mpa::pipeline {

namespace {
thread_local qint64 t_lastRunOnThisThread = 0;
}

qint64 lastRunOnThisThread()
{
    return t_lastRunOnThisThread;
}

void forgetLastRunOnThisThread()
{
    t_lastRunOnThisThread = 0;
}

QString JobSummary::summary() const
{
    return QStringLiteral("run %1: %2 done, %3 already done before, %4 failed%5")
        .arg(runId).arg(done).arg(skipped).arg(failed).arg(cancelled ? QStringLiteral(" (cancelled; resume with --resume %1)").arg(runId) : QString());
}

RunScope::RunScope(const store::Workspace &ws, store::RunKind kind, const QString &name, const QJsonObject &params, qint64 resumeRunId)
    : m_ws(ws)
    , m_params(params)
{
    ws.requireWritable(QStringLiteral("start a run"));
    store::Catalog catalog(ws);
    auto takeLock = [&] {
        m_lock = std::make_unique<QLockFile>(runLockPath(ws, m_id));
        m_lock->setStaleLockTime(0); // never guess by age; only a dead owner makes it stale
        if (!m_lock->tryLock(0))
            throw Error(QStringLiteral("%1: run %2 is being executed by another process").arg(ws.root()).arg(m_id));
    };
    if (resumeRunId == 0) {
        // A name the user gave (the `name` setting) wins over the job's generated one.
        const QString given = params.value(QStringLiteral("name")).toString().trimmed();
        m_id = catalog.createRun(kind, given.isEmpty() ? name : given, params);
        t_lastRunOnThisThread = m_id;
        takeLock();
        return;
    }
    QSqlDatabase db = ws.connection();
    // Read and finished before the UPDATE below: a statement left open would pin this
    // connection's snapshot and make that write fail as busy (see store/rows.h).
    const store::Rows run = store::readRows(db, QStringLiteral("SELECT kind, status, params FROM runs WHERE id = ?"), {resumeRunId});
    if (run.isEmpty())
        throw Error(QStringLiteral("%1: run %2 does not exist").arg(ws.root()).arg(resumeRunId));
    if (run.at(0, 0).toString() != store::toString(kind))
        throw Error(QStringLiteral("%1: run %2 is a %3 run, not %4").arg(ws.root()).arg(resumeRunId).arg(run.at(0, 0).toString(), store::toString(kind)));
    if (run.at(0, 1).toString() == QLatin1String("finished"))
        throw Error(QStringLiteral("%1: run %2 already finished; nothing to resume").arg(ws.root()).arg(resumeRunId));
    m_id = resumeRunId;
    t_lastRunOnThisThread = m_id;
    takeLock();
    m_params = QJsonDocument::fromJson(run.at(0, 2).toString().toUtf8()).object();
    store::exec(db, QStringLiteral("UPDATE runs SET status = 'running', error = NULL, finished_at = NULL WHERE id = ?"), {m_id});
}

RunScope::~RunScope()
{
    if (!m_closed) {
        try {
            fail(QStringLiteral("the job stopped unexpectedly"));
        } catch (...) {
        }
    }
}

void RunScope::finish(bool cancelled)
{
    store::Catalog(m_ws).finishRun(m_id, cancelled ? store::RunStatus::Cancelled : store::RunStatus::Finished);
    m_closed = true;
}

void RunScope::fail(const QString &error)
{
    m_closed = true;
    store::Catalog(m_ws).finishRun(m_id, store::RunStatus::Failed, error);
}

QString runLockPath(const store::Workspace &ws, qint64 runId)
{
    return QDir(ws.runsDir()).filePath(QStringLiteral("run-%1.lock").arg(runId));
}

int recoverInterruptedRuns(const store::Workspace &ws)
{
    if (ws.isReadOnly())
        return 0;
    QSqlDatabase db = ws.connection();
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT id FROM runs WHERE status = 'running'"));
    QList<qint64> dead;
    while (q.next()) {
        QLockFile lock(runLockPath(ws, q.value(0).toLongLong()));
        lock.setStaleLockTime(0);
        if (lock.tryLock(0)) { // nobody alive holds it
            dead << q.value(0).toLongLong();
            lock.unlock();
        }
    }
    for (qint64 id : dead)
        store::exec(db, QStringLiteral("UPDATE runs SET status = 'interrupted', finished_at = ?, error = ? WHERE id = ? AND status = 'running'"),
                    {store::nowMs(), QStringLiteral("the process running it stopped (crash, kill or power loss); resume it"), id});
    return static_cast<int>(dead.size());
}

} // namespace mpa::pipeline
