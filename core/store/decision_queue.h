#pragma once
// The person's decisions on their way into the journal. A decision is written at once when the
// database lets it; when another connection holds the write lock (a job committing a batch,
// `mpa` in a terminal) it is kept here, in order, and retried with back-off until it lands.
// Nothing is dropped: pendingCount() says what is not yet saved (the UI shows it and warns
// before quitting), and flush() waits for the rest. Each attempt waits at most
// kAttemptBusyTimeoutMs for the lock, so the GUI thread never stalls on a busy database.
#include "store/records.h"
#include "store/workspace.h"

#include <QList>
#include <QObject>
#include <QPair>
#include <QSet>
#include <optional>

class QTimer;

namespace mpa::store {

struct PendingDecision
{
    quint64 ticket = 0;
    Workspace ws;
    QList<QPair<qint64, Decision>> decisions; // one sample, or a bulk decision
    std::optional<QString> question;           // edits (single-sample decisions only)
    std::optional<QString> answer;
    QString note;
};

class DecisionQueue : public QObject
{
    Q_OBJECT
public:
    static constexpr int kAttemptBusyTimeoutMs = 40;
    static constexpr int kMaxBackoffMs = 2000;

    explicit DecisionQueue(QObject *parent = nullptr);

    // Queues one decision (with optional edits) and tries to write it now. Returns its ticket.
    quint64 submit(const Workspace &ws, qint64 sampleId, Decision decision, std::optional<QString> question = {},
                   std::optional<QString> answer = {}, const QString &note = {});
    // Many decisions in one transaction (all land or none).
    quint64 submitMany(const Workspace &ws, const QList<QPair<qint64, Decision>> &decisions, const QString &note = {});

    // The ticket the next submit will get (callers key their bookkeeping on it).
    quint64 nextTicket() const { return m_nextTicket; }
    int pendingCount() const { return static_cast<int>(m_queue.size()); }
    bool isPending(qint64 sampleId) const { return m_pendingSamples.contains(sampleId); }
    QString lastError() const { return m_lastError; }
    // Tries until everything is written or `timeoutMs` has passed (quitting); true when empty.
    bool flush(int timeoutMs);

Q_SIGNALS:
    // A decision reached the database.
    void written(quint64 ticket, const QList<qint64> &sampleIds);
    // The number of unsaved decisions changed (0: everything is saved); `reason` says why the
    // head of the queue is waiting.
    void pendingChanged(int count, const QString &reason);

private:
    quint64 enqueue(PendingDecision d);
    void drain();
    bool writeHead(int busyTimeoutMs);
    void rebuildPendingSet();
    QList<PendingDecision> m_queue;
    QSet<qint64> m_pendingSamples;
    QTimer *m_retry;
    int m_backoffMs = 0;
    quint64 m_nextTicket = 1;
    QString m_lastError;
};

} // namespace mpa::store
