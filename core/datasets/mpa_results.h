#pragma once
// The official MPA scripts' outputs (fixtures/mpa-official/results): Pseudo Annotator
// records and Parity Identifier answer records.
#include <QList>
#include <QString>

namespace mpa::datasets {

struct PseudoAnnotation
{
    QString questionId;
    QString imagePath;
    QString question; // null when the annotator's output did not parse
    QString answer;
    bool parsed = true;
};

struct ParityAnswer
{
    QString questionId;
    QString imagePath;
    QString question; // the pseudo question
    QString answer;   // the pseudo answer
    QString prediction;
};

QList<PseudoAnnotation> readMpaPseudoAnnotations(const QString &path, const QString &imageRoot);
QList<ParityAnswer> readMpaParityAnswers(const QString &path, const QString &imageRoot);

// "PI_Qwen2vl7b_Qwen2-VL-2B-Instruct_textVQA.json" -> model "Qwen2-VL-2B-Instruct", dataset "textVQA".
struct MpaFileName
{
    QString model;
    QString dataset;
};
MpaFileName parseMpaFileName(const QString &path);
// textVQA/stVQA -> "text", chartVQA -> "chart", okVQA -> "knowledge".
QString taskForMpaDataset(const QString &dataset);

} // namespace mpa::datasets
