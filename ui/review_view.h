#pragma once
// Review: a filtered queue of samples, an inspector (image, pseudo pair, both models' answers
// with their normalised forms and the match), and keyboard decisions committed at once:
// A approve, R reject, U clear, J/K or arrows next/previous, Ctrl+Z undo, Ctrl+Shift+Z redo.
// Undo is a new journal entry restoring the previous state (the journal is append-only); one
// undo step takes back a whole bulk decision. Decisions go through store::DecisionQueue: a busy
// database delays a decision (shown as ⏳, retried), never loses it, and never blocks the GUI.
#include "store/records.h"
#include "store/workspace.h"

#include <QHash>
#include <QPair>
#include <QWidget>
#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QTextBrowser;

namespace mpa::store {
class DecisionQueue;
}

namespace mpa::ui {

class ImagePane;
class SampleListModel;

class ReviewView : public QWidget
{
    Q_OBJECT
public:
    explicit ReviewView(QWidget *parent = nullptr);
    void setWorkspace(const store::Workspace &ws);

    // The same actions the shortcuts trigger (tests and menus call them).
    void decide(store::Decision decision);
    void undo();
    void redo();
    void next();
    void previous();
    // Approve or reject everything the current filter shows (one transaction).
    void decideAllFiltered(store::Decision decision);

    qint64 currentSampleId() const;
    QString countsText() const;
    SampleListModel *model() const { return m_model; }
    store::DecisionQueue *decisionQueue() const { return m_queue; }
    // Another connection wrote (store::ChangeWatcher's store::Tables bits): the visible rows,
    // the counts and the inspector are re-read.
    void workspaceChanged(quint32 tables);
    // Only the samples of one image (the Browser's drill-down); 0 shows every image again.
    void showSamplesOfImage(qint64 imageId);
    qint64 imageFilter() const { return m_imageFilter; }

Q_SIGNALS:
    void reviewsChanged();
    // What an action did, for the status bar ("Undid: approve of 120 samples").
    void message(const QString &text);


private:
    struct Step
    {
        QList<QPair<qint64, QString>> before; // each sample's review state before the step
        store::Decision after;
    };
    QString describe(const Step &s, bool undoing) const;
    void applyStep(const Step &s, bool undoing);
    void applyFilter();
    void showCurrent();
    void updateCounts();   // full recount (load, filter, bulk)
    void showCounts();
    QHash<QString, qint64> m_stateCounts; // approved / rejected / pending over the workspace
    void submit(const QList<QPair<qint64, QString>> &before, const QList<QPair<qint64, store::Decision>> &decisions,
                std::optional<QString> question = {}, std::optional<QString> answer = {}, const QString &note = {});
    void onWritten(quint64 ticket, const QList<qint64> &ids);
    void saveEdits();
    std::pair<int, int> visibleRows() const;
    store::DecisionQueue *m_queue;
    // Per queued ticket: each sample's state before and after (for the counts when it lands).
    QHash<quint64, QList<QPair<qint64, QPair<QString, QString>>>> m_transitions;
    QString m_pendingReason;

    std::optional<store::Workspace> m_ws;
    SampleListModel *m_model;
    QListView *m_list;
    QComboBox *m_outcome;
    QComboBox *m_state;
    QComboBox *m_order;
    QLineEdit *m_search;
    ImagePane *m_image;
    QLineEdit *m_question;
    QLineEdit *m_answer;
    QTextBrowser *m_details;
    QLabel *m_counts;
    QLabel *m_imageOnly = nullptr;
    qint64 m_imageFilter = 0;
    QList<Step> m_undo, m_redo;
};

} // namespace mpa::ui
