#pragma once
// The Parity Identifier's outcomes and the review states in words (the stored ids are
// gap / both_right / s_only / both_wrong and pending / approved / rejected), with the sentence
// that says which model was right, and the legend the Review, Samples and inspector views show.
#include <QString>

#include <optional>

namespace mpa::ui {

QString outcomeLabel(const QString &outcome);       // "knowledge gap", "both right", ...; "not identified" for ""
QString outcomeExplanation(const QString &outcome); // which model gave the pseudo answer, and what it means for training
QString reviewLabel(const QString &reviewState);    // "approved", "rejected", "not reviewed"
QString criterionLabel(const QString &criterion);   // "MPA substring match (official)", "VQA accuracy ≥ 0.5", ...
// The large model's answer probability from its log-probability: "large model 87 % sure".
QString confidenceText(const std::optional<double> &logprob);
// One line: colours and marks of the sample lists, and what trains by default.
QString verdictLegend();
// The SQL expression turning samples.outcome (alias s) into outcomeLabel()'s words.
QString outcomeLabelSql();

} // namespace mpa::ui
