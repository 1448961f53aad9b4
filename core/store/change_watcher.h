#pragma once
// Tells a view what another connection committed to the workspace: this process's job threads
// or another process (`mpa align` in a terminal). It polls SQLite's `PRAGMA data_version` on
// this thread's connection (a read of shared memory, no disk I/O); only when that moves does it
// read a one-row fingerprint of the tables (max ids and counts, all index lookups) and emit the
// set of tables whose part changed, so each view re-reads only what it shows.
// data_version does not move for this connection's own commits: the code that writes through
// it updates its views itself (or calls poll()).
#include "store/workspace.h"

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>
#include <optional>

class QTimer;

namespace mpa::store {

namespace Tables {
enum : quint32 {
    Images = 1u << 0,
    Samples = 1u << 1,  // new samples, and any sample whose verdict, answers or review changed
    Reviews = 1u << 2,
    Runs = 1u << 3,     // a run added, or its status / finish time changed
    Metrics = 1u << 4,
    Models = 1u << 5,
    Evaluations = 1u << 6, // benchmark items and predictions
    All = 0xffffffffu,
};
}

class ChangeWatcher : public QObject
{
    Q_OBJECT
public:
    explicit ChangeWatcher(QObject *parent = nullptr);
    // Starts watching `ws` (the fingerprint is taken now: what is already there is not a change).
    void setWorkspace(const Workspace &ws);
    void setInterval(int ms);
    // Checks at once, emits changed() when something moved.
    void poll();
    // poll(), at most every kNudgeIntervalMs: for callers that fire often (job progress reports).
    void nudge();
    static constexpr int kNudgeIntervalMs = 100;
    qint64 pollCount() const { return m_polls; }

Q_SIGNALS:
    void changed(quint32 tables);

private:
    QStringList fingerprint();
    std::optional<Workspace> m_ws;
    QTimer *m_timer;
    qint64 m_dataVersion = -1;
    QStringList m_fingerprint;
    qint64 m_polls = 0;
    QElapsedTimer m_sinceLastPoll;
};

} // namespace mpa::store
