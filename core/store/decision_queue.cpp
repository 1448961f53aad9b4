#include "store/decision_queue.h"

#include "store/review_journal.h"
#include "store/sql_util.h"

#include <QElapsedTimer>
#include <QThread>
#include <QTimer>

namespace mpa::store {

namespace {
// The connection's usual busy timeout (workspace.cpp) is restored after each attempt.
constexpr int kDefaultBusyTimeoutMs = 5000;

// Shortens the connection's busy timeout for one attempt and restores it however it ends.
class ShortBusyTimeout
{
public:
    ShortBusyTimeout(const Workspace &ws, int ms)
        : m_db(ws.connection())
    {
        exec(m_db, QStringLiteral("PRAGMA busy_timeout = %1").arg(ms));
    }
    ~ShortBusyTimeout()
    {
        QSqlQuery restore(m_db);
        restore.exec(QStringLiteral("PRAGMA busy_timeout = %1").arg(kDefaultBusyTimeoutMs));
    }

private:
    QSqlDatabase m_db;
};
} // namespace

DecisionQueue::DecisionQueue(QObject *parent)
    : QObject(parent)
    , m_retry(new QTimer(this))
{
    m_retry->setSingleShot(true);
    connect(m_retry, &QTimer::timeout, this, &DecisionQueue::drain);
}

quint64 DecisionQueue::submit(const Workspace &ws, qint64 sampleId, Decision decision, std::optional<QString> question,
                              std::optional<QString> answer, const QString &note)
{
    PendingDecision d{0, ws, {{sampleId, decision}}, std::move(question), std::move(answer), note};
    return enqueue(std::move(d));
}

quint64 DecisionQueue::submitMany(const Workspace &ws, const QList<QPair<qint64, Decision>> &decisions, const QString &note)
{
    PendingDecision d{0, ws, decisions, {}, {}, note};
    return enqueue(std::move(d));
}

quint64 DecisionQueue::enqueue(PendingDecision d)
{
    d.ws.requireWritable(QStringLiteral("record a review")); // a read-only workspace is refused up front
    d.ticket = m_nextTicket++;
    for (const auto &p : std::as_const(d.decisions))
        m_pendingSamples.insert(p.first);
    const quint64 ticket = d.ticket;
    m_queue.append(std::move(d));
    // Behind older pending decisions it waits its turn (the journal keeps the person's order).
    if (m_queue.size() == 1)
        drain();
    else
        Q_EMIT pendingChanged(pendingCount(), m_lastError);
    return ticket;
}

bool DecisionQueue::writeHead(int busyTimeoutMs)
{
    PendingDecision &d = m_queue.first();
    try {
        const ShortBusyTimeout shortWait(d.ws, busyTimeoutMs);
        ReviewJournal journal(d.ws);
        if (d.decisions.size() == 1)
            journal.record(d.decisions.first().first, d.decisions.first().second, d.question, d.answer, d.note);
        else
            journal.recordEach(d.decisions, d.note);
    } catch (const Error &e) {
        // Busy or not, the decision stays queued: a lock passes, and any other failure is shown
        // (pendingChanged) and retried rather than thrown away.
        m_lastError = e.message();
        return false;
    }
    PendingDecision done = m_queue.takeFirst();
    m_lastError.clear();
    rebuildPendingSet();
    QList<qint64> ids;
    for (const auto &p : std::as_const(done.decisions))
        ids << p.first;
    Q_EMIT written(done.ticket, ids);
    return true;
}

void DecisionQueue::drain()
{
    const int before = pendingCount();
    while (!m_queue.isEmpty()) {
        if (!writeHead(kAttemptBusyTimeoutMs)) {
            m_backoffMs = m_backoffMs == 0 ? 25 : std::min(kMaxBackoffMs, m_backoffMs * 2);
            m_retry->start(m_backoffMs);
            Q_EMIT pendingChanged(pendingCount(), m_lastError);
            return;
        }
    }
    m_backoffMs = 0;
    if (before != 0)
        Q_EMIT pendingChanged(0, QString());
}

bool DecisionQueue::flush(int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    while (!m_queue.isEmpty()) {
        const qint64 left = timeoutMs - clock.elapsed();
        if (left <= 0)
            break;
        if (!writeHead(static_cast<int>(std::min<qint64>(left, 1000))))
            QThread::msleep(20);
    }
    Q_EMIT pendingChanged(pendingCount(), m_lastError);
    return m_queue.isEmpty();
}

void DecisionQueue::rebuildPendingSet()
{
    m_pendingSamples.clear();
    for (const PendingDecision &d : std::as_const(m_queue))
        for (const auto &p : d.decisions)
            m_pendingSamples.insert(p.first);
}

} // namespace mpa::store
