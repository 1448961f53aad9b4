#pragma once
#include "store/workspace.h"

namespace mpa::jobs {
class JobRunner;
}
namespace mpa::demo {
struct DemoLoopOptions;
}

#include <QMainWindow>
#include <optional>

class QComboBox;
class QLabel;
class QListWidget;
class QTabWidget;
class QTableView;

namespace mpa::ui {

class ImageTableModel;
class SampleTableModel;
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
    void launchAlign();
    void launch(int kind);
    void showShortcuts();
    void resumeStoppedRun();
    QListWidget *m_jobList = nullptr;
    void applyTheme(const QString &theme);
    void rememberRecent(const QString &path);
    void rebuildRecentMenu();
    QMenu *m_recent = nullptr;

    std::optional<store::Workspace> m_ws;
    QTabWidget *m_tabs = nullptr;
    QTableView *m_imageView = nullptr;
    QTableView *m_sampleView = nullptr;
    ImageTableModel *m_images = nullptr;
    SampleTableModel *m_samples = nullptr;
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
