#pragma once
// The Parity Identifier: the large and the small model answer every parsed pseudo question
// with the official prompt (one model after the other, so one GPU suffices); each sample gets
// a verdict (gap, both right, S-only, both wrong) under the chosen criterion. Answers are
// committed per batch; a resumed run skips what each model already answered.
#include "backends/vlm_backend.h"
#include "pipeline/run_scope.h"

namespace mpa::pipeline {

// Criteria: "mpa" (the official normalised substring test), "vqa" (VQA-normalised exact
// match), "anls" (ANLS >= 0.5), "relaxed" (ChartQA relaxed accuracy).
bool answerMatches(const QString &criterion, const QString &expected, const QString &prediction);
QStringList parityCriteria();

struct IdentifyParams
{
    QString criterion = QStringLiteral("mpa");
    QString task;   // only samples of this task (empty: all)
    QString source; // only samples from this source (empty: all)
    int batchSize = 0;
    qint64 limit = 0;
    int maxNewTokens = 128;
    QString name;   // the run's name (empty: one from the models)
    QJsonObject toJson() const;
    static IdentifyParams fromJson(const QJsonObject &o);
};

JobSummary runParityIdentifier(const store::Workspace &ws, backends::VlmBackend &large, const QString &largeDir,
                               backends::VlmBackend &small, const QString &smallDir, const IdentifyParams &params,
                               const ProgressFn &progress, qint64 resumeRunId = 0);

} // namespace mpa::pipeline
