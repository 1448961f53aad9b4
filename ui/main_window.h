#pragma once
#include "store/workspace.h"

namespace mpa::jobs {
class JobRunner;
}
namespace mpa::demo {
struct DemoLoopOptions;
}
namespace mpa::store {
class ChangeWatcher;
}

#include <QMainWindow>
#include <functional>
#include <optional>

#include "pipeline/run_scope.h"

class QComboBox;
class QLabel;
class QListWidget;
class QTabWidget;
class QTableView;

namespace mpa::ui {

class JobsPanel;
class PipelineHome;
class RowTableModel;
class ReviewView;
class ImageGridModel;
class ImageGridView;
class ThumbnailCache;
class EvaluationView;
class ModelsView;
class RunDashboard;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens (or, when `create`, creates) a workspace; shows a message box on failure.
    bool openWorkspace(const QString &path, bool create = false);
    // Why an alignment cannot start now (empty when it can).
    QString alignRefusal() const;
    // Switches to a view by name (browser, images, samples, review, runs); the runs view shows
    // the newest run's loss.
    void showView(const QString &name);
    // The Evaluation view with the flip table of two evaluation runs.
    bool compareEvaluations(qint64 runA, qint64 runB);
    // Opens a new workspace at `path` and fills it with the demo loop as a background job.
    bool startDemoWorkspace(const QString &path, const demo::DemoLoopOptions &options);
    // Queues a job on this workspace's runner and lists it in the Jobs panel; returns its id.
    int enqueueJob(const QString &title, std::function<pipeline::JobSummary(const store::Workspace &, const ProgressFn &)> job);
    // Resumes a stopped annotate / identify / align / evaluate run as a job (0 when it cannot).
    int resumeRun(qint64 runId);
    // Decisions the Review view has not been able to save yet (busy database; retried).
    int unsavedDecisions() const;

    const std::optional<store::Workspace> &workspace() const { return m_ws; }
    jobs::JobRunner *jobRunner() const { return m_jobs; }
    JobsPanel *jobsPanel() const { return m_jobsPanel; }
    store::ChangeWatcher *changeWatcher() const { return m_watcher; }
    ReviewView *reviewView() const { return m_review; }
    PipelineHome *home() const { return m_home; }
    RunDashboard *runDashboard() const { return m_dashboard; }
    EvaluationView *evaluationView() const { return m_evaluation; }
    RowTableModel *sampleTable() const { return m_samples; }
    RowTableModel *imageTable() const { return m_images; }

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void newWorkspace();
    void chooseWorkspace();
    void newDemoWorkspace();
    void importImages();
    void importAnnotations();
    void reload();
    void buildMenus();
    void launch(int kind);
    void showShortcuts();
    void resumeStoppedRun();
    void homeAction(const QString &action);
    void exportSamples();
    void editPrompts();
    void openImage(qint64 imageId);
    void fillDatasetFilter();
    QComboBox *m_datasetFilter = nullptr;
    JobsPanel *m_jobsPanel = nullptr;
    // What another connection (a job thread, another process) wrote: refresh what it touched.
    void workspaceChanged(quint32 tables);
    void showCounts();
    // Saves or confirms dropping decisions still queued; false: the person chose to stay.
    bool settleUnsavedDecisions(const QString &action);
    store::ChangeWatcher *m_watcher = nullptr;
    void applyTheme(const QString &theme);
    void rememberRecent(const QString &path);
    void rebuildRecentMenu();
    QMenu *m_recent = nullptr;

    std::optional<store::Workspace> m_ws;
    QTabWidget *m_tabs = nullptr;
    PipelineHome *m_home = nullptr;
    QTableView *m_imageView = nullptr;
    QTableView *m_sampleView = nullptr;
    RowTableModel *m_images = nullptr;
    RowTableModel *m_samples = nullptr;
    QLabel *m_counts = nullptr;
    ReviewView *m_review = nullptr;
    ThumbnailCache *m_thumbnails = nullptr;
    ImageGridModel *m_grid = nullptr;
    ImageGridView *m_gridView = nullptr;
    QComboBox *m_annotatorFilter = nullptr; // the browser's "model" filter: which annotate run wrote the pairs
    void fillAnnotatorFilter();
    EvaluationView *m_evaluation = nullptr;
    ModelsView *m_models = nullptr;
    RunDashboard *m_dashboard = nullptr;
    jobs::JobRunner *m_jobs = nullptr;
};

} // namespace mpa::ui
