#pragma once
// LLaVA / Qwen2-VL-Finetune conversation JSON (read and write), ShareGPT for LLaMA-Factory
// (write, with dataset_info.json) and MPA Studio's JSONL (read and write, lossless).
#include <QList>
#include <QString>

namespace mpa::datasets {

struct QaPair
{
    QString id;        // the record id (and turn index for multi-turn records: "id#2")
    QString imagePath; // resolved on this machine
    QString question;  // without the "<image>\n" marker
    QString answer;
};

// One pair per human/gpt turn pair; records without an image or with several images are
// refused with the record number (MPA samples have exactly one image).
QList<QaPair> readLlava(const QString &path, const QString &imageRoot);

// Paths are written relative to imageRoot when given (the trainers' --image_folder).
void writeLlava(const QString &path, const QList<QaPair> &pairs, const QString &imageRoot);
// Writes OUT (ShareGPT records with "images") and dataset_info.json beside it, registering
// the file under `datasetName`.
void writeShareGpt(const QString &path, const QList<QaPair> &pairs, const QString &imageRoot, const QString &datasetName);

// Removes the "<image>" marker and the newline after it from a human turn.
QString stripImageMarker(const QString &text);
QString relativeImagePath(const QString &imagePath, const QString &imageRoot);

} // namespace mpa::datasets
