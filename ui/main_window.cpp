#include "main_window.h"

#include "datasets/importer.h"
#include "store/stats.h"
#include "util/error.h"
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
    , m_images(new ImageTableModel(this))
    , m_samples(new SampleTableModel(this))
    , m_counts(new QLabel(this))
{
    setWindowTitle(tr("MPA Studio"));
    m_imageView = makeTable(m_images, m_tabs);
    m_sampleView = makeTable(m_samples, m_tabs);
    m_tabs->addTab(m_imageView, tr("Images"));
    m_tabs->addTab(m_sampleView, tr("Samples"));
    setCentralWidget(m_tabs);
    statusBar()->addPermanentWidget(m_counts);
    buildMenus();
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    if (!restoreState(settings.value(QStringLiteral("window/state")).toByteArray()))
        resize(1100, 700);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&Workspace"));
    file->addAction(tr("&New…"), QKeySequence::New, this, &MainWindow::newWorkspace);
    file->addAction(tr("&Open…"), QKeySequence::Open, this, &MainWindow::chooseWorkspace);
    file->addAction(tr("&Import image folder…"), QKeySequence(Qt::CTRL | Qt::Key_I), this, &MainWindow::importImages);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);
}

bool MainWindow::openWorkspace(const QString &path, bool create)
{
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
    QSettings().setValue(QStringLiteral("workspace/last"), m_ws->root());
    reload();
    return true;
}

void MainWindow::reload()
{
    if (!m_ws)
        return;
    m_images->load(*m_ws);
    m_samples->load(*m_ws);
    stretchColumn(m_imageView, 1);
    stretchColumn(m_sampleView, 3);
    const store::WorkspaceStats stats = store::collectStats(*m_ws);
    qint64 images = 0, samples = 0;
    for (const auto &s : stats.imagesByStatus)
        images += s.second;
    for (const auto &s : stats.samplesByParse)
        samples += s.second;
    m_counts->setText(tr("%1 images · %2 samples · %3 approved gaps").arg(images).arg(samples).arg(stats.approvedGaps));
}

void MainWindow::newWorkspace()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("New workspace"), QString(), tr("MPA workspaces (*.mpaw)"));
    if (!path.isEmpty())
        openWorkspace(path, true);
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
    // The scan and hashing run on a worker thread with its own database connection.
    const store::Workspace ws = *m_ws;
    statusBar()->showMessage(tr("Importing %1…").arg(dir));
    QThread *worker = QThread::create([this, ws, dir] {
        QString message;
        try {
            datasets::Importer importer(ws, [this](qint64 done, qint64 total, const QString &) {
                QMetaObject::invokeMethod(this, [this, done, total] {
                    statusBar()->showMessage(tr("Importing images: %1 / %2").arg(done).arg(total));
                }, Qt::QueuedConnection);
                return true;
            });
            message = tr("Imported %1").arg(importer.importImageFolder(dir).summary());
        } catch (const Error &e) {
            message = e.message();
        }
        ws.releaseThreadConnection();
        QMetaObject::invokeMethod(this, [this, message] {
            statusBar()->showMessage(message);
            reload();
        }, Qt::QueuedConnection);
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    event->accept();
}

} // namespace mpa::ui
