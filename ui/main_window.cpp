#include "main_window.h"

#include "datasets/importer.h"
#include "jobs_panel.h"
#include "row_table_model.h"
#include "store/change_watcher.h"
#include "store/decision_queue.h"
#include "store/rows.h"
#include "store/sql_util.h"
#include "store/stats.h"
#include "util/error.h"
#include "backends/backend_factory.h"
#include "job_launcher.h"
#include "pipeline_home.h"
#include "export_dialog.h"
#include "empty_state.h"
#include "image_detail.h"
#include "prompt_editor.h"
#include "jobs/configured_job.h"
#include "jobs/job_runner.h"
#include "pipeline/evaluator.h"
#include "pipeline/parity_identifier.h"
#include "pipeline/pseudo_annotator.h"
#include "pipeline/parity_leveler.h"
#include "evaluation_view.h"
#include "demo/demo_loop.h"
#include "demo/demo_models.h"
#include "image_grid.h"
#include "models_view.h"
#include "review_view.h"
#include "thumbnail_cache.h"
#include "run_dashboard.h"
#include "workspace_table_models.h"

#include <QApplication>
#include <QCloseEvent>
#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QSqlQuery>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QDockWidget>
#include <QInputDialog>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListWidget>
#include <QStyle>
#include <QVBoxLayout>
#include <QThread>

