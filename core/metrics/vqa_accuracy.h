#pragma once
// VQA accuracy exactly as the official GT-Vision-Lab/VQA evaluator (vqaEval.py @ a013f00)
// computes it, quirks included: see reference/metric-quirks.md section 1.
#include <QString>
#include <QStringList>

namespace mpa::metrics {

// processPunctuation: the official punctuation rule followed by the period rule.
QString vqaProcessPunctuation(const QString &text);
// processDigitArticle: lowercase, number words to digits, drop articles, contractions.
QString vqaProcessDigitArticle(const QString &text);

// Score in [0, 1] of one prediction against the (usually 10) human answers: the mean over
// leave-one-out subsets of min(1, matches / 3). Unrounded (the evaluator rounds to 2 decimals
// of a percentage only for display).
double vqaAccuracy(const QString &prediction, const QStringList &humanAnswers);

} // namespace mpa::metrics
