#pragma once
// Evaluation results: one row per evaluation run (model x benchmark: the official metric and
// MPA's substring accuracy), and the per-question flip table between two selected runs (fixed,
// broken, still right, still wrong) with both predictions side by side; selecting a flip row
// shows that question's image, references and both answers.
#include "pipeline/evaluator.h"
#include "store/workspace.h"

#include <QWidget>
#include <optional>

class QLabel;
class QStandardItemModel;
class QTableView;
class QTextBrowser;

namespace mpa::ui {

class ImagePane;

class EvaluationView : public QWidget
{
    Q_OBJECT
public:
    explicit EvaluationView(QWidget *parent = nullptr);
    void setWorkspace(const store::Workspace &ws);
    void reload();
    // Fills the flip table for before = runA, after = runB.
    void compare(qint64 runA, qint64 runB);
    // Selects the two runs in the results table (the flip table follows) and the first question
    // that changed; false when either run is not in the table.
    bool selectRuns(qint64 runA, qint64 runB);

    QStandardItemModel *resultsModel() const { return m_results; }
    QStandardItemModel *flipModel() const { return m_flips; }
    QString flipSummary() const;
    // The detail of the selected flip row (question, references, before and after).
    QString questionDetail() const;
    ImagePane *questionImage() const { return m_image; }

private:
    void showQuestion(int flipRow);
    std::optional<store::Workspace> m_ws;
    QStandardItemModel *m_results;
    QStandardItemModel *m_flips;
    QTableView *m_resultsView;
    QTableView *m_flipView;
    QLabel *m_summary;
    QList<pipeline::FlipRow> m_flipRows; // the compared runs' rows; column 0's UserRole holds the index (the table sorts)
    ImagePane *m_image;
    QTextBrowser *m_detail;
};

} // namespace mpa::ui
