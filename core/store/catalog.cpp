#include "store/catalog.h"

#include "store/sql_util.h"
#include "util/error.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace mpa::store {

namespace {
QVariant nullable(const QString &s) { return s.isNull() ? QVariant(QMetaType::fromType<QString>()) : QVariant(s); }
template<typename T>
QVariant nullable(const std::optional<T> &v) { return v ? QVariant::fromValue(*v) : QVariant(QMetaType::fromType<T>()); }
} // namespace

Catalog::Catalog(const Workspace &ws)
    : m_ws(ws)
    , m_db(ws.connection())
{
}

QSqlQuery &Catalog::cached(const char *key, const QString &sql)
{
    auto it = m_queries.find(key);
    if (it == m_queries.end())
        it = m_queries.emplace(key, std::make_unique<QSqlQuery>(prepare(m_db, sql))).first;
    return *it->second;
}

qint64 Catalog::upsertImage(const ImageRecord &image)
{
    m_ws.requireWritable(QStringLiteral("add images"));
    QSqlQuery &q = cached("upsertImage", QStringLiteral(R"(
        INSERT INTO images(path, status, format, file_size, width, height, sha256, mtime, error, added_at)
        VALUES(?,?,?,?,?,?,?,?,?,?)
        ON CONFLICT(path) DO UPDATE SET status=excluded.status, format=excluded.format,
            file_size=excluded.file_size, width=excluded.width, height=excluded.height,
            sha256=excluded.sha256, mtime=excluded.mtime, error=excluded.error
        RETURNING id)"));
    q.addBindValue(image.path);
    q.addBindValue(toString(image.status));
    q.addBindValue(nullable(image.format));
    q.addBindValue(image.fileSize >= 0 ? QVariant(image.fileSize) : QVariant(QMetaType::fromType<qint64>()));
    q.addBindValue(image.width);
    q.addBindValue(image.height);
    q.addBindValue(nullable(image.sha256));
    q.addBindValue(image.mtimeMs);
    q.addBindValue(nullable(image.error));
    q.addBindValue(nowMs());
    exec(q, QStringLiteral("recording image %1").arg(image.path));
    if (!q.next())
        throw Error(QStringLiteral("recording image %1 returned no id").arg(image.path));
    const qint64 id = q.value(0).toLongLong();
    q.finish();
    return id;
}

std::optional<qint64> Catalog::imageIdForPath(const QString &path)
{
    const QVariant v = scalar(m_db, QStringLiteral("SELECT id FROM images WHERE path = ?"), {path});
    return v.isValid() && !v.isNull() ? std::optional<qint64>(v.toLongLong()) : std::nullopt;
}

qint64 Catalog::ensureModel(const QString &name, ModelKind kind, const QString &location, ModelRole role)
{
    if (auto id = modelIdByName(name))
        return *id;
    m_ws.requireWritable(QStringLiteral("register a model"));
    QSqlQuery q = exec(m_db, QStringLiteral("INSERT INTO models(name, kind, location, role, created_at) VALUES(?,?,?,?,?)"),
                       {name, toString(kind), location, toString(role), nowMs()});
    return q.lastInsertId().toLongLong();
}

std::optional<qint64> Catalog::modelIdByName(const QString &name)
{
    const QVariant v = scalar(m_db, QStringLiteral("SELECT id FROM models WHERE name = ?"), {name});
    return v.isValid() && !v.isNull() ? std::optional<qint64>(v.toLongLong()) : std::nullopt;
}

void Catalog::setModelRole(qint64 modelId, ModelRole role)
{
    exec(m_db, QStringLiteral("UPDATE models SET role = ? WHERE id = ?"), {toString(role), modelId});
}

qint64 Catalog::createRun(RunKind kind, const QString &name, const QJsonObject &params, RunStatus status)
{
    m_ws.requireWritable(QStringLiteral("start a run"));
    const qint64 now = nowMs();
    QSqlQuery q = exec(m_db, QStringLiteral("INSERT INTO runs(kind, name, params, status, created_at, started_at) VALUES(?,?,?,?,?,?)"),
                       {toString(kind), name, QString::fromUtf8(QJsonDocument(params).toJson(QJsonDocument::Compact)),
                        toString(status), now, status == RunStatus::Running ? QVariant(now) : QVariant(QMetaType::fromType<qint64>())});
    return q.lastInsertId().toLongLong();
}

void Catalog::finishRun(qint64 runId, RunStatus status, const QString &error)
{
    exec(m_db, QStringLiteral("UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE id = ?"),
         {toString(status), nowMs(), nullable(error), runId});
}

void Catalog::renameRun(qint64 runId, const QString &nameIn)
{
    m_ws.requireWritable(QStringLiteral("rename a run"));
    const QString name = nameIn.simplified();
    if (name.isEmpty())
        throw Error(QStringLiteral("run %1: a run's name cannot be empty").arg(runId));
    if (name.size() > 200)
        throw Error(QStringLiteral("run %1: names are at most 200 characters (this one has %2)").arg(runId).arg(name.size()));
    // revision: other processes' ChangeWatcher sees a rename (its runs signature sums it).
    QSqlQuery q = exec(m_db, QStringLiteral("UPDATE runs SET name = ?, revision = revision + 1 WHERE id = ?"), {name, runId});
    if (q.numRowsAffected() != 1)
        throw Error(QStringLiteral("run %1: no such run in %2").arg(runId).arg(m_ws.root()));
}

void Catalog::addMetric(qint64 runId, const QString &name, qint64 step, double value)
{
    QSqlQuery &q = cached("addMetric", QStringLiteral(
        "INSERT OR REPLACE INTO metrics(run_id, name, step, value, created_at) VALUES(?,?,?,?,?)"));
    q.addBindValue(runId);
    q.addBindValue(name);
    q.addBindValue(step);
    q.addBindValue(value);
    q.addBindValue(nowMs());
    exec(q, QStringLiteral("recording metric %1").arg(name));
}

int Catalog::markInterruptedRuns()
{
    QSqlQuery q = exec(m_db, QStringLiteral("UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'"), {nowMs()});
    return q.numRowsAffected();
}

qint64 Catalog::upsertBenchmarkItem(const BenchmarkItemRecord &item)
{
    QSqlQuery &q = cached("upsertBenchmarkItem", QStringLiteral(R"(
        INSERT INTO benchmark_items(dataset, split, question_id, image_id, question, answers) VALUES(?,?,?,?,?,?)
        ON CONFLICT(dataset, split, question_id) DO UPDATE SET image_id=excluded.image_id,
            question=excluded.question, answers=excluded.answers
        RETURNING id)"));
    q.addBindValue(item.dataset);
    q.addBindValue(item.split);
    q.addBindValue(item.questionId);
    q.addBindValue(item.imageId);
    q.addBindValue(item.question);
    q.addBindValue(QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(item.answers)).toJson(QJsonDocument::Compact)));
    exec(q, QStringLiteral("recording benchmark question %1").arg(item.questionId));
    q.next();
    const qint64 id = q.value(0).toLongLong();
    q.finish();
    return id;
}

