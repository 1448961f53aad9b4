#include "run_dashboard.h"

#include "ema.h"
#include "store/sql_util.h"

#include <QCheckBox>
#include <QFileDialog>
#include <QMessageBox>
#include <QPushButton>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QSvgGenerator>
#include <QSplitter>
#include <QSqlQuery>
#include <QSqlQueryModel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <qcustomplot.h>

namespace mpa::ui {

RunDashboard::RunDashboard(QWidget *parent)
    : QWidget(parent)
    , m_runs(new QSqlQueryModel(this))
    , m_table(new QTableView(this))
    , m_plot(new QCustomPlot(this))
    , m_metric(new QComboBox(this))
    , m_smoothing(new QSlider(Qt::Horizontal, this))
    , m_log(new QCheckBox(tr("Log scale"), this))
    , m_timer(new QTimer(this))
{
    for (const char *m : {"loss", "eval_loss", "lr", "grad_norm", "tokens_per_s", "eta_s"})
        m_metric->addItem(QString::fromLatin1(m));
    m_smoothing->setRange(0, 99);
    m_smoothing->setValue(60);
    m_smoothing->setToolTip(tr("Smoothing (debiased exponential moving average)"));
    m_table->setModel(m_runs);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_plot->xAxis->setLabel(tr("step"));
    m_plot->legend->setVisible(true);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);

    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Metric"), this));
    controls->addWidget(m_metric);
    controls->addWidget(new QLabel(tr("Smoothing"), this));
    controls->addWidget(m_smoothing, 1);
    controls->addWidget(m_log);
    auto *exportButton = new QPushButton(tr("Export…"), this);
    controls->addWidget(exportButton);
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export chart"), QStringLiteral("chart.png"),
                                                          tr("PNG (*.png);;SVG (*.svg);;PDF (*.pdf)"));
        if (!path.isEmpty() && !exportChart(path))
            QMessageBox::warning(this, tr("Export failed"), tr("Could not write %1").arg(path));
    });
    auto *right = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addLayout(controls);
    rightLayout->addWidget(m_plot, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(right);
    split->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);

    connect(m_metric, &QComboBox::currentTextChanged, this, [this] { rebuild(); });
    connect(m_smoothing, &QSlider::valueChanged, this, [this] { rebuild(); });
    connect(m_log, &QCheckBox::toggled, this, &RunDashboard::setLogScale);
    connect(m_timer, &QTimer::timeout, this, &RunDashboard::refresh);
    // Selecting runs in the table overlays their curves.
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        QList<qint64> ids;
        for (const QModelIndex &i : m_table->selectionModel()->selectedRows())
            ids << m_runs->data(m_runs->index(i.row(), 0)).toLongLong();
        if (!ids.isEmpty())
            showRuns(ids);
    });
    m_timer->start(1000);
}

void RunDashboard::setWorkspace(const store::Workspace &ws)
{
    m_ws = ws;
    m_runsSignature.clear();
    m_shown.clear();
    m_series.clear();
    refresh();
}

