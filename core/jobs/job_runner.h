#pragma once
// Runs MPA jobs one after another on a background worker thread (the GUI thread never waits
// on model work). Each job gets this thread's own database connection, reports progress with
// an ETA, and is cancelled at its next batch boundary. Jobs persist their own results as they
// go (see pipeline/run_scope.h), so a crash loses at most the batch in flight.
#include "pipeline/run_scope.h"
#include "store/workspace.h"

#include <QMutex>
#include <QObject>
#include <QQueue>
#include <QThread>
#include <atomic>
#include <functional>
#include <memory>

namespace mpa::jobs {

class JobRunner : public QObject
{
    Q_OBJECT
public:
    // A job does its work with the progress callback (false = cancel) and returns its summary.
    using JobFn = std::function<pipeline::JobSummary(const store::Workspace &ws, const ProgressFn &progress)>;

    explicit JobRunner(const store::Workspace &ws, QObject *parent = nullptr);
    ~JobRunner() override; // cancels what runs and waits for the worker

    // Job ids are unique for the life of the process (across runners: reopening a workspace
    // makes a new runner, and its first job must not reuse #1).
    int enqueue(const QString &title, JobFn job);
    void cancel(int jobId);
    void cancelAll();
    bool isIdle() const;
    int queuedCount() const;

Q_SIGNALS:
    void jobStarted(int jobId, const QString &title);
    void progress(int jobId, qint64 done, qint64 total, const QString &phase, double etaSeconds);
    // runId: the workspace run the job wrote (0 when it made none), so it can be resumed.
    void jobFinished(int jobId, bool ok, bool cancelled, const QString &message, qint64 runId);
    void idle();

private:
    struct Job
    {
        int id;
        QString title;
        JobFn fn;
        std::shared_ptr<std::atomic_bool> cancelled;
    };
    void workerLoop();

    store::Workspace m_ws;
    mutable QMutex m_mutex;
    QQueue<Job> m_queue;
    std::shared_ptr<std::atomic_bool> m_current;
    int m_currentId = 0;
    bool m_stopping = false;
    QThread *m_worker = nullptr;
};

} // namespace mpa::jobs
