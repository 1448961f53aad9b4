#pragma once
// Runs one MPA job from its run configuration (jobs/job_options.h): the one path from settings
// to a job that `mpa annotate|identify|align|evaluate`, the desktop's launchers and its Resume
// all take. The backends are made from the configuration (a model folder, or an http(s)://
// endpoint with served_model / api_key_env); an unnamed run gets defaultRunName().
#include "jobs/job_options.h"
#include "pipeline/evaluator.h"
#include "pipeline/parity_leveler.h"
#include "pipeline/run_scope.h"

namespace mpa::jobs {

// What a job found beyond its summary (filled for the kinds that have it).
struct JobResults
{
    pipeline::EvaluationScores scores; // evaluate
    pipeline::AlignResult align;       // align
};

// The configuration's model locations made absolute (folders) and a name filled in, as the
// run will record it.
QJsonObject resolvedConfiguration(JobKind kind, const QJsonObject &config);

pipeline::JobSummary runConfiguredJob(const store::Workspace &ws, JobKind kind, const QJsonObject &config, qint64 resumeRunId,
                                      const ProgressFn &progress, JobResults *results = nullptr);

// One line saying what the job did in MPA's terms: "12 pseudo pairs from 12 images (1 did not
// parse)", "30 samples: 7 gaps, 15 both right, 5 both wrong, 3 S-only", "trained on 7 samples,
// 20 steps, final loss 0.412", "anls 41.2 %, MPA accuracy 38.0 % (50 questions)".
QString describeFinishedRun(const store::Workspace &ws, qint64 runId);

} // namespace mpa::jobs