namespace mpa::ui {

namespace {

// Long text is elided in the middle so both ends of a path stay readable.
QTableView *makeTable(QAbstractItemModel *model, QWidget *parent)
{
    auto *view = new QTableView(parent);
    view->setModel(model);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    view->setAlternatingRowColors(true);
    view->setWordWrap(false);
    view->setTextElideMode(Qt::ElideMiddle);
    view->verticalHeader()->hide();
    // Fixed row height: no per-row size computation, smooth on very long tables.
    view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 8);
    view->horizontalHeader()->setDefaultSectionSize(90);
    // A click on a header sorts by that column (again: the other way); not setSortingEnabled,
    // which would sort by column 0 at once and give up the key order's cheaper paging.
    view->horizontalHeader()->setSectionsClickable(true);
    view->horizontalHeader()->setSortIndicatorShown(true);
    view->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    QObject::connect(view->horizontalHeader(), &QHeaderView::sortIndicatorChanged, model,
                     [model](int column, Qt::SortOrder order) { model->sort(column, order); });
    return view;
}

// The path or question column takes the spare width. Only valid once the model has its
// columns (a header section that does not exist yet cannot be configured).
void stretchColumn(QTableView *view, int column)
{
    if (column < view->model()->columnCount())
        view->horizontalHeader()->setSectionResizeMode(column, QHeaderView::Stretch);
}
} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_tabs(new QTabWidget(this))
    , m_images(new RowTableModel(this))
    , m_samples(new RowTableModel(this))
    , m_counts(new QLabel(this))
    , m_watcher(new store::ChangeWatcher(this))
{
    setWindowTitle(tr("MPA Studio"));
    m_images->setSpec(imageTableSpec());
    m_samples->setSpec(sampleTableSpec());
    m_imageView = makeTable(m_images, m_tabs);
    m_sampleView = makeTable(m_samples, m_tabs);
    for (auto [model, view] : {std::pair{m_images, m_imageView}, std::pair{m_samples, m_sampleView}})
        model->setVisibleRows([view = view] { return std::pair<int, int>(view->rowAt(0), view->rowAt(view->viewport()->height() - 1)); });
    connect(m_watcher, &store::ChangeWatcher::changed, this, &MainWindow::workspaceChanged);
    m_thumbnails = new ThumbnailCache(this);
    m_grid = new ImageGridModel(m_thumbnails, this);
    m_gridView = new ImageGridView(m_tabs);
    m_gridView->setModel(m_grid);
    auto *browser = new QWidget(m_tabs);
    auto *badge = new QComboBox(browser);
    badge->setObjectName(QStringLiteral("badge-filter"));
    badge->addItem(tr("All images"), QStringList());
    for (const char *b : {"no pair", "pending", "gap", "approved", "rejected", "parse failure", "missing", "corrupt"})
        badge->addItem(QString::fromLatin1(b), QStringList{QString::fromLatin1(b)});
    auto *task = new QComboBox(browser);
    task->addItem(tr("Any task"), QString());
    for (const char *t : {"text", "chart", "knowledge"})
        task->addItem(QString::fromLatin1(t), QString::fromLatin1(t));
    m_annotatorFilter = new QComboBox(browser);
    m_annotatorFilter->setToolTip(tr("Only images with pairs written by this annotating model (Pseudo Annotator run)"));
    auto *search = new QLineEdit(browser);
    search->setPlaceholderText(tr("Search questions and answers"));
    search->setClearButtonEnabled(true);
    auto *sort = new QComboBox(browser);
    sort->addItem(tr("Import order"));
    sort->addItem(tr("By path"));
    // Pool vs benchmark images: MPA learns from the pool; benchmarks are only evaluated on.
    m_datasetFilter = new QComboBox(browser);
    m_datasetFilter->setObjectName(QStringLiteral("dataset-filter"));
    m_datasetFilter->setToolTip(tr("Unlabeled pool (what MPA learns from) or a benchmark's images"));
    auto *matches = new QLabel(browser);
    matches->setObjectName(QStringLiteral("matches"));
    connect(m_grid, &ImageGridModel::totalChanged, matches, [matches](qint64 n) { matches->setText(tr("%n image(s)", nullptr, static_cast<int>(n))); });
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_datasetFilter);
    bar->addWidget(badge);
    bar->addWidget(task);
    bar->addWidget(m_annotatorFilter);
    bar->addWidget(search, 1);
    bar->addWidget(sort);
    bar->addWidget(matches);
    auto *browserLayout = new QVBoxLayout(browser);
    browserLayout->setContentsMargins(0, 0, 0, 0);
    browserLayout->addLayout(bar);
    browserLayout->addWidget(m_gridView, 1);
    connect(badge, &QComboBox::currentIndexChanged, this, [this, badge] { m_grid->setBadgeFilter(badge->currentData().toStringList()); });
    auto applySampleFilter = [this, task, search] {
        m_grid->setSampleFilter(task->currentData().toString(), m_annotatorFilter->currentData().toString(), search->text().trimmed());
    };
    connect(task, &QComboBox::currentIndexChanged, this, applySampleFilter);
    connect(m_annotatorFilter, &QComboBox::currentIndexChanged, this, applySampleFilter);
    connect(search, &QLineEdit::returnPressed, this, applySampleFilter);
    connect(sort, &QComboBox::currentIndexChanged, this, [this](int i) { m_grid->setSortByPath(i == 1); });
    connect(m_datasetFilter, &QComboBox::currentIndexChanged, this, [this] { m_grid->setDatasetFilter(m_datasetFilter->currentData().toString()); });
    // Opening an image: the picture, its samples and their verdicts, and a jump to Review.
    connect(m_gridView, &QAbstractItemView::activated, this, [this](const QModelIndex &index) {
        openImage(index.data(ImageGridModel::ImageIdRole).toLongLong());
    });
    attachEmptyState(m_gridView, [this, badge] {
        if (!m_ws)
            return tr("No workspace is open: start on the Home tab.");
        if (m_grid->totalCount() == 0 && m_datasetFilter->currentIndex() <= 1 && badge->currentIndex() == 0)
            return tr("No images yet: Workspace > Import image folder (Ctrl+I).");
        return tr("No image matches these filters.");
    });
    m_home = new PipelineHome(m_tabs);
    connect(m_home, &PipelineHome::actionRequested, this, &MainWindow::homeAction);
    m_tabs->addTab(m_home, tr("Home"));
    m_tabs->addTab(browser, tr("Browser"));
    m_tabs->addTab(m_imageView, tr("Images"));
    m_tabs->addTab(m_sampleView, tr("Samples"));
    attachEmptyState(m_imageView, [this] {
        return m_ws ? tr("No images yet: Workspace > Import image folder (Ctrl+I).") : tr("No workspace is open: start on the Home tab.");
    });
    attachEmptyState(m_sampleView, [this] {
        return m_ws ? tr("No samples yet: pseudo-annotate the images (Home, step 2) or import annotations.")
                    : tr("No workspace is open: start on the Home tab.");
    });
    m_review = new ReviewView(m_tabs);
    m_tabs->addTab(m_review, tr("Review"));
    m_dashboard = new RunDashboard(m_tabs);
    m_tabs->addTab(m_dashboard, tr("Runs"));
    m_evaluation = new EvaluationView(m_tabs);
    m_tabs->addTab(m_evaluation, tr("Evaluation"));
    m_models = new ModelsView(m_tabs);
    m_tabs->addTab(m_models, tr("Models"));
    connect(m_review, &ReviewView::reviewsChanged, this, &MainWindow::showCounts);
    connect(m_review, &ReviewView::reviewsChanged, m_home, &PipelineHome::refresh);
    connect(m_review, &ReviewView::message, this, [this](const QString &text) { statusBar()->showMessage(text, 8000); });
    setCentralWidget(m_tabs);
    statusBar()->addPermanentWidget(m_counts);
    // The jobs panel: queued, running and finished jobs of this workspace in this session.
    auto *jobsDock = new QDockWidget(tr("Jobs"), this);
    jobsDock->setObjectName(QStringLiteral("jobs"));
    m_jobsPanel = new JobsPanel(jobsDock);
    jobsDock->setWidget(m_jobsPanel);
    // A few rows tall at most: at 1024 x 700 an idle dock used to take a third of the height.
    m_jobsPanel->setMaximumHeight(fontMetrics().height() * 9);
    addDockWidget(Qt::BottomDockWidgetArea, jobsDock);
    jobsDock->hide(); // nothing to show until a job is queued
    connect(m_jobsPanel, &JobsPanel::cancelRequested, this, [this](int id) {
        if (m_jobs)
            m_jobs->cancel(id);
    });
    connect(m_jobsPanel, &JobsPanel::resumeRequested, this, [this](qint64 runId) { resumeRun(runId); });
    buildMenus();
    m_home->setRecent(QSettings().value(QStringLiteral("workspace/recent")).toStringList());
    m_home->setWorkspace(std::nullopt);
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    if (!restoreState(settings.value(QStringLiteral("window/state")).toByteArray()))
        resize(1100, 700);
}

