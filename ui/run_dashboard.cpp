#include "run_dashboard.h"

#include "store/run_detail.h"

#include "ema.h"
#include "off_thread.h"
#include "row_table_model.h"
#include "store/catalog.h"
#include "store/change_watcher.h"
#include "store/rows.h"
#include "util/error.h"
#include "workspace_table_models.h"

#include <QCheckBox>
#include <QFileDialog>
#include <QMessageBox>
#include <QPushButton>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLineEdit>
#include <QMenu>
#include <QShortcut>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QSvgGenerator>
#include <QTextBrowser>
#include <QThread>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <qcustomplot.h>

namespace mpa::ui {

RunDashboard::RunDashboard(QWidget *parent)
    : QWidget(parent)
    , m_runs(new RowTableModel(this))
    , m_table(new QTableView(this))
    , m_plot(new QCustomPlot(this))
    , m_metric(new QComboBox(this))
    , m_smoothing(new QSlider(Qt::Horizontal, this))
    , m_log(new QCheckBox(tr("Log scale"), this))
    , m_detail(new QTextBrowser(this))
{
    m_detail->setObjectName(QStringLiteral("run-detail"));
    m_detail->setOpenLinks(false);
    m_detail->setPlaceholderText(tr("Select a run to see its settings, final metrics, checkpoints and the runs it came from."));
    m_runs->setSpec(runTableSpec());
    for (const char *m : {"loss", "eval_loss", "lr", "grad_norm", "tokens_per_s", "eta_s"})
        m_metric->addItem(QString::fromLatin1(m));
    m_smoothing->setRange(0, 99);
    m_smoothing->setValue(60);
    m_smoothing->setToolTip(tr("Smoothing (debiased exponential moving average)"));
    m_table->setModel(m_runs);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->verticalHeader()->hide();
    // One line per run; the name takes the spare width (names say what a run was trained on).
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideRight);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setDefaultSectionSize(80);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionsClickable(true);
    m_table->horizontalHeader()->setSortIndicatorShown(true);
    m_table->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    connect(m_table->horizontalHeader(), &QHeaderView::sortIndicatorChanged, m_runs, [this](int column, Qt::SortOrder order) { m_runs->sort(column, order); });
    m_plot->xAxis->setLabel(tr("step"));
    m_plot->legend->setVisible(true);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    applyPalette();

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
    auto *top = new QSplitter(Qt::Horizontal, this);
    top->addWidget(m_table);
    top->addWidget(m_detail);
    top->setStretchFactor(0, 3);
    top->setStretchFactor(1, 2);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    split->addWidget(right);
    split->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);

    connect(m_metric, &QComboBox::currentTextChanged, this, [this] { showRuns(m_shown); });
    connect(m_smoothing, &QSlider::valueChanged, this, [this] { rebuild(); });
    connect(m_log, &QCheckBox::toggled, this, &RunDashboard::setLogScale);
    // Selecting runs in the table overlays exactly their curves (none selected: none drawn).
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        QList<qint64> ids;
        for (const QModelIndex &i : m_table->selectionModel()->selectedRows())
            ids << m_runs->keyAt(i.row());
        std::sort(ids.begin(), ids.end());
        if (ids != m_shown)
            showRuns(ids);
        const QModelIndex current = m_table->selectionModel()->currentIndex();
        showDetail(current.isValid() && ids.contains(m_runs->keyAt(current.row())) ? m_runs->keyAt(current.row()) : ids.value(0));
    });
    // Names say what a run was trained on; they are often only known to be wrong once it runs.
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint &at) {
        const QModelIndex index = m_table->indexAt(at);
        if (!index.isValid() || !m_ws)
            return;
        const qint64 id = m_runs->keyAt(index.row());
        QMenu menu(this);
        menu.addAction(tr("Rename run #%1…").arg(id), this, [this, id] { askToRename(id); });
        menu.exec(m_table->viewport()->mapToGlobal(at));
    });
    auto *renameKey = new QShortcut(QKeySequence(Qt::Key_F2), m_table, nullptr, nullptr, Qt::WidgetShortcut);
    connect(renameKey, &QShortcut::activated, this, [this] {
        const QModelIndex current = m_table->selectionModel()->currentIndex();
        if (current.isValid())
            askToRename(m_runs->keyAt(current.row()));
    });
    m_runs->setVisibleRows([this] {
        return std::pair<int, int>(m_table->rowAt(0), m_table->rowAt(m_table->viewport()->height() - 1));
    });
}

