#pragma once
// The person's decisions. Every call is its own committed transaction, so a decision
// survives a crash the moment the call returns. The journal is append-only: undo is a new
// entry that restores the previous state, never a deletion.
#include "store/records.h"
#include "store/workspace.h"

#include <QDateTime>
#include <QList>

namespace mpa::store {

struct ReviewEntry
{
    qint64 id = 0;
    qint64 sampleId = 0;
    Decision decision = Decision::Clear;
    std::optional<QString> question; // edited question, if this entry edits it
    std::optional<QString> answer;
    QString note;
    QDateTime at;
};

class ReviewJournal
{
public:
    explicit ReviewJournal(const Workspace &ws);

    qint64 record(qint64 sampleId, Decision decision, std::optional<QString> editedQuestion = {},
                  std::optional<QString> editedAnswer = {}, const QString &note = {});
    // The same decision for many samples in one transaction (bulk approve of a filter).
    void recordMany(const QList<qint64> &sampleIds, Decision decision, const QString &note = {});
    // A decision per sample, all in one transaction (undo of a bulk decision restores what
    // each sample had before).
    void recordEach(const QList<QPair<qint64, Decision>> &decisions, const QString &note = {});

    // "approved", "rejected" or "pending", derived from the latest entry.
    QString currentState(qint64 sampleId);
    QList<ReviewEntry> history(qint64 sampleId);

private:
    Workspace m_ws;
};

} // namespace mpa::store