MainWindow::~MainWindow()
{
    delete m_jobs; // cancels and joins the worker before the widgets go
    m_jobs = nullptr;
}

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&Workspace"));
    file->addAction(tr("&New…"), QKeySequence::New, this, &MainWindow::newWorkspace);
    file->addAction(tr("&Open…"), QKeySequence::Open, this, &MainWindow::chooseWorkspace);
    file->addAction(tr("New &demo workspace…"), this, &MainWindow::newDemoWorkspace);
    file->addAction(tr("&Import image folder…"), QKeySequence(Qt::CTRL | Qt::Key_I), this, &MainWindow::importImages);
    file->addAction(tr("Import &annotations…"), this, &MainWindow::importAnnotations);
    file->addAction(tr("&Export…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, &MainWindow::exportSamples);
    file->addAction(tr("Task &prompts…"), this, &MainWindow::editPrompts);
    m_recent = file->addMenu(tr("&Recent"));
    rebuildRecentMenu();
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);
    QMenu *view = menuBar()->addMenu(tr("&View"));
    for (const auto &[name, label] : {std::pair<const char *, const char *>{"system", "Theme: follow the system"}, {"light", "Theme: light"}, {"dark", "Theme: dark"}})
        view->addAction(tr(label), this, [this, name = QString::fromLatin1(name)] {
            applyTheme(name);
            QSettings().setValue(QStringLiteral("ui/theme"), name);
        });
    view->addSeparator();
    // The Jobs dock can always be brought back (closing it used to lose it until the next start).
    if (auto *jobsDock = findChild<QDockWidget *>(QStringLiteral("jobs")))
        view->addAction(jobsDock->toggleViewAction());
    view->addAction(tr("&Home"), QKeySequence(Qt::CTRL | Qt::Key_1), this, [this] { showView(QStringLiteral("home")); });
    view->addSeparator();
    view->addAction(tr("Keyboard shortcuts"), QKeySequence(Qt::Key_Question), this, &MainWindow::showShortcuts);
    applyTheme(QSettings().value(QStringLiteral("ui/theme"), QStringLiteral("system")).toString());
    QMenu *runs = menuBar()->addMenu(tr("&Runs"));
    runs->addAction(tr("&Pseudo-annotate images…"), this, [this] { launch(static_cast<int>(JobKind::Annotate)); });
    runs->addAction(tr("&Identify parity…"), this, [this] { launch(static_cast<int>(JobKind::Identify)); });
    runs->addAction(tr("&Align the small model…"), this, [this] { launch(static_cast<int>(JobKind::Align)); });
    runs->addAction(tr("&Evaluate a model…"), this, [this] { launch(static_cast<int>(JobKind::Evaluate)); });
    runs->addAction(tr("&Resume a stopped run…"), this, &MainWindow::resumeStoppedRun);
    runs->addAction(tr("&Cancel running jobs"), this, [this] {
        if (m_jobs)
            m_jobs->cancelAll();
    });
}

