#include "jobs/configured_job.h"

#include "backends/backend_factory.h"
#include "backends/model_identity.h"
#include "pipeline/parity_identifier.h"
#include "pipeline/pseudo_annotator.h"
#include "store/rows.h"
#include "store/sql_util.h"
#include "util/error.h"

#include <QFileInfo>
#include <QJsonDocument>

namespace mpa::jobs {

namespace {

bool isEndpoint(const QString &location)
{
    return location.startsWith(QLatin1String("http://")) || location.startsWith(QLatin1String("https://"));
}

QString absoluteLocation(const QString &location)
{
    return location.isEmpty() || isEndpoint(location) ? location : QFileInfo(location).absoluteFilePath();
}

QStringList modelKeys(JobKind kind)
{
    QStringList keys;
    for (const JobOption &o : jobOptions(kind))
        if (o.type == OptionType::Model)
            keys << o.key;
    return keys;
}

std::unique_ptr<backends::VlmBackend> backendFor(const QString &location, const QJsonObject &c)
{
    backends::NativeBackendOptions native;
    native.device = c.value(QStringLiteral("device")).toString(native.device);
    native.dtype = c.value(QStringLiteral("dtype")).toString(native.dtype);
    native.batchSize = c.value(QStringLiteral("batch_size")).toInt(native.batchSize);
    // 0 is "the model's own" (preprocessor_config.json); absent keeps MPA's budget.
    auto pixels = [&](const char *key, std::optional<std::int64_t> &value) {
        const QJsonValue v = c.value(QLatin1String(key));
        if (!v.isDouble())
            return;
        if (v.toInteger() <= 0)
            value.reset();
        else
            value = v.toInteger();
    };
    pixels("min_pixels", native.minPixels);
    pixels("max_pixels", native.maxPixels);
    backends::HttpBackendOptions http;
    http.model = c.value(QStringLiteral("served_model")).toString();
    http.apiKeyEnv = c.value(QStringLiteral("api_key_env")).toString(http.apiKeyEnv);
    http.concurrency = std::max(1, native.batchSize);
    return backends::makeBackendFor(location, native, http);
}

QString percent(double v)
{
    return QStringLiteral("%1 %").arg(100.0 * v, 0, 'f', 1);
}

} // namespace

QJsonObject resolvedConfiguration(JobKind kind, const QJsonObject &config)
{
    QJsonObject c = config;
    for (const QString &key : modelKeys(kind))
        c.insert(key, absoluteLocation(c.value(key).toString()));
    if (c.value(QStringLiteral("name")).toString().trimmed().isEmpty())
        c.insert(QStringLiteral("name"), defaultRunName(kind, c));
    return c;
}

pipeline::JobSummary runConfiguredJob(const store::Workspace &ws, JobKind kind, const QJsonObject &config, qint64 resumeRunId,
                                      const ProgressFn &progress, JobResults *results)
{
    // A resumed run takes its settings from its record; only the backends come from here, and
    // a model not given again is the one the run recorded (`mpa annotate WS --resume 3`).
    QJsonObject given = config;
    if (resumeRunId > 0) {
        QSqlDatabase db = ws.connection();
        const QJsonObject stored = QJsonDocument::fromJson(
                                       store::scalar(db, QStringLiteral("SELECT params FROM runs WHERE id = ?"), {resumeRunId}).toString().toUtf8())
                                       .object();
        for (const QString &key : modelKeys(kind))
            if (given.value(key).toString().isEmpty())
                given.insert(key, stored.value(key));
    }
    const QJsonObject c = resolvedConfiguration(kind, given);
    auto location = [&](const char *key) {
        const QString m = c.value(QLatin1String(key)).toString();
        if (m.isEmpty() && resumeRunId == 0)
            throw Error(QStringLiteral("%1: no %2 was given (--%3)").arg(jobKindName(kind), QLatin1String(key), QString::fromLatin1(key).section(QLatin1Char('_'), 0, 0)));
        return m;
    };
    JobResults local;
    JobResults &r = results ? *results : local;
    switch (kind) {
    case JobKind::Annotate: {
        const QString m = location("model");
        auto b = backendFor(m, c);
        return pipeline::runPseudoAnnotator(ws, *b, m, pipeline::AnnotateParams::fromJson(c), progress, resumeRunId);
    }
    case JobKind::Identify: {
        const QString large = location("large_model"), small = location("small_model");
        if (large == small && !large.isEmpty())
            throw Error(QStringLiteral("identify: the large and the small model are the same (%1)").arg(large));
        auto l = backendFor(large, c);
        auto s = backendFor(small, c);
        return pipeline::runParityIdentifier(ws, *l, large, *s, small, pipeline::IdentifyParams::fromJson(c), progress, resumeRunId);
    }
    case JobKind::Evaluate: {
        const QString m = location("model");
        if (c.value(QStringLiteral("dataset")).toString().isEmpty() && resumeRunId == 0)
            throw Error(QStringLiteral("evaluate: no benchmark was given (--dataset)"));
        auto b = backendFor(m, c);
        return pipeline::runEvaluation(ws, *b, m, pipeline::EvaluateParams::fromJson(c), progress, resumeRunId, &r.scores);
    }
    case JobKind::Align:
        return pipeline::runParityLeveler(ws, location("model"), pipeline::AlignParams::fromJson(c), progress, resumeRunId, &r.align);
    }
    throw Error(QStringLiteral("unknown job kind"));
}

QString describeFinishedRun(const store::Workspace &ws, qint64 runId)
{
    QSqlDatabase db = ws.connection();
    const QString kind = store::scalar(db, QStringLiteral("SELECT kind FROM runs WHERE id = ?"), {runId}).toString();
    auto number = [&](const QString &sql) { return store::scalar(db, sql, {runId}).toLongLong(); };
    auto metric = [&](const QString &name) {
        return store::scalar(db, QStringLiteral("SELECT value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step DESC LIMIT 1"), {runId, name});
    };
    if (kind == QLatin1String("annotate")) {
        const qint64 ok = number(QStringLiteral("SELECT count(*) FROM samples WHERE run_id = ? AND parse_status = 'ok'"));
        const qint64 failed = number(QStringLiteral("SELECT count(*) FROM samples WHERE run_id = ? AND parse_status = 'failed'"));
        const qint64 images = number(QStringLiteral("SELECT count(DISTINCT image_id) FROM samples WHERE run_id = ?"));
        return QObject::tr("%1 pseudo pairs from %2 images (%3 did not parse)").arg(ok).arg(images).arg(failed);
    }
    if (kind == QLatin1String("identify")) {
        auto outcome = [&](const char *o) {
            return store::scalar(db, QStringLiteral("SELECT count(*) FROM verdicts WHERE run_id = ? AND outcome = ?"), {runId, QLatin1String(o)}).toLongLong();
        };
        const qint64 gaps = outcome("gap"), right = outcome("both_right"), wrong = outcome("both_wrong"), sOnly = outcome("s_only");
        return QObject::tr("%1 samples: %2 knowledge gaps, %3 both right, %4 both wrong, %5 only the small model right")
            .arg(gaps + right + wrong + sOnly).arg(gaps).arg(right).arg(wrong).arg(sOnly);
    }
    if (kind == QLatin1String("align")) {
        const QVariant loss = metric(QStringLiteral("loss"));
        const qint64 steps = number(QStringLiteral("SELECT COALESCE(max(step), 0) FROM metrics WHERE run_id = ? AND name = 'loss'"));
        return QObject::tr("trained on %1 samples, %2 steps, final loss %3")
            .arg(metric(QStringLiteral("train_samples")).toLongLong())
            .arg(steps)
            .arg(loss.isValid() && !loss.isNull() ? QString::number(loss.toDouble(), 'f', 3) : QObject::tr("n/a"));
    }
    if (kind == QLatin1String("evaluate")) {
        const store::Rows rows = store::readRows(db, QStringLiteral("SELECT name, value FROM metrics WHERE run_id = ? AND step = 0 ORDER BY name"), {runId});
        QString official, mpa;
        qint64 questions = 0;
        for (qsizetype i = 0; i < rows.size(); ++i) {
            const QString name = rows.at(i, 0).toString();
            if (name == QLatin1String("questions"))
                questions = static_cast<qint64>(rows.at(i, 1).toDouble());
            else if (name == QLatin1String("mpa"))
                mpa = percent(rows.at(i, 1).toDouble());
            else
                official = QStringLiteral("%1 %2").arg(name, percent(rows.at(i, 1).toDouble()));
        }
        if (official.isEmpty())
            official = QStringLiteral("mpa ") + mpa;
        return QObject::tr("%1, MPA accuracy %2 (%3 questions)").arg(official, mpa).arg(questions);
    }
    return {};
}

} // namespace mpa::jobs
