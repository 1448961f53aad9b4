#include "store/stats.h"

#include "store/sql_util.h"

namespace mpa::store {

namespace {
QList<QPair<QString, qint64>> grouped(QSqlDatabase &db, const QString &sql)
{
    QSqlQuery q = exec(db, sql);
    QList<QPair<QString, qint64>> out;
    while (q.next())
        out.append({q.value(0).toString(), q.value(1).toLongLong()});
    return out;
}

void appendSection(QString &out, const QString &title, const QList<QPair<QString, qint64>> &rows)
{
    qint64 total = 0;
    for (const auto &r : rows)
        total += r.second;
    out += QStringLiteral("%1: %2\n").arg(title).arg(total);
    for (const auto &r : rows)
        out += QStringLiteral("  %1: %2\n").arg(r.first).arg(r.second);
}
} // namespace

WorkspaceStats collectStats(const Workspace &ws)
{
    QSqlDatabase db = ws.connection();
    WorkspaceStats s;
    s.imagesByStatus = grouped(db, QStringLiteral("SELECT status, count(*) FROM images GROUP BY status ORDER BY status"));
    s.samplesByParse = grouped(db, QStringLiteral("SELECT parse_status, count(*) FROM samples GROUP BY parse_status ORDER BY parse_status"));
    s.samplesByOutcome = grouped(db, QStringLiteral("SELECT COALESCE(outcome, 'none'), count(*) FROM samples GROUP BY 1 ORDER BY 1"));
    s.samplesByReview = grouped(db, QStringLiteral("SELECT review_state, count(*) FROM samples GROUP BY 1 ORDER BY 1"));
    s.benchmarkItems = grouped(db, QStringLiteral("SELECT dataset || '/' || split, count(*) FROM benchmark_items GROUP BY 1 ORDER BY 1"));
    s.runsByStatus = grouped(db, QStringLiteral("SELECT kind || ' ' || status, count(*) FROM runs GROUP BY 1 ORDER BY 1"));
    s.approvedGaps = scalar(db, QStringLiteral("SELECT count(*) FROM samples WHERE outcome = 'gap' AND verdict_stale = 0 AND review_state = 'approved'")).toLongLong();
    return s;
}

QString formatStats(const WorkspaceStats &s)
{
    QString out;
    appendSection(out, QStringLiteral("images"), s.imagesByStatus);
    appendSection(out, QStringLiteral("samples"), s.samplesByParse);
    appendSection(out, QStringLiteral("samples by outcome"), s.samplesByOutcome);
    appendSection(out, QStringLiteral("samples by review"), s.samplesByReview);
    out += QStringLiteral("approved gaps: %1\n").arg(s.approvedGaps);
    appendSection(out, QStringLiteral("benchmark questions"), s.benchmarkItems);
    appendSection(out, QStringLiteral("runs"), s.runsByStatus);
    return out;
}

} // namespace mpa::store
