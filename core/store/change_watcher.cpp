#include "store/change_watcher.h"

#include "store/rows.h"
#include "store/sql_util.h"

#include <QTimer>

namespace mpa::store {

namespace {
// One part per entry of kParts, in the same order. Every part is an index or rowid lookup,
// except the runs part (one row per run: small).
struct Part
{
    quint32 tables;
    const char *sql;
};
const Part kParts[] = {
    {Tables::Images, "SELECT COALESCE(max(id), 0) || ':' || count(*) FROM images"},
    {Tables::Samples, "SELECT COALESCE(max(id), 0) || ':' || count(*) FROM samples"},
    {Tables::Samples, "SELECT COALESCE(max(id), 0) FROM verdicts"},
    {Tables::Samples, "SELECT COALESCE(max(id), 0) FROM answers"},
    {Tables::Samples | Tables::Reviews, "SELECT COALESCE(max(id), 0) FROM reviews"},
    {Tables::Runs, "SELECT COALESCE(max(id), 0) || ':' || count(*) || ':' || total(COALESCE(finished_at, 0)) || ':' || total(revision) || ':' || "
                   "COALESCE(group_concat(substr(status, 1, 2), ''), '') FROM runs"},
    // metrics is WITHOUT ROWID (key run, name, step): counting its b-tree is the cheap probe.
    {Tables::Metrics, "SELECT COALESCE(max(run_id), 0) || ':' || count(*) FROM metrics"},
    {Tables::Models, "SELECT COALESCE(max(id), 0) || ':' || count(*) FROM models"},
    {Tables::Evaluations, "SELECT (SELECT COALESCE(max(id), 0) FROM predictions) || ':' || (SELECT COALESCE(max(id), 0) FROM benchmark_items)"},
};
} // namespace

ChangeWatcher::ChangeWatcher(QObject *parent)
    : QObject(parent)
    , m_timer(new QTimer(this))
{
    m_timer->setInterval(500);
    connect(m_timer, &QTimer::timeout, this, &ChangeWatcher::poll);
}

void ChangeWatcher::setWorkspace(const Workspace &ws)
{
    m_ws = ws;
    m_dataVersion = -1;
    try {
        QSqlDatabase db = ws.connection();
        m_dataVersion = scalar(db, QStringLiteral("PRAGMA data_version")).toLongLong();
        m_fingerprint = fingerprint();
    } catch (const Error &) {
        m_fingerprint.clear(); // a busy database: the next poll takes it
    }
    m_timer->start();
}

void ChangeWatcher::setInterval(int ms)
{
    m_timer->setInterval(ms);
}

QStringList ChangeWatcher::fingerprint()
{
    QSqlDatabase db = m_ws->connection();
    QStringList parts;
    for (const Part &p : kParts)
        parts << scalar(db, QString::fromLatin1(p.sql)).toString();
    return parts;
}

void ChangeWatcher::nudge()
{
    if (!m_sinceLastPoll.isValid() || m_sinceLastPoll.elapsed() >= kNudgeIntervalMs)
        poll();
}

void ChangeWatcher::poll()
{
    if (!m_ws)
        return;
    ++m_polls;
    m_sinceLastPoll.start();
    try {
        QSqlDatabase db = m_ws->connection();
        const qint64 version = scalar(db, QStringLiteral("PRAGMA data_version")).toLongLong();
        if (version == m_dataVersion && !m_fingerprint.isEmpty())
            return;
        m_dataVersion = version;
        const QStringList now = fingerprint();
        quint32 changedTables = 0;
        for (qsizetype i = 0; i < now.size(); ++i)
            if (i >= m_fingerprint.size() || now[i] != m_fingerprint[i])
                changedTables |= kParts[i].tables;
        m_fingerprint = now;
        if (changedTables)
            Q_EMIT changed(changedTables);
    } catch (const Error &) {
        // Busy or briefly unreadable: the next tick tries again; nothing is lost by waiting.
    }
}

} // namespace mpa::store
