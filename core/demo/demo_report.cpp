#include "demo/demo_report.h"

#include "datasets/synthetic_world.h"
#include "store/sql_util.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace mpa::demo {

QString demoMetricFor(const QString &family)
{
    return datasets::syntheticBenchmarkMetric(QStringLiteral("demo-") + family);
}

namespace {

QString canonical(const QString &path)
{
    const QString c = QFileInfo(path).canonicalFilePath();
    return c.isEmpty() ? QDir::cleanPath(path) : c;
}

QString selectionLabel(const QString &selection)
{
    if (selection == QLatin1String("approved-gaps"))
        return QStringLiteral("student after MPA (approved gaps)");
    if (selection == QLatin1String("gaps"))
        return QStringLiteral("student after MPA (all gaps)");
    if (selection == QLatin1String("all"))
        return QStringLiteral("student trained on all pseudo pairs");
    if (selection == QLatin1String("random"))
        return QStringLiteral("student trained on random pairs (as many as the gaps)");
    return QStringLiteral("student trained on ") + selection;
}

} // namespace

DemoReport demoReport(const store::Workspace &ws)
{
    QSqlDatabase db = ws.connection();
    DemoReport report;
    QString large, small;
    {
        QSqlQuery q = store::exec(db, QStringLiteral("SELECT params FROM runs WHERE kind = 'identify' AND status = 'finished' ORDER BY id DESC LIMIT 1"));
        if (q.next()) {
            const QJsonObject p = QJsonDocument::fromJson(q.value(0).toString().toUtf8()).object();
            large = canonical(p.value(QStringLiteral("large_model")).toString());
            small = canonical(p.value(QStringLiteral("small_model")).toString());
        }
    }
    QMap<QString, int> rowOf; // model -> index in rows
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT id, params FROM runs WHERE kind = 'evaluate' AND status = 'finished' ORDER BY id"));
    const QRegularExpression alignDir(QStringLiteral("/runs/run-(\\d+)/"));
    while (q.next()) {
        const qint64 runId = q.value(0).toLongLong();
        const QJsonObject p = QJsonDocument::fromJson(q.value(1).toString().toUtf8()).object();
        const QString dataset = p.value(QStringLiteral("dataset")).toString();
        if (!dataset.startsWith(QLatin1String("demo-")))
            continue;
        const QString model = canonical(p.value(QStringLiteral("model")).toString());
        if (!rowOf.contains(model)) {
            DemoReportRow row;
            row.model = model;
            if (model == large) {
                row.label = QStringLiteral("teacher (L-VLM)");
            } else if (model == small) {
                row.label = QStringLiteral("student before MPA (S-VLM)");
            } else if (const auto m = alignDir.match(model); m.hasMatch()) {
                row.alignRun = m.captured(1).toLongLong();
                const QJsonObject ap = QJsonDocument::fromJson(
                    store::scalar(db, QStringLiteral("SELECT params FROM runs WHERE id = ?"), {row.alignRun}).toString().toUtf8()).object();
                row.label = selectionLabel(ap.value(QStringLiteral("selection")).toString());
                const QVariant n = store::scalar(db, QStringLiteral("SELECT value FROM metrics WHERE run_id = ? AND name = 'train_samples'"), {row.alignRun});
                row.trainSamples = n.isValid() ? static_cast<qint64>(n.toDouble()) : -1;
            } else {
                row.label = QFileInfo(model).fileName();
            }
            rowOf.insert(model, static_cast<int>(report.rows.size()));
            report.rows.append(row);
        }
        DemoReportRow &row = report.rows[rowOf.value(model)];
        const QString metric = p.value(QStringLiteral("metric")).toString();
        QSqlQuery m = store::exec(db, QStringLiteral("SELECT name, value FROM metrics WHERE run_id = ? AND step = 0"), {runId});
        while (m.next()) {
            const QString name = m.value(0).toString();
            if (name == QLatin1String("mpa"))
                row.mpaAccuracy[dataset] = m.value(1).toDouble();
            if (name == metric || (metric.isEmpty() && name != QLatin1String("mpa") && name != QLatin1String("questions"))) {
                row.official[dataset] = m.value(1).toDouble();
                row.metric[dataset] = name;
            }
        }
        if (!report.benchmarks.contains(dataset))
            report.benchmarks.append(dataset);
    }
    // Teacher and student first, aligned models in the order they were trained.
    std::stable_sort(report.rows.begin(), report.rows.end(), [](const DemoReportRow &a, const DemoReportRow &b) {
        auto rank = [](const DemoReportRow &r) { return r.label.startsWith(QLatin1String("teacher")) ? 0 : r.alignRun == 0 ? 1 : 2; };
        return rank(a) != rank(b) ? rank(a) < rank(b) : a.alignRun < b.alignRun;
    });
    QStringList ordered;
    for (const QString &family : datasets::syntheticFamilies())
        if (report.benchmarks.contains(QStringLiteral("demo-") + family))
            ordered << QStringLiteral("demo-") + family;
    report.benchmarks = ordered;
    return report;
}

QString formatDemoReport(const DemoReport &r)
{
    if (r.rows.isEmpty())
        return QStringLiteral("No evaluation of the demo benchmarks in this workspace yet (run `mpa demo run WS`).\n");
    auto table = [&](const QString &title, bool mpa) {
        QString out = title + QStringLiteral("\n\n| model | training samples |");
        for (const QString &b : r.benchmarks)
            out += QStringLiteral(" %1 |").arg(b.mid(5));
        out += QStringLiteral("\n|---|---:|") + QStringLiteral("---:|").repeated(r.benchmarks.size()) + QLatin1Char('\n');
        for (const DemoReportRow &row : r.rows) {
            out += QStringLiteral("| %1 | %2 |").arg(row.label, row.trainSamples >= 0 ? QString::number(row.trainSamples) : QStringLiteral("-"));
            for (const QString &b : r.benchmarks) {
                const auto &values = mpa ? row.mpaAccuracy : row.official;
                out += values.contains(b) ? QStringLiteral(" %1 |").arg(100.0 * values.value(b), 0, 'f', 1) : QStringLiteral(" - |");
            }
            out += QLatin1Char('\n');
        }
        return out;
    };
    QString metrics;
    if (!r.rows.isEmpty())
        for (const QString &b : r.benchmarks)
            metrics += QStringLiteral("%1%2: %3").arg(metrics.isEmpty() ? QString() : QStringLiteral(", "), b.mid(5), r.rows.first().metric.value(b));
    return table(QStringLiteral("MPA accuracy (%), per demo benchmark:"), true) + QLatin1Char('\n')
         + table(QStringLiteral("Benchmark metric (%) (%1):").arg(metrics), false);
}

} // namespace mpa::demo
