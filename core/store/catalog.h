#pragma once
// Writes and look-ups for images, models, runs, metrics and benchmark items. Batch writers
// expect the caller to hold a transaction (job output is committed in batches).
#include "store/records.h"
#include "store/workspace.h"

#include <QJsonObject>
#include <QList>
#include <QSqlQuery>
#include <map>
#include <memory>
#include <string>

namespace mpa::store {

class Catalog
{
public:
    explicit Catalog(const Workspace &ws);

    // Inserts or refreshes an image by path (re-import is idempotent) and returns its id.
    qint64 upsertImage(const ImageRecord &image);
    std::optional<qint64> imageIdForPath(const QString &path);

    qint64 ensureModel(const QString &name, ModelKind kind, const QString &location, ModelRole role);
    std::optional<qint64> modelIdByName(const QString &name);
    void setModelRole(qint64 modelId, ModelRole role);

    qint64 createRun(RunKind kind, const QString &name, const QJsonObject &params, RunStatus status = RunStatus::Running);
    void finishRun(qint64 runId, RunStatus status, const QString &error = {});
    // A run's display name, also while it runs (its folder and id stay). The name is trimmed;
    // empty, over 200 characters or an unknown run is an Error naming the run.
    void renameRun(qint64 runId, const QString &name);
    void addMetric(qint64 runId, const QString &name, qint64 step, double value);
    // Runs left "running" by a process that died are marked interrupted; returns how many.
    int markInterruptedRuns();

    qint64 upsertBenchmarkItem(const BenchmarkItemRecord &item);
    qint64 upsertSample(const SampleRecord &sample);
    void upsertAnswer(qint64 sampleId, qint64 modelId, qint64 runId, const QString &text,
                      std::optional<double> logprob = {}, std::optional<double> latencyMs = {});
    void upsertVerdict(qint64 sampleId, qint64 runId, bool lCorrect, bool sCorrect, Outcome outcome, const QString &criterion);
    void upsertPrediction(qint64 runId, qint64 itemId, std::optional<qint64> modelId, const QString &text);

    QSqlDatabase &db() { return m_db; }

private:
    // Prepared once per Catalog and reused: preparing dominates small inserts otherwise.
    QSqlQuery &cached(const char *key, const QString &sql);

    Workspace m_ws;
    QSqlDatabase m_db;
    std::map<std::string, std::unique_ptr<QSqlQuery>> m_queries;
};

} // namespace mpa::store
