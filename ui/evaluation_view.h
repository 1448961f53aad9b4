#pragma once
// Evaluation results: one row per evaluation run (model x benchmark: the official metric and
// MPA's substring accuracy), and the per-question flip table between two selected runs (fixed,
// broken, still right, still wrong) with both predictions side by side; selecting a flip row
// shows that question's image, references and both answers.
// Scoring reads and scores every prediction of every evaluation run (thousands of questions
// each), so both tables are filled on a worker thread and shown when the read lands; the
// newest read wins, and the selected pair of runs stays selected across reloads.
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
    // Re-reads the results table on a worker; shown when the read lands.
    void reload();
    // Fills the flip table for before = runA, after = runB on a worker.
    void compare(qint64 runA, qint64 runB);
    // Selects the two runs in the results table (the flip table follows) and the first question
    // that changed, now or once the table holds them; false when either is not an evaluation
    // run of the workspace.
    bool selectRuns(qint64 runA, qint64 runB);
    // True while a read of either table is under way (tests and screenshots wait on it).
    bool isReading() const { return m_readingResults || m_readingFlips > 0; }

    QStandardItemModel *resultsModel() const { return m_results; }
    QStandardItemModel *flipModel() const { return m_flips; }
    QString flipSummary() const;
    // The detail of the selected flip row (question, references, before and after).
    QString questionDetail() const;
    ImagePane *questionImage() const { return m_image; }

private:
    struct ResultRow
    {
        qint64 runId = 0;
        QString model, dataset, status;
        pipeline::EvaluationScores scores;
    };
    void showResults(const QList<ResultRow> &rows);
    void clearFlips(const QString &summary);
    void showFlips(qint64 runA, qint64 runB, const pipeline::FlipTable &table, const QString &error);
    // Selects both runs' rows without comparing; false when the table lacks either.
    bool selectPair(std::pair<qint64, qint64> runs);
    void selectFirstChange();
    void showQuestion(int flipRow);
    std::optional<store::Workspace> m_ws;
    quint64 m_resultsRead = 0; // generation of the newest results read
    quint64 m_flipsRead = 0;
    bool m_readingResults = false;
    bool m_resultsDirty = false; // a change arrived during a read: read again when it lands
    int m_readingFlips = 0;
    std::optional<std::pair<qint64, qint64>> m_pendingSelection; // from selectRuns(), applied when the table has both
    bool m_selectFirstChange = false;                            // the next flip table lands on its first change
    std::optional<std::pair<qint64, qint64>> m_shownPair;        // the runs the flip table shows
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