bool MainWindow::openWorkspace(const QString &path, bool create)
{
    if (!settleUnsavedDecisions(tr("open another workspace")))
        return false;
    try {
        store::Workspace ws = create ? store::Workspace::openOrCreate(path) : store::Workspace::open(path);
        m_ws = ws;
    } catch (const Error &e) {
        // A workspace we may not write to can still be browsed.
        try {
            m_ws = store::Workspace::open(path, store::OpenMode::ReadOnly);
            statusBar()->showMessage(tr("Opened read-only: %1").arg(e.message()));
        } catch (const Error &) {
            QMessageBox::critical(this, tr("Cannot open workspace"), e.message());
            return false;
        }
    }
    setWindowTitle(tr("%1 — MPA Studio").arg(m_ws->root()));
    // Runs whose process died (crash, kill) are marked interrupted so they can be resumed.
    try {
        if (const int n = pipeline::recoverInterruptedRuns(*m_ws))
            statusBar()->showMessage(tr("%1 interrupted run(s) found; resume them from the command line with --resume").arg(n));
    } catch (const Error &) {
    }
    delete m_jobs;
    m_jobs = new jobs::JobRunner(*m_ws, this);
    m_jobsPanel->clear(); // the old workspace's jobs do not belong to this one
    connect(m_jobs, &jobs::JobRunner::progress, this, [this](int id, qint64 done, qint64 total, const QString &phase, double eta) {
        const QString text = tr("%1: %2 / %3, about %4 s left").arg(phase).arg(done).arg(total).arg(eta, 0, 'f', 0);
        statusBar()->showMessage(text);
        m_jobsPanel->jobProgress(id, done, total, text);
        // Progress follows a committed batch: show it now rather than at the next tick.
        m_watcher->nudge();
    });
    connect(m_jobs, &jobs::JobRunner::jobStarted, this, [this](int id, const QString &title) { m_jobsPanel->jobStarted(id, title); });
    connect(m_jobs, &jobs::JobRunner::jobFinished, this, [this](int id, bool ok, bool cancelled, const QString &message, qint64 runId) {
        const QString text = ok ? (cancelled ? tr("Cancelled: %1").arg(message) : tr("Finished: %1").arg(message)) : tr("Failed: %1").arg(message);
        statusBar()->showMessage(text);
        bool resumable = false;
        if (runId > 0 && m_ws) {
            try {
                QSqlDatabase db = m_ws->connection();
                const store::Rows kind = store::readRows(db, QStringLiteral("SELECT kind FROM runs WHERE id = ?"), {runId});
                resumable = !kind.isEmpty() && kind.at(0, 0).toString() != QLatin1String("import");
            } catch (const Error &) {
            }
        }
        m_jobsPanel->jobFinished(id, ok, cancelled, message, runId, resumable);
        m_watcher->poll(); // the run's end changed the runs table: workspaceChanged() refreshes the views
    });
    m_watcher->setWorkspace(*m_ws);
    QSettings().setValue(QStringLiteral("workspace/last"), m_ws->root());
    rememberRecent(m_ws->root());
    reload();
    m_home->setWorkspace(m_ws);
    m_tabs->setCurrentWidget(m_home);
    return true;
}

void MainWindow::workspaceChanged(quint32 tables)
{
    if (!m_ws)
        return;
    if (tables & store::Tables::Images)
        m_images->refresh();
    if (tables & (store::Tables::Samples | store::Tables::Images)) {
        m_samples->refresh();
        m_grid->refresh();
    }
    m_review->workspaceChanged(tables);
    m_dashboard->workspaceChanged(tables);
    // Scores are read on the view's worker, one read at a time: a running evaluation's score and
    // question count follow its committed predictions.
    if (tables & (store::Tables::Runs | store::Tables::Evaluations))
        m_evaluation->reload();
    if (tables & store::Tables::Runs) {
        fillAnnotatorFilter();
        fillDatasetFilter(); // an import run may have brought a benchmark
    }
    if (tables & store::Tables::Models)
        m_models->reload();
    if (tables & (store::Tables::Images | store::Tables::Samples))
        showCounts();
    // Not for metrics alone: a training run writes them every step, and none is counted here.
    if (tables & (store::Tables::Images | store::Tables::Samples | store::Tables::Reviews | store::Tables::Runs | store::Tables::Evaluations))
        m_home->refresh();
}

void MainWindow::openImage(qint64 imageId)
{
    if (!m_ws || imageId <= 0)
        return;
    auto *dialog = new ImageDetailDialog(*m_ws, imageId, this);
    connect(dialog, &ImageDetailDialog::reviewRequested, this, [this](qint64 id) {
        m_review->showSamplesOfImage(id);
        showView(QStringLiteral("review"));
    });
    dialog->show();
}

void MainWindow::editPrompts()
{
    if (!m_ws) {
        statusBar()->showMessage(tr("Open a workspace first (Workspace > Open)."), 8000);
        return;
    }
    PromptEditorDialog dialog(*m_ws, this);
    dialog.exec();
}

void MainWindow::fillDatasetFilter()
{
    const QString current = m_datasetFilter->currentData().toString();
    const QSignalBlocker block(m_datasetFilter);
    m_datasetFilter->clear();
    m_datasetFilter->addItem(tr("Every image"), QStringLiteral("all"));
    m_datasetFilter->addItem(tr("Unlabeled pool"), QStringLiteral("pool"));
    if (m_ws) {
        try {
            QSqlDatabase db = m_ws->connection();
            for (const QVariantList &r : store::readRows(db, QStringLiteral("SELECT DISTINCT dataset FROM benchmark_items ORDER BY dataset")).rows)
                m_datasetFilter->addItem(tr("Benchmark %1").arg(r.at(0).toString()), r.at(0).toString());
        } catch (const Error &) {
        }
    }
    // The pool by default: benchmark images are only evaluated on, and mixing them into the
    // grid hid the images MPA learns from.
    const int i = m_datasetFilter->findData(current.isEmpty() ? QStringLiteral("pool") : current);
    m_datasetFilter->setCurrentIndex(i >= 0 ? i : 0);
    m_grid->setDatasetFilter(m_datasetFilter->currentData().toString());
}

