#include "store/pipeline_progress.h"

#include "store/rows.h"
#include "store/sql_util.h"

namespace mpa::store {

qint64 PipelineProgress::identified() const
{
    qint64 n = 0;
    for (qint64 v : outcomes)
        n += v;
    return n;
}

PipelineStage PipelineProgress::next() const
{
    if (poolImages == 0)
        return PipelineStage::Import;
    if (pseudoPairs == 0)
        return PipelineStage::Annotate;
    if (identified() == 0)
        return PipelineStage::Identify;
    if (approvedGaps == 0)
        return PipelineStage::Review;
    if (alignmentRuns == 0)
        return PipelineStage::Align;
    if (evaluations == 0)
        return PipelineStage::Evaluate;
    return PipelineStage::Done;
}

QString stageName(PipelineStage stage)
{
    static const char *names[] = {"import", "annotate", "identify", "review", "align", "evaluate", "done"};
    return QString::fromLatin1(names[static_cast<int>(stage)]);
}

PipelineProgress readPipelineProgress(const Workspace &ws)
{
    QSqlDatabase db = ws.connection();
    PipelineProgress p;
    auto count = [&](const QString &sql) { return scalar(db, sql).toLongLong(); };
    p.benchmarkImages = count(QStringLiteral("SELECT count(DISTINCT image_id) FROM benchmark_items"));
    p.poolImages = count(QStringLiteral("SELECT count(*) FROM images WHERE status = 'ok' AND id NOT IN (SELECT image_id FROM benchmark_items)"));
    p.unreadableImages = count(QStringLiteral("SELECT count(*) FROM images WHERE status != 'ok'"));
    p.benchmarkItems = count(QStringLiteral("SELECT count(*) FROM benchmark_items"));
    const Rows parse = readRows(db, QStringLiteral("SELECT task, parse_status, count(*) FROM samples GROUP BY task, parse_status"));
    for (const QVariantList &r : parse.rows) {
        if (r.at(1).toString() == QLatin1String("ok")) {
            p.pseudoPairs += r.at(2).toLongLong();
            p.pairsByTask[r.at(0).toString()] += r.at(2).toLongLong();
        } else {
            p.parseFailures += r.at(2).toLongLong();
        }
    }
    const Rows outcomes = readRows(db, QStringLiteral("SELECT outcome, review_state, count(*) FROM samples WHERE outcome IS NOT NULL GROUP BY 1, 2"));
    for (const QVariantList &r : outcomes.rows) {
        const QString outcome = r.at(0).toString(), review = r.at(1).toString();
        const qint64 n = r.at(2).toLongLong();
        p.outcomes[outcome] += n;
        if (review != QLatin1String("pending"))
            p.reviewed += n;
        if (review == QLatin1String("rejected"))
            p.rejected += n;
        if (review == QLatin1String("approved") && outcome == QLatin1String("gap"))
            p.approvedGaps += n;
        if (review == QLatin1String("pending") && outcome == QLatin1String("gap"))
            p.gapsToReview += n;
    }
    const Rows runs = readRows(db, QStringLiteral("SELECT kind, status, count(*) FROM runs GROUP BY 1, 2"));
    for (const QVariantList &r : runs.rows) {
        const QString kind = r.at(0).toString(), status = r.at(1).toString();
        if (status == QLatin1String("running"))
            p.runningRuns += r.at(2).toLongLong();
        if (status != QLatin1String("finished"))
            continue;
        if (kind == QLatin1String("align"))
            p.alignmentRuns += r.at(2).toLongLong();
        else if (kind == QLatin1String("evaluate"))
            p.evaluations += r.at(2).toLongLong();
    }
    return p;
}

} // namespace mpa::store