void RunDashboard::setWorkspace(const store::Workspace &ws)
{
    m_ws = ws;
    m_shown.clear();
    m_series.clear();
    m_runs->setWorkspace(ws);
    if (m_runs->columnCount() > 3) {
        m_table->setColumnWidth(0, 50);
        m_table->setColumnWidth(4, 140);
        m_table->horizontalHeader()->setSectionResizeMode(3, QHeaderView::Stretch);
    }
    rebuild();
}

void RunDashboard::askToRename(qint64 runId)
{
    const int row = m_runs->rowOfKey(runId);
    bool ok = false;
    const QString name = QInputDialog::getText(this, tr("Rename run"), tr("Name of run #%1:").arg(runId), QLineEdit::Normal,
                                               row >= 0 ? m_runs->value(row, 3).toString() : QString(), &ok);
    if (ok)
        renameRun(runId, name, [this](const QString &error) {
            if (!error.isEmpty())
                QMessageBox::warning(this, tr("Rename run"), error);
        });
}

void RunDashboard::renameRun(qint64 runId, const QString &name, std::function<void(const QString &)> done)
{
    if (!m_ws)
        return;
    const store::Workspace ws = *m_ws;
    offThread(this, [ws, runId, name] {
        QString error;
        try {
            store::Catalog(ws).renameRun(runId, name);
        } catch (const Error &e) {
            error = e.message();
        }
        ws.releaseThreadConnection();
        return error;
    }, [this, runId, done](const QString &error) {
        if (error.isEmpty()) {
            refresh(); // the table, the legend and the detail show the new name
            const QModelIndex current = m_table->selectionModel()->currentIndex();
            if (current.isValid() && m_runs->keyAt(current.row()) == runId)
                showDetail(runId);
        }
        if (done)
            done(error);
    });
}

void RunDashboard::workspaceChanged(quint32 tables)
{
    if (!m_ws)
        return;
    if (tables & store::Tables::Runs)
        m_runs->refresh();
    if (tables & (store::Tables::Metrics | store::Tables::Runs)) {
        bool changed = false;
        readMetrics(changed);
        if (changed || (tables & store::Tables::Runs))
            rebuild();
    }
}

void RunDashboard::refresh()
{
    workspaceChanged(store::Tables::Runs | store::Tables::Metrics);
}

// New metric rows of the shown runs only (the key is run, name, step: an index range).
void RunDashboard::readMetrics(bool &changed)
{
    const QString metric = m_metric->currentText();
    QSqlDatabase db = m_ws->connection();
    for (qint64 id : std::as_const(m_shown)) {
        Series &s = m_series[id];
        store::Rows rows;
        try {
            rows = store::readRows(db, QStringLiteral("SELECT step, value FROM metrics WHERE run_id = ? AND name = ? AND step > ? ORDER BY step"),
                                   {id, metric, s.lastStep});
        } catch (const Error &) {
            return; // busy: the next change picks them up
        }
        for (const QVariantList &r : rows.rows) {
            s.lastStep = r[0].toLongLong();
            s.steps.append(static_cast<double>(s.lastStep));
            s.values.append(r[1].toDouble());
            changed = true;
        }
    }
}