void MainWindow::exportSamples()
{
    if (!m_ws) {
        statusBar()->showMessage(tr("Open a workspace first (Workspace > Open)."), 8000);
        return;
    }
    ExportDialog dialog(*m_ws, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const QString out = dialog.outputPath();
    if (out.isEmpty()) {
        QMessageBox::information(this, tr("Export"), tr("Choose the file to export to."));
        return;
    }
    if (QFileInfo::exists(out)
        && QMessageBox::question(this, tr("Export"), tr("%1 already exists. Replace it?").arg(out)) != QMessageBox::Yes)
        return;
    const datasets::ExportOptions options = dialog.options();
    enqueueJob(tr("export %1").arg(QFileInfo(out).fileName()), [out, options](const store::Workspace &ws, const ProgressFn &) {
        pipeline::JobSummary s;
        s.done = datasets::exportWorkspace(ws, out, options);
        return s;
    });
}

void MainWindow::homeAction(const QString &action)
{
    if (action == QLatin1String("new"))
        newWorkspace();
    else if (action == QLatin1String("open"))
        chooseWorkspace();
    else if (action == QLatin1String("demo"))
        newDemoWorkspace();
    else if (action.startsWith(QLatin1String("recent:")))
        openWorkspace(action.mid(7));
    else if (action == QLatin1String("import-images"))
        importImages();
    else if (action == QLatin1String("import-annotations"))
        importAnnotations();
    else if (action == QLatin1String("review"))
        showView(QStringLiteral("review"));
    else if (action == QLatin1String("evaluation"))
        showView(QStringLiteral("evaluation"));
    else if (action == QLatin1String("export"))
        exportSamples();
    else if (action == QLatin1String("prompts"))
        editPrompts();
    else if (const auto kind = jobs::jobKindFromName(action))
        launch(static_cast<int>(*kind));
}

void MainWindow::showCounts()
{
    if (!m_ws)
        return;
    try {
        // Three indexed counts, not every statistic.
        QSqlDatabase db = m_ws->connection();
        const store::Rows r = store::readRows(db, QStringLiteral(
            "SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM samples), "
            "(SELECT count(*) FROM samples WHERE outcome = 'gap' AND verdict_stale = 0 AND review_state = 'approved')"));
        m_counts->setText(tr("%1 images · %2 samples · %3 approved gaps").arg(r.at(0, 0).toLongLong()).arg(r.at(0, 1).toLongLong()).arg(r.at(0, 2).toLongLong()));
    } catch (const Error &) {
        // Busy: the next change updates the counts.
    }
}

int MainWindow::unsavedDecisions() const
{
    return m_review->decisionQueue()->pendingCount();
}

bool MainWindow::settleUnsavedDecisions(const QString &action)
{
    store::DecisionQueue *q = m_review->decisionQueue();
    if (q->pendingCount() == 0 || q->flush(3000))
        return true;
    const auto answer = QMessageBox::warning(
        this, tr("Unsaved review decisions"),
        tr("%n review decision(s) could not be saved yet: %1\n\nKeep trying (recommended), or %2 and lose them?", nullptr, q->pendingCount())
            .arg(q->lastError(), action),
        QMessageBox::Retry | QMessageBox::Discard, QMessageBox::Retry);
    if (answer == QMessageBox::Retry)
        return q->flush(10000);
    return true;
}

int MainWindow::enqueueJob(const QString &title, std::function<pipeline::JobSummary(const store::Workspace &, const ProgressFn &)> job)
{
    if (!m_jobs)
        return 0;
    const int id = m_jobs->enqueue(title, std::move(job));
    m_jobsPanel->jobQueued(id, title);
    // The dock appears with the first job (View > Jobs hides and shows it).
    if (auto *dock = findChild<QDockWidget *>(QStringLiteral("jobs")))
        dock->show();
    return id;
}

void MainWindow::reload()
{
    if (!m_ws)
        return;
    m_images->setWorkspace(*m_ws);
    m_samples->setWorkspace(*m_ws);
    m_review->setWorkspace(*m_ws);
    m_grid->setWorkspace(*m_ws);
    fillDatasetFilter();
    fillAnnotatorFilter();
    m_evaluation->setWorkspace(*m_ws);
    m_models->setWorkspace(*m_ws);
    m_dashboard->setWorkspace(*m_ws);
    stretchColumn(m_imageView, 1);
    stretchColumn(m_sampleView, 3);
    showCounts();
}

// One entry per Pseudo Annotator run (the runs table is small), named by its model; samples
// carry the run as their source "pa:runN". The choice survives a reload; when it no longer
// exists (another workspace), the filter falls back to any annotator and the grid follows.
void MainWindow::fillAnnotatorFilter()
{
    const QString current = m_annotatorFilter->currentData().toString();
    {
        const QSignalBlocker block(m_annotatorFilter);
        m_annotatorFilter->clear();
        m_annotatorFilter->addItem(tr("Any annotator"), QString());
        QSqlDatabase db = m_ws->connection();
        store::Rows rows;
        try {
            rows = store::readRows(db, QStringLiteral("SELECT id, params FROM runs WHERE kind = 'annotate' ORDER BY id"));
        } catch (const Error &) {
        }
        for (const QVariantList &v : rows.rows) {
            const qint64 run = v[0].toLongLong();
            const QJsonObject params = QJsonDocument::fromJson(v[1].toString().toUtf8()).object();
            const QString model = QFileInfo(params.value(QStringLiteral("model")).toString()).fileName();
            m_annotatorFilter->addItem(tr("run %1 · %2").arg(run).arg(model), QStringLiteral("pa:run%1").arg(run));
        }
        m_annotatorFilter->setCurrentIndex(std::max(0, m_annotatorFilter->findData(current)));
    }
    if (m_annotatorFilter->currentData().toString() != current)
        Q_EMIT m_annotatorFilter->currentIndexChanged(m_annotatorFilter->currentIndex());
}

void MainWindow::newWorkspace()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("New workspace"), QString(), tr("MPA workspaces (*.mpaw)"));
    if (!path.isEmpty())
        openWorkspace(path, true);
}

