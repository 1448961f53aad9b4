#pragma once
// Listing and filtering samples through indexed keyset pagination (no OFFSET: page N of a
// million rows costs the same as page 1).
#include "store/records.h"
#include "store/workspace.h"

#include <QList>
#include <optional>

namespace mpa::store {

struct SampleFilter
{
    std::optional<QString> outcome;     // "gap", "both_right", "s_only", "both_wrong", or "none"
    std::optional<QString> reviewState; // "approved", "rejected", "pending"
    std::optional<QString> task;
    std::optional<QString> source;
    std::optional<bool> parsed;
    std::optional<qint64> imageId; // only this image's samples (the Browser's drill-down)
    QString text; // substring of question or answer (case-insensitive for ASCII)
    // Queue order: "id" (default, keyset-paged), "gaps-first", "confidence" (the large model's
    // answer log-probability, most confident first), "image" (by image path).
    QString order = QStringLiteral("id");
};

struct SampleRow
{
    qint64 id = 0;
    qint64 imageId = 0;
    QString imagePath;
    QString imageStatus;
    QString task;
    QString question; // effective: the reviewer's edit when there is one
    QString answer;
    QString originalQuestion;
    QString originalAnswer;
    QString rawText;
    bool parsed = true;
    QString outcome;
    QString reviewState;
    QString source;
    QString sourceKey;
    bool verdictStale = false; // the pair was edited after its verdict: re-identify it
    std::optional<double> largeLogprob; // the large model's answer: log-probability of its tokens
    QString criterion;                  // of the latest verdict (mpa, vqa, anls, relaxed)
};

class SampleQuery
{
public:
    explicit SampleQuery(const Workspace &ws);
    // Up to `limit` rows with id > afterId, in id order.
    QList<SampleRow> page(const SampleFilter &filter, qint64 afterId = 0, int limit = 200);
    // For orders other than "id": rows [offset, offset + limit) of the ordered result.
    QList<SampleRow> pageAt(const SampleFilter &filter, qint64 offset, int limit = 200);
    qint64 count(const SampleFilter &filter);
    // Just the ids of every matching sample (bulk decisions on what a filter shows).
    QList<qint64> ids(const SampleFilter &filter);
    // Each matching sample with its current review state (bulk decisions remember it for undo).
    QList<QPair<qint64, QString>> idsWithState(const SampleFilter &filter);
    std::optional<SampleRow> byId(qint64 id);
    // The rows of these samples (missing ids are skipped), in id order.
    QList<SampleRow> byIds(const QList<qint64> &ids);

private:
    Workspace m_ws;
};

} // namespace mpa::store