void RunDashboard::showRuns(const QList<qint64> &runIds)
{
    m_shown = runIds;
    m_series.clear();
    {
        // The table's selection says what the chart shows, also when the caller chose the runs.
        const QSignalBlocker block(m_table->selectionModel());
        m_table->selectionModel()->clearSelection();
        for (qint64 id : runIds)
            if (const int row = m_runs->rowOfKey(id); row >= 0)
                m_table->selectionModel()->select(m_runs->index(row, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        m_table->viewport()->update();
    }
    if (m_ws) {
        bool changed = false;
        readMetrics(changed);
    }
    showDetail(runIds.isEmpty() ? 0 : runIds.last());
    rebuild();
}

void RunDashboard::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        applyPalette();
}

void RunDashboard::applyPalette()
{
    const QPalette p = palette();
    const QColor text = p.color(QPalette::Text), mid = p.color(QPalette::Mid);
    m_plot->setBackground(p.base());
    for (QCPAxis *axis : {m_plot->xAxis, m_plot->yAxis, m_plot->xAxis2, m_plot->yAxis2}) {
        axis->setBasePen(QPen(text));
        axis->setTickPen(QPen(text));
        axis->setSubTickPen(QPen(text));
        axis->setTickLabelColor(text);
        axis->setLabelColor(text);
        axis->grid()->setPen(QPen(mid, 0, Qt::DotLine));
        axis->grid()->setZeroLinePen(QPen(mid));
    }
    m_plot->legend->setBrush(p.base());
    m_plot->legend->setTextColor(text);
    m_plot->legend->setBorderPen(QPen(mid));
    m_plot->replot(QCustomPlot::rpQueuedReplot); // not before the widget has a size (a zero-sized paint buffer warns)
}

QString RunDashboard::detailText() const
{
    return m_detail->toPlainText();
}

// Read on a worker (the run folder is listed), shown when it lands; the newest request wins.
void RunDashboard::showDetail(qint64 runId)
{
    const quint64 read = ++m_detailRead;
    if (!m_ws || runId <= 0) {
        m_detail->clear();
        return;
    }
    const store::Workspace ws = *m_ws;
    QPointer<RunDashboard> self(this);
    QThread *worker = QThread::create([self, read, ws, runId] {
        QString html;
        try {
            const store::RunDetail d = store::readRunDetail(ws, runId);
            html = QStringLiteral("<h3>%1</h3><p>#%2 · %3 · %4").arg(d.name.toHtmlEscaped()).arg(d.id).arg(d.kind, d.status);
            if (d.finishedMs > 0 && d.startedMs > 0)
                html += QStringLiteral(" · ") + store::humanDuration((d.finishedMs - d.startedMs) / 1000.0);
            html += QStringLiteral("</p>");
            if (!d.error.isEmpty())
                html += QObject::tr("<p style='color:#c62828'>%1</p>").arg(d.error.toHtmlEscaped());
            if (!d.finalMetrics.isEmpty()) {
                html += QObject::tr("<p><b>Final metrics</b><br>");
                QStringList parts;
                for (const auto &[name, value] : d.finalMetrics)
                    parts << QStringLiteral("%1 = %2").arg(name.toHtmlEscaped(), QString::number(value, 'g', 5));
                html += parts.join(QStringLiteral(" · ")) + QStringLiteral("</p>");
            }
            if (!d.folder.isEmpty())
                html += QObject::tr("<p><b>Checkpoints</b> in %1<br>%2</p>").arg(d.folder.toHtmlEscaped(), d.checkpoints.join(QStringLiteral(", ")).toHtmlEscaped());
            if (!d.parents.isEmpty()) {
                QStringList parts;
                for (const auto &[id, name] : d.parents)
                    parts << QStringLiteral("#%1 %2").arg(id).arg(name.toHtmlEscaped());
                html += QObject::tr("<p><b>Came from</b><br>%1</p>").arg(parts.join(QStringLiteral("<br>")));
            }
            QStringList settings;
            for (auto it = d.settings.begin(); it != d.settings.end(); ++it) {
                const QJsonValue v = it.value();
                const QString text = v.isString() ? v.toString() : v.isBool() ? (v.toBool() ? QStringLiteral("true") : QStringLiteral("false"))
                                   : v.isDouble() ? QString::number(v.toDouble(), 'g', 10)
                                                  : QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
                settings << QStringLiteral("%1: %2").arg(it.key().toHtmlEscaped(), text.toHtmlEscaped());
            }
            html += QObject::tr("<p><b>Settings</b><br><tt>%1</tt></p>").arg(settings.join(QStringLiteral("<br>")));
        } catch (const Error &e) {
            html = e.message().toHtmlEscaped();
        }
        ws.releaseThreadConnection();
        QMetaObject::invokeMethod(qApp, [self, read, html] {
            if (self && read == self->m_detailRead)
                self->m_detail->setHtml(html);
        }, Qt::QueuedConnection);
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

QString RunDashboard::seriesName(qint64 runId) const
{
    const int row = m_runs->rowOfKey(runId);
    const QString name = row >= 0 ? m_runs->value(row, 3).toString() : QString();
    const QString kind = row >= 0 ? m_runs->value(row, 1).toString() : QString();
    if (name.isEmpty())
        return kind.isEmpty() ? tr("run %1").arg(runId) : tr("%1 #%2").arg(kind).arg(runId);
    return tr("%1 (#%2)").arg(name).arg(runId);
}

QStringList RunDashboard::legendNames() const
{
    QStringList names;
    for (int i = 0; i < m_plot->graphCount(); ++i)
        if (m_plot->legend->hasItemWithPlottable(m_plot->graph(i)))
            names << m_plot->graph(i)->name();
    return names;
}

void RunDashboard::setMetric(const QString &name)
{
    m_metric->setCurrentText(name);
    showRuns(m_shown);
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
        g->setName(seriesName(id));
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