qint64 Catalog::upsertSample(const SampleRecord &s)
{
    QSqlQuery &q = cached("upsertSample", QStringLiteral(R"(
        INSERT INTO samples(image_id, task, question, answer, raw_text, parse_status, model_id, run_id, source, source_key, created_at)
        VALUES(?,?,?,?,?,?,?,?,?,?,?)
        ON CONFLICT(source, source_key) DO UPDATE SET image_id=excluded.image_id, task=excluded.task,
            question=excluded.question, answer=excluded.answer, raw_text=excluded.raw_text,
            parse_status=excluded.parse_status, model_id=COALESCE(excluded.model_id, model_id)
        RETURNING id)"));
    q.addBindValue(s.imageId);
    q.addBindValue(s.task);
    q.addBindValue(nullable(s.question));
    q.addBindValue(nullable(s.answer));
    q.addBindValue(nullable(s.rawText));
    q.addBindValue(s.parsed ? QStringLiteral("ok") : QStringLiteral("failed"));
    q.addBindValue(nullable(s.modelId));
    q.addBindValue(nullable(s.runId));
    q.addBindValue(s.source);
    q.addBindValue(s.sourceKey);
    q.addBindValue(nowMs());
    exec(q, QStringLiteral("recording sample %1").arg(s.sourceKey));
    q.next();
    const qint64 id = q.value(0).toLongLong();
    q.finish();
    return id;
}

void Catalog::upsertAnswer(qint64 sampleId, qint64 modelId, qint64 runId, const QString &text,
                           std::optional<double> logprob, std::optional<double> latencyMs)
{
    QSqlQuery &q = cached("upsertAnswer", QStringLiteral(R"(
        INSERT INTO answers(sample_id, model_id, run_id, text, logprob, latency_ms, created_at) VALUES(?,?,?,?,?,?,?)
        ON CONFLICT(sample_id, model_id, run_id) DO UPDATE SET text=excluded.text, logprob=excluded.logprob,
            latency_ms=excluded.latency_ms)"));
    q.addBindValue(sampleId);
    q.addBindValue(modelId);
    q.addBindValue(runId);
    q.addBindValue(nullable(text));
    q.addBindValue(nullable(logprob));
    q.addBindValue(nullable(latencyMs));
    q.addBindValue(nowMs());
    exec(q, QStringLiteral("recording an answer to sample %1").arg(sampleId));
}

void Catalog::upsertVerdict(qint64 sampleId, qint64 runId, bool lCorrect, bool sCorrect, Outcome outcome, const QString &criterion)
{
    // Delete + insert rather than UPDATE so the verdicts_cache trigger refreshes the sample.
    QSqlQuery &del = cached("deleteVerdict", QStringLiteral("DELETE FROM verdicts WHERE sample_id = ? AND run_id = ?"));
    del.addBindValue(sampleId);
    del.addBindValue(runId);
    exec(del, QStringLiteral("replacing the verdict of sample %1").arg(sampleId));
    QSqlQuery &q = cached("insertVerdict", QStringLiteral(
        "INSERT INTO verdicts(sample_id, run_id, l_correct, s_correct, outcome, criterion, created_at) VALUES(?,?,?,?,?,?,?)"));
    q.addBindValue(sampleId);
    q.addBindValue(runId);
    q.addBindValue(lCorrect ? 1 : 0);
    q.addBindValue(sCorrect ? 1 : 0);
    q.addBindValue(toString(outcome));
    q.addBindValue(criterion);
    q.addBindValue(nowMs());
    exec(q, QStringLiteral("recording the verdict of sample %1").arg(sampleId));
}

void Catalog::upsertPrediction(qint64 runId, qint64 itemId, std::optional<qint64> modelId, const QString &text)
{
    QSqlQuery &q = cached("upsertPrediction", QStringLiteral(R"(
        INSERT INTO predictions(run_id, item_id, model_id, text, created_at) VALUES(?,?,?,?,?)
        ON CONFLICT(run_id, item_id) DO UPDATE SET text=excluded.text, model_id=excluded.model_id)"));
    q.addBindValue(runId);
    q.addBindValue(itemId);
    q.addBindValue(nullable(modelId));
    q.addBindValue(nullable(text));
    q.addBindValue(nowMs());
    exec(q, QStringLiteral("recording a prediction for question %1").arg(itemId));
}

} // namespace mpa::store
