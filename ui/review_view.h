#pragma once
// Review: a filtered queue of samples, an inspector (image, pseudo pair, both models' answers
// with their normalised forms and the match), and keyboard decisions committed at once:
// A approve, R reject, U clear, J/K or arrows next/previous, Ctrl+Z undo, Ctrl+Shift+Z redo.
// Undo is a new journal entry restoring the previous state (the journal is append-only).
#include "store/records.h"
#include "store/workspace.h"

#include <QHash>
#include <QWidget>
#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QTextBrowser;

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

Q_SIGNALS:
    void reviewsChanged();

private:
    struct Step
    {
        qint64 sampleId;
        QString before; // review state before
        store::Decision after;
    };
    void applyFilter();
    void showCurrent();
    void updateCounts();   // full recount (load, filter, bulk)
    void showCounts();
    QHash<QString, qint64> m_stateCounts; // approved / rejected / pending over the workspace
    void record(qint64 sampleId, store::Decision d);
    void saveEdits();

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
    QList<Step> m_undo, m_redo;
};

} // namespace mpa::ui
