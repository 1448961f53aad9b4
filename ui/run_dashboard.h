#pragma once
// Runs and their live charts. The charts are rebuilt from the workspace's metrics table (so
// closing and reopening the app mid-run loses nothing) and refreshed every second with the
// rows written since. Several runs can be overlaid; smoothing is a debiased EMA per series.
#include "store/workspace.h"

#include <QHash>
#include <QWidget>
#include <optional>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QSlider;
class QSqlQueryModel;
class QTableView;
class QTimer;

namespace mpa::ui {

class RunDashboard : public QWidget
{
    Q_OBJECT
public:
    explicit RunDashboard(QWidget *parent = nullptr);
    void setWorkspace(const store::Workspace &ws);

    // Re-reads the runs table and appends new metric rows to the charts (the timer calls it).
    void refresh();
    void showRuns(const QList<qint64> &runIds);
    void setMetric(const QString &name);
    void setSmoothing(double beta);
    void setLogScale(bool on);
    // PNG, SVG or PDF by the file's extension.
    bool exportChart(const QString &path);

    QCustomPlot *plot() const { return m_plot; }
    int pointCount(qint64 runId) const;

private:
    void rebuild();
    struct Series
    {
        QVector<double> steps, values;
        qint64 lastStep = 0;
    };
    std::optional<store::Workspace> m_ws;
    QSqlQueryModel *m_runs;
    QTableView *m_table;
    QCustomPlot *m_plot;
    QComboBox *m_metric;
    QSlider *m_smoothing;
    QCheckBox *m_log;
    QTimer *m_timer;
    QList<qint64> m_shown;
    QHash<qint64, Series> m_series;
    QString m_runsSignature; // the run table is re-read only when this changes
};

} // namespace mpa::ui
