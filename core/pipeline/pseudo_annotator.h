#pragma once
// The Pseudo Annotator: the large model writes `pairsPerImage` question-answer pairs for each
// usable image with the task's prompt; outputs that do not parse are kept with their raw text
// and a parse-failure status. Results are committed batch by batch; a resumed run skips images
// it already annotated.
#include "backends/vlm_backend.h"
#include "pipeline/run_scope.h"

namespace mpa::pipeline {

struct AnnotateParams
{
    QString task = QStringLiteral("text");
    int pairsPerImage = 1;
    int batchSize = 0; // 0: the backend's preferred size
    qint64 limit = 0;  // 0: every image
    QString images;    // a GLOB on image paths ("*/pool/text/*"); empty: every image
    int maxNewTokens = 128;
    QString name;      // the run's name (empty: one from the task and the model)
    QJsonObject toJson() const;
    static AnnotateParams fromJson(const QJsonObject &o);
};

JobSummary runPseudoAnnotator(const store::Workspace &ws, backends::VlmBackend &model, const QString &modelDir,
                              const AnnotateParams &params, const ProgressFn &progress, qint64 resumeRunId = 0);

} // namespace mpa::pipeline