void MainWindow::newDemoWorkspace()
{
    if (demo::findShippedDemoModels().isEmpty()) {
        QMessageBox::warning(this, tr("No demo models"), tr("The demo models were not found (resources/demo/models, or "
                                                            "share/mpa-studio/demo-models when installed)."));
        return;
    }
    const QString path = QFileDialog::getSaveFileName(this, tr("New demo workspace"), QStringLiteral("demo.mpaw"), tr("MPA workspaces (*.mpaw)"));
    if (path.isEmpty())
        return;
    if (QFileInfo::exists(path) || QFileInfo::exists(path + QStringLiteral(".mpaw"))) {
        QMessageBox::warning(this, tr("New demo workspace"), tr("%1 exists; the demo loop fills a new workspace.").arg(path));
        return;
    }
    startDemoWorkspace(path, demo::DemoLoopOptions{});
}

bool MainWindow::startDemoWorkspace(const QString &path, const demo::DemoLoopOptions &options)
{
    if (!openWorkspace(path, true))
        return false;
    // The whole loop (world, annotate, identify, scripted review, evaluate, align and the
    // comparisons) runs as one job: progress in the status bar, views refresh as runs finish.
    enqueueJob(tr("demo loop"), [options](const store::Workspace &ws, const ProgressFn &progress) {
        demo::runDemoLoop(ws, options, progress);
        pipeline::JobSummary s;
        s.done = 1;
        return s;
    });
    return true;
}

void MainWindow::chooseWorkspace()
{
    const QString path = QFileDialog::getExistingDirectory(this, tr("Open workspace (a .mpaw folder)"));
    if (!path.isEmpty())
        openWorkspace(path);
}

void MainWindow::importImages()
{
    if (!m_ws)
        return;
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Import image folder"));
    if (dir.isEmpty())
        return;
    // The scan and hashing run as a job (worker thread, own connection, progress in the status bar).
    enqueueJob(tr("import %1").arg(dir), [dir](const store::Workspace &ws, const ProgressFn &progress) {
        const datasets::ImportReport report = datasets::Importer(ws, progress).importImageFolder(dir);
        pipeline::JobSummary s;
        s.runId = report.runId;
        s.done = report.images;
        return s;
    });
}

bool MainWindow::compareEvaluations(qint64 runA, qint64 runB)
{
    showView(QStringLiteral("evaluation"));
    return m_evaluation->selectRuns(runA, runB);
}

void MainWindow::showView(const QString &name)
{
    const QStringList names = {QStringLiteral("home"), QStringLiteral("browser"), QStringLiteral("images"), QStringLiteral("samples"), QStringLiteral("review"),
                               QStringLiteral("runs"), QStringLiteral("evaluation"), QStringLiteral("models")};
    const int index = static_cast<int>(names.indexOf(name.toLower()));
    if (index < 0)
        return;
    m_tabs->setCurrentIndex(index);
    if (index == 5 && m_ws) {
        try {
            QSqlDatabase db = m_ws->connection();
            const store::Rows r = store::readRows(db, QStringLiteral("SELECT max(run_id) FROM metrics WHERE name = 'loss'"));
            if (!r.isEmpty() && !r.at(0, 0).isNull())
                m_dashboard->showRuns({r.at(0, 0).toLongLong()});
        } catch (const Error &) {
        }
    }
}

QString MainWindow::alignRefusal() const
{
    if (!m_ws)
        return tr("No workspace is open.");
    if (m_ws->isReadOnly())
        return tr("The workspace is open read-only.");
    if (store::collectStats(*m_ws).approvedGaps == 0)
        return tr("No approved knowledge gaps yet: identify parity, then approve gaps in the Review view (A).");
    return {};
}

