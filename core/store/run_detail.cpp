#include "store/run_detail.h"

#include <QSet>

#include "store/rows.h"
#include "store/sql_util.h"

#include <QDir>
#include <QJsonDocument>
#include <QRegularExpression>

namespace mpa::store {

QString humanDuration(double s)
{
    if (s < 10)
        return QStringLiteral("%1 s").arg(s, 0, 'f', 1);
    const auto t = static_cast<qint64>(s + 0.5);
    if (t < 60)
        return QStringLiteral("%1 s").arg(t);
    if (t < 3600)
        return QStringLiteral("%1 min %2 s").arg(t / 60).arg(t % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 h %2 min").arg(t / 3600).arg((t % 3600) / 60, 2, 10, QLatin1Char('0'));
}

RunDetail readRunDetail(const Workspace &ws, qint64 runId)
{
    QSqlDatabase db = ws.connection();
    RunDetail d;
    const Rows run = readRows(db, QStringLiteral("SELECT kind, name, status, COALESCE(error, ''), created_at, COALESCE(started_at, 0), "
                                                 "COALESCE(finished_at, 0), params FROM runs WHERE id = ?"), {runId});
    if (run.isEmpty())
        return d;
    d.id = runId;
    d.kind = run.at(0, 0).toString();
    d.name = run.at(0, 1).toString();
    d.status = run.at(0, 2).toString();
    d.error = run.at(0, 3).toString();
    d.createdMs = run.at(0, 4).toLongLong();
    d.startedMs = run.at(0, 5).toLongLong();
    d.finishedMs = run.at(0, 6).toLongLong();
    d.settings = QJsonDocument::fromJson(run.at(0, 7).toString().toUtf8()).object();
    const Rows metrics = readRows(db, QStringLiteral("SELECT m.name, m.value FROM metrics m WHERE m.run_id = ? AND m.step = "
                                                     "(SELECT max(step) FROM metrics WHERE run_id = m.run_id AND name = m.name) ORDER BY m.name"),
                                  {runId});
    for (const QVariantList &r : metrics.rows)
        d.finalMetrics.append({r.at(0).toString(), r.at(1).toDouble()});
    const QString folder = QDir(ws.root()).filePath(QStringLiteral("runs/run-%1").arg(runId));
    if (QDir(folder).exists()) {
        d.folder = folder;
        d.checkpoints = QDir(folder).entryList({QStringLiteral("checkpoint-*")}, QDir::Dirs, QDir::Name);
    }
    auto addParents = [&](const QString &sql, const QVariantList &binds) {
        for (const QVariantList &r : readRows(db, sql, binds).rows)
            d.parents.append({r.at(0).toLongLong(), r.at(1).toString()});
    };
    if (d.kind == QLatin1String("identify")) {
        addParents(QStringLiteral("SELECT DISTINCT r.id, r.name FROM verdicts v JOIN samples s ON s.id = v.sample_id JOIN runs r ON r.id = s.run_id "
                                  "WHERE v.run_id = ? ORDER BY r.id"), {runId});
    } else if (d.kind == QLatin1String("align")) {
        // The runs its training samples came from, recorded when it started (recordTrainingSources).
        addParents(QStringLiteral("SELECT r.id, r.name FROM run_parents p JOIN runs r ON r.id = p.parent_id WHERE p.run_id = ? ORDER BY r.id"), {runId});
        if (d.parents.isEmpty()) // a run of a schema-3 workspace: what it could have trained on
            addParents(QStringLiteral("SELECT id, name FROM runs WHERE kind IN ('annotate', 'identify') AND status = 'finished' AND created_at <= ? "
                                      "ORDER BY id"), {d.createdMs});
    } else if (d.kind == QLatin1String("evaluate")) {
        // An aligned checkpoint lives in WS/runs/run-N/: that alignment is the parent.
        static const QRegularExpression alignRun(QStringLiteral("/runs/run-(\\d+)/"));
        const QRegularExpressionMatch m = alignRun.match(d.settings.value(QStringLiteral("model")).toString());
        if (m.hasMatch())
            addParents(QStringLiteral("SELECT id, name FROM runs WHERE id = ?"), {m.captured(1).toLongLong()});
    }
    return d;
}

void recordTrainingSources(const Workspace &ws, qint64 runId, const QList<qint64> &sampleIds)
{
    QSqlDatabase db = ws.connection();
    QSet<qint64> parents;
    // Ids are inlined (integers) in chunks: SQLite binds at most 32,766 parameters per statement.
    constexpr qsizetype kChunk = 500;
    for (qsizetype at = 0; at < sampleIds.size(); at += kChunk) {
        QStringList ids;
        for (qsizetype i = at; i < std::min(sampleIds.size(), at + kChunk); ++i)
            ids << QString::number(sampleIds[i]);
        const QString in = ids.join(QLatin1Char(','));
        for (const QString &sql : {QStringLiteral("SELECT DISTINCT run_id FROM samples WHERE run_id IS NOT NULL AND id IN (%1)"),
                                   QStringLiteral("SELECT DISTINCT v.run_id FROM verdicts v WHERE v.sample_id IN (%1) AND "
                                                  "v.id = (SELECT max(id) FROM verdicts WHERE sample_id = v.sample_id)")})
            for (const QVariantList &r : readRows(db, sql.arg(in)).rows)
                parents.insert(r.at(0).toLongLong());
    }
    Transaction tx(db, QStringLiteral("run sources"));
    for (qint64 parent : std::as_const(parents))
        if (parent != runId)
            exec(db, QStringLiteral("INSERT OR IGNORE INTO run_parents(run_id, parent_id) VALUES(?, ?)"), {runId, parent});
    tx.commit();
}

} // namespace mpa::store
