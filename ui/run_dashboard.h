#pragma once
// Runs and their live charts. The charts are rebuilt from the workspace's metrics table (so
// closing and reopening the app mid-run loses nothing) and extended with the rows written since
// whenever the workspace changes (refresh(): jobs of this process, or `mpa align` in a terminal,
// seen through store::ChangeWatcher). The chart shows exactly the selected runs, named by their
// run name; none selected, it is empty. Smoothing is a debiased EMA per series.
#include "store/workspace.h"

#include <QHash>
#include <QWidget>
#include <functional>
#include <optional>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QSlider;
class QTableView;
class QTextBrowser;

namespace mpa::ui {

class RowTableModel;

class RunDashboard : public QWidget
{
    Q_OBJECT
public:
    explicit RunDashboard(QWidget *parent = nullptr);
    void setWorkspace(const store::Workspace &ws);

    // Picks up new and changed runs and appends new metric rows to the charts.
    void refresh();
    // What store::ChangeWatcher reported (store::Tables bits).
    void workspaceChanged(quint32 tables);
    void showRuns(const QList<qint64> &runIds);
    void setMetric(const QString &name);
    void setSmoothing(double beta);
    void setLogScale(bool on);
    // Renames a run (also a running one) on a worker: a busy workspace never blocks the GUI.
    // `done` gets an empty string, or the error shown to the person, on the GUI thread.
    void renameRun(qint64 runId, const QString &name, std::function<void(const QString &error)> done = {});
    // PNG, SVG or PDF by the file's extension.
    bool exportChart(const QString &path);

    QCustomPlot *plot() const { return m_plot; }
    int pointCount(qint64 runId) const;
    QList<qint64> shownRuns() const { return m_shown; }
    // The legend's names of the drawn series, in order.
    QStringList legendNames() const;
    RowTableModel *runsModel() const { return m_runs; }
    // The run detail panel's text (settings, final metrics, checkpoint folder, parent runs).
    QString detailText() const;

protected:
    void changeEvent(QEvent *event) override;

private:
    void applyPalette(); // the chart follows the theme (QCustomPlot paints its own colours)
    void rebuild();
    struct Series
    {
        QVector<double> steps, values;
        qint64 lastStep = 0;
    };
    std::optional<store::Workspace> m_ws;
    void readMetrics(bool &changed);
    QString seriesName(qint64 runId) const;
    void showDetail(qint64 runId);
    void askToRename(qint64 runId); // the table's context menu and F2
    quint64 m_detailRead = 0;
    QTextBrowser *m_detail;
    RowTableModel *m_runs;
    QTableView *m_table;
    QCustomPlot *m_plot;
    QComboBox *m_metric;
    QSlider *m_smoothing;
    QCheckBox *m_log;
    QList<qint64> m_shown;
    QHash<qint64, Series> m_series;
};

} // namespace mpa::ui