void MainWindow::resumeStoppedRun()
{
    if (!m_ws)
        return;
    store::Rows rows;
    try {
        QSqlDatabase db = m_ws->connection();
        rows = store::readRows(db, QStringLiteral("SELECT id, kind, status, name FROM runs WHERE kind NOT IN ('import', 'export') "
                                                  "AND status IN ('interrupted', 'cancelled', 'failed') ORDER BY id DESC"));
    } catch (const Error &e) {
        statusBar()->showMessage(e.message(), 8000);
        return;
    }
    QStringList items;
    QHash<QString, qint64> runs;
    for (const QVariantList &v : rows.rows) {
        const QString label = tr("#%1 %2 (%3) %4").arg(v[0].toLongLong()).arg(v[1].toString(), v[2].toString(), v[3].toString());
        items << label;
        runs.insert(label, v[0].toLongLong());
    }
    if (items.isEmpty()) {
        QMessageBox::information(this, tr("Resume"), tr("No interrupted, cancelled or failed runs."));
        return;
    }
    bool ok = false;
    const QString chosen = QInputDialog::getItem(this, tr("Resume a stopped run"), tr("Run"), items, 0, false, &ok);
    if (ok)
        resumeRun(runs.value(chosen));
}

int MainWindow::resumeRun(qint64 runId)
{
    if (!m_ws || runId <= 0)
        return 0;
    store::Rows rows;
    try {
        QSqlDatabase db = m_ws->connection();
        rows = store::readRows(db, QStringLiteral("SELECT kind, params FROM runs WHERE id = ?"), {runId});
    } catch (const Error &e) {
        statusBar()->showMessage(e.message(), 8000);
        return 0;
    }
    if (rows.isEmpty())
        return 0;
    const QString kindName = rows.at(0, 0).toString();
    const std::optional<jobs::JobKind> kind = jobs::jobKindFromName(kindName);
    if (!kind) {
        statusBar()->showMessage(tr("Runs of kind %1 cannot be resumed here.").arg(kindName), 8000);
        return 0;
    }
    const QJsonObject p = QJsonDocument::fromJson(rows.at(0, 1).toString().toUtf8()).object();
    // Each job reads its own settings back from the run record; only the models are needed here.
    return enqueueJob(tr("resume #%1 (%2)").arg(runId).arg(kindName), [runId, kind, p](const store::Workspace &ws, const ProgressFn &progress) {
        return jobs::runConfiguredJob(ws, *kind, p, runId, progress);
    });
}

void MainWindow::showShortcuts()
{
    QMessageBox::information(this, tr("Keyboard shortcuts"),
                             tr("<table cellpadding=3>"
                                "<tr><td><b>A</b></td><td>approve the sample (Review)</td></tr>"
                                "<tr><td><b>R</b></td><td>reject</td></tr>"
                                "<tr><td><b>U</b></td><td>clear the decision</td></tr>"
                                "<tr><td><b>J</b> / <b>↓</b></td><td>next sample</td></tr>"
                                "<tr><td><b>K</b> / <b>↑</b></td><td>previous sample</td></tr>"
                                "<tr><td><b>Ctrl+Z</b> / <b>Ctrl+Shift+Z</b></td><td>undo / redo a decision</td></tr>"
                                "<tr><td><b>Enter</b> in question/answer</td><td>save the edit (the original is kept)</td></tr>"
                                "<tr><td><b>Ctrl+N</b> / <b>Ctrl+O</b></td><td>new / open workspace</td></tr>"
                                "<tr><td><b>Ctrl+I</b></td><td>import an image folder</td></tr>"
                                "<tr><td><b>?</b></td><td>this overview</td></tr></table>"));
}

void MainWindow::applyTheme(const QString &theme)
{
    // "system" keeps the platform's palette (light or dark as the desktop says).
    static const QPalette systemPalette = qApp->palette();
    if (theme == QLatin1String("dark")) {
        qApp->setStyle(QStringLiteral("Fusion"));
        QPalette p;
        p.setColor(QPalette::Window, QColor(45, 45, 48));
        p.setColor(QPalette::WindowText, Qt::white);
        p.setColor(QPalette::Base, QColor(30, 30, 30));
        p.setColor(QPalette::AlternateBase, QColor(45, 45, 48));
        p.setColor(QPalette::Text, Qt::white);
        p.setColor(QPalette::Button, QColor(53, 53, 56));
        p.setColor(QPalette::ButtonText, Qt::white);
        p.setColor(QPalette::Highlight, QColor(42, 130, 218));
        p.setColor(QPalette::HighlightedText, Qt::black);
        p.setColor(QPalette::ToolTipBase, QColor(53, 53, 56));
        p.setColor(QPalette::ToolTipText, Qt::white);
        p.setColor(QPalette::PlaceholderText, QColor(150, 150, 155)); // the default (dark grey) vanishes on the dark base
        p.setColor(QPalette::Mid, QColor(90, 90, 95));
        p.setColor(QPalette::Link, QColor(110, 170, 240));
        p.setColor(QPalette::Disabled, QPalette::Text, QColor(120, 120, 125));
        p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(120, 120, 125));
        p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(120, 120, 125));
        qApp->setPalette(p);
    } else if (theme == QLatin1String("light")) {
        qApp->setStyle(QStringLiteral("Fusion"));
        qApp->setPalette(qApp->style()->standardPalette());
    } else {
        qApp->setPalette(systemPalette);
    }
}

