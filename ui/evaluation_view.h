#pragma once
// Evaluation results: one row per evaluation run (model x benchmark: the official metric and
// MPA's substring accuracy), and the per-question flip table between two selected runs (fixed,
// broken, still right, still wrong) with both predictions side by side.
#include "store/workspace.h"

#include <QWidget>
#include <optional>

class QLabel;
class QStandardItemModel;
class QTableView;

namespace mpa::ui {

class EvaluationView : public QWidget
{
    Q_OBJECT
public:
    explicit EvaluationView(QWidget *parent = nullptr);
    void setWorkspace(const store::Workspace &ws);
    void reload();
    // Fills the flip table for before = runA, after = runB.
    void compare(qint64 runA, qint64 runB);

    QStandardItemModel *resultsModel() const { return m_results; }
    QStandardItemModel *flipModel() const { return m_flips; }
    QString flipSummary() const;

private:
    std::optional<store::Workspace> m_ws;
    QStandardItemModel *m_results;
    QStandardItemModel *m_flips;
    QTableView *m_resultsView;
    QTableView *m_flipView;
    QLabel *m_summary;
};

} // namespace mpa::ui
