#include "jobs/job_runner.h"

#include "jobs/configured_job.h"

#include "util/error.h"

#include <QElapsedTimer>
#include <QWaitCondition>

namespace mpa::jobs {

namespace {
QWaitCondition &wakeUp()
{
    static QWaitCondition c;
    return c;
}

std::atomic<int> g_nextJobId{1};
} // namespace

JobRunner::JobRunner(const store::Workspace &ws, QObject *parent)
    : QObject(parent)
    , m_ws(ws)
{
    m_worker = QThread::create([this] { workerLoop(); });
    m_worker->setObjectName(QStringLiteral("mpa-jobs"));
    m_worker->start();
}

JobRunner::~JobRunner()
{
    {
        QMutexLocker lock(&m_mutex);
        m_stopping = true;
        m_queue.clear();
        if (m_current)
            *m_current = true;
    }
    wakeUp().wakeAll();
    m_worker->wait();
    delete m_worker;
}

int JobRunner::enqueue(const QString &title, JobFn job)
{
    QMutexLocker lock(&m_mutex);
    const int id = g_nextJobId++;
    m_queue.enqueue({id, title, std::move(job), std::make_shared<std::atomic_bool>(false)});
    wakeUp().wakeAll();
    return id;
}

void JobRunner::cancel(int jobId)
{
    QMutexLocker lock(&m_mutex);
    if (jobId == m_currentId && m_current) {
        *m_current = true;
        return;
    }
    for (qsizetype i = 0; i < m_queue.size(); ++i)
        if (m_queue[i].id == jobId) {
            m_queue.removeAt(i);
            break;
        }
}

void JobRunner::cancelAll()
{
    QMutexLocker lock(&m_mutex);
    m_queue.clear();
    if (m_current)
        *m_current = true;
}

bool JobRunner::isIdle() const
{
    QMutexLocker lock(&m_mutex);
    return m_queue.isEmpty() && !m_current;
}

int JobRunner::queuedCount() const
{
    QMutexLocker lock(&m_mutex);
    return static_cast<int>(m_queue.size());
}

void JobRunner::workerLoop()
{
    for (;;) {
        Job job;
        {
            QMutexLocker lock(&m_mutex);
            while (m_queue.isEmpty() && !m_stopping)
                wakeUp().wait(&m_mutex);
            if (m_stopping)
                break;
            job = m_queue.dequeue();
            m_current = job.cancelled;
            m_currentId = job.id;
        }
        Q_EMIT jobStarted(job.id, job.title);
        QElapsedTimer clock;
        clock.start();
        const auto flag = job.cancelled;
        const int id = job.id;
        const ProgressFn progress = [this, flag, id, &clock](qint64 done, qint64 total, const QString &phase) {
            const double elapsed = clock.nsecsElapsed() / 1e9;
            const double eta = (done > 0 && total > done) ? elapsed / static_cast<double>(done) * static_cast<double>(total - done) : 0.0;
            Q_EMIT this->progress(id, done, total, phase, eta);
            return !flag->load();
        };
        bool ok = false, cancelled = false;
        QString message;
        qint64 runId = 0;
        pipeline::forgetLastRunOnThisThread();
        try {
            const pipeline::JobSummary s = job.fn(m_ws, progress);
            // A job whose every item failed (an endpoint down, every image unreadable) did not
            // succeed, whatever its run says: shown as failed, resumable once the cause is fixed.
            ok = !(s.failed > 0 && s.failed >= s.done);
            cancelled = s.cancelled;
            // What happened in MPA's terms first ("7 knowledge gaps, ..."), then the counts.
            QString what;
            try {
                what = s.runId > 0 ? describeFinishedRun(m_ws, s.runId) : QString();
            } catch (const Error &) {
            }
            message = ok ? (what.isEmpty() ? s.summary() : QStringLiteral("%1 · %2").arg(what, s.summary()))
                         : QStringLiteral("every item failed (%1): %2").arg(s.failed).arg(s.summary());
            runId = s.runId;
        } catch (const Error &e) {
            message = e.message();
            runId = pipeline::lastRunOnThisThread(); // the run it failed in (resumable)
        } catch (const std::exception &e) {
            message = QString::fromLocal8Bit(e.what());
            runId = pipeline::lastRunOnThisThread();
        }
        m_ws.releaseThreadConnection();
        bool nowIdle = false;
        {
            QMutexLocker lock(&m_mutex);
            m_current.reset();
            m_currentId = 0;
            nowIdle = m_queue.isEmpty();
        }
        Q_EMIT jobFinished(job.id, ok, cancelled, message, runId);
        if (nowIdle)
            Q_EMIT idle();
    }
    m_ws.releaseThreadConnection();
}

} // namespace mpa::jobs