void MainWindow::rememberRecent(const QString &path)
{
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("workspace/recent")).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    settings.setValue(QStringLiteral("workspace/recent"), recent.mid(0, 8));
    rebuildRecentMenu();
    m_home->setRecent(recent.mid(0, 8));
}

void MainWindow::rebuildRecentMenu()
{
    if (!m_recent)
        return;
    m_recent->clear();
    for (const QString &path : QSettings().value(QStringLiteral("workspace/recent")).toStringList())
        m_recent->addAction(path, this, [this, path] { openWorkspace(path); });
    m_recent->setEnabled(!m_recent->isEmpty());
}

void MainWindow::launch(int kindValue)
{
    if (!m_ws)
        return;
    const auto kind = static_cast<JobKind>(kindValue);
    JobLauncherDialog dialog(*m_ws, kind, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    QJsonObject config;
    try {
        // Not resolved here: naming an aligned checkpoint reads its mpa_run.json, and the GUI
        // thread reads no files; runConfiguredJob resolves it on the job thread.
        config = dialog.configuration();
    } catch (const Error &e) {
        QMessageBox::information(this, tr("The run cannot start"), e.message());
        return;
    }
    // The dialog enabled Launch only after launchRefusal() passed on a worker (it reads model
    // folders); what changed since is caught by the job itself, with its error in the Jobs panel.
    const QString name = config.value(QStringLiteral("name")).toString();
    enqueueJob(name.isEmpty() ? dialog.windowTitle() : name, [kind, config](const store::Workspace &ws, const ProgressFn &progress) {
        return jobs::runConfiguredJob(ws, kind, config, 0, progress);
    });
    statusBar()->showMessage(tr("%1: queued").arg(dialog.windowTitle()));
}

void MainWindow::importAnnotations()
{
    if (!m_ws)
        return;
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Import annotations"));
    auto *format = new QComboBox(&dialog);
    const QList<QPair<QString, QString>> formats = {
        {QStringLiteral("textvqa"), tr("TextVQA (official JSON)")}, {QStringLiteral("stvqa"), tr("ST-VQA task 1")},
        {QStringLiteral("chartqa"), tr("ChartQA")}, {QStringLiteral("vqa"), tr("VQAv2 / OK-VQA (questions file, or merged)")},
        {QStringLiteral("llava"), tr("LLaVA / Qwen2-VL-Finetune conversations")}, {QStringLiteral("mpa-pa"), tr("MPA scripts: PA output")},
        {QStringLiteral("mpa-pi"), tr("MPA scripts: PI answers")}, {QStringLiteral("mpa-eval"), tr("MPA scripts: Eval output")},
        {QStringLiteral("jsonl"), tr("MPA Studio JSONL export")}};
    for (const auto &[key, label] : formats)
        format->addItem(label, key);
    auto *file = new QLineEdit(&dialog);
    auto *root = new QLineEdit(&dialog);
    root->setPlaceholderText(tr("optional: the folder the image paths are relative to"));
    auto *extra = new QLineEdit(&dialog);
    extra->setPlaceholderText(tr("vqa: annotations file · llava: task · mpa-pi: large or small"));
    auto *browse = new QPushButton(tr("Choose…"), &dialog);
    connect(browse, &QPushButton::clicked, &dialog, [&] {
        const QString f = QFileDialog::getOpenFileName(&dialog, tr("Annotation file"), {}, tr("JSON (*.json *.jsonl);;All files (*)"));
        if (!f.isEmpty())
            file->setText(f);
    });
    auto *form = new QFormLayout(&dialog);
    form->addRow(tr("Format"), format);
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(file, 1);
    fileRow->addWidget(browse);
    form->addRow(tr("File"), fileRow);
    form->addRow(tr("Image folder"), root);
    form->addRow(tr("Extra"), extra);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted || file->text().isEmpty())
        return;
    datasets::AnnotationImport r;
    r.format = format->currentData().toString();
    r.file = file->text();
    r.imageRoot = root->text();
    if (r.format == QLatin1String("vqa"))
        r.annotationsFile = extra->text();
    else if (r.format == QLatin1String("llava"))
        r.task = extra->text();
    else if (r.format == QLatin1String("mpa-pi"))
        r.role = extra->text();
    // Parsing and writing happen on the job thread.
    enqueueJob(tr("import %1").arg(QFileInfo(r.file).fileName()), [r](const store::Workspace &ws, const ProgressFn &progress) {
        const datasets::ImportReport report = datasets::importAnnotations(ws, r, progress);
        pipeline::JobSummary s;
        s.runId = report.runId;
        s.done = report.samples + report.questions + report.answers;
        return s;
    });
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!settleUnsavedDecisions(tr("quit"))) {
        event->ignore();
        return;
    }
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    event->accept();
}

} // namespace mpa::ui