void RunDashboard::refresh()
{
    if (!m_ws)
        return;
    // The run table (small: one row per run). Re-reading it must not look like a new
    // selection (that would re-enter refresh() while the model swaps its query).
    // Resetting the model every second would also drop the user's selection and scroll position.
    QSqlDatabase sigDb = m_ws->connection();
    const QString signature = store::scalar(sigDb, QStringLiteral("SELECT count(*) || ':' || COALESCE(max(id), 0) || ':' || "
                                                                  "COALESCE(sum(finished_at), 0) || ':' || COALESCE(group_concat(status), '') FROM runs")).toString();
    if (signature != m_runsSignature) {
        m_runsSignature = signature;
        const QModelIndex current = m_table->currentIndex();
        const QSignalBlocker blockSelection(m_table->selectionModel());
        QSqlQuery q(m_ws->connection());
        q.exec(QStringLiteral("SELECT id, kind, status, name, datetime(created_at / 1000, 'unixepoch') AS created, "
                              "CASE WHEN finished_at IS NOT NULL THEN (finished_at - started_at) / 1000.0 END AS seconds, error "
                              "FROM runs ORDER BY id DESC"));
        m_runs->setQuery(std::move(q));
        if (current.isValid())
            m_table->setCurrentIndex(m_runs->index(current.row(), current.column()));
    }
    // New metric rows of the shown runs only (indexed by run, name, step).
    bool changed = false;
    const QString metric = m_metric->currentText();
    QSqlDatabase db = m_ws->connection();
    for (qint64 id : std::as_const(m_shown)) {
        Series &s = m_series[id];
        QSqlQuery rows = store::exec(db, QStringLiteral("SELECT step, value FROM metrics WHERE run_id = ? AND name = ? AND step > ? ORDER BY step"),
                                     {id, metric, s.lastStep});
        while (rows.next()) {
            s.lastStep = rows.value(0).toLongLong();
            s.steps.append(static_cast<double>(s.lastStep));
            s.values.append(rows.value(1).toDouble());
            changed = true;
        }
    }
    if (changed)
        rebuild();
}

void RunDashboard::showRuns(const QList<qint64> &runIds)
{
    m_shown = runIds;
    m_series.clear();
    refresh();
    rebuild();
}

void RunDashboard::setMetric(const QString &name)
{
    m_metric->setCurrentText(name);
    m_series.clear();
    refresh();
}

void RunDashboard::setSmoothing(double beta)
{
    m_smoothing->setValue(static_cast<int>(std::lround(beta * 100)));
}

void RunDashboard::setLogScale(bool on)
{
    m_log->setChecked(on);
    if (on) {
        m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    } else {
        m_plot->yAxis->setScaleType(QCPAxis::stLinear);
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
    m_plot->replot();
}

int RunDashboard::pointCount(qint64 runId) const
{
    return static_cast<int>(m_series.value(runId).steps.size());
}

void RunDashboard::rebuild()
{
    m_plot->clearGraphs();
    static const QList<QColor> colors = {QColor(0x1f, 0x77, 0xb4), QColor(0xd6, 0x27, 0x28), QColor(0x2c, 0xa0, 0x2c),
                                         QColor(0x94, 0x67, 0xbd), QColor(0xff, 0x7f, 0x0e)};
    const double beta = m_smoothing->value() / 100.0;
    int k = 0;
    for (qint64 id : std::as_const(m_shown)) {
        const Series &s = m_series.value(id);
        const QColor c = colors[k++ % colors.size()];
        if (beta > 0) { // the raw series faint behind the smoothed one
            QCPGraph *raw = m_plot->addGraph();
            QColor faint = c;
            faint.setAlpha(60);
            raw->setPen(QPen(faint));
            raw->setData(s.steps, s.values, true);
            raw->removeFromLegend();
        }
        QCPGraph *g = m_plot->addGraph();
        g->setPen(QPen(c, 2));
        g->setName(tr("run %1").arg(id));
        g->setData(s.steps, beta > 0 ? debiasedEma(s.values, beta) : s.values, true);
    }
    m_plot->yAxis->setLabel(m_metric->currentText());
    m_plot->rescaleAxes();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

bool RunDashboard::exportChart(const QString &path)
{
    if (path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive))
        return m_plot->savePdf(path);
    if (path.endsWith(QLatin1String(".svg"), Qt::CaseInsensitive)) {
        // QCustomPlot has no SVG writer: paint the plot onto Qt's SVG generator.
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(m_plot->size());
        svg.setViewBox(QRect(QPoint(0, 0), m_plot->size()));
        QCPPainter painter;
        if (!painter.begin(&svg))
            return false;
        m_plot->toPainter(&painter, m_plot->width(), m_plot->height());
        return painter.end();
    }
    return m_plot->savePng(path);
}

} // namespace mpa::ui
