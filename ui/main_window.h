#pragma once
#include "store/workspace.h"

#include <QMainWindow>
#include <optional>

class QLabel;
class QTabWidget;
class QTableView;

namespace mpa::ui {

class ImageTableModel;
class SampleTableModel;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens (or, when `create`, creates) a workspace; shows a message box on failure.
    bool openWorkspace(const QString &path, bool create = false);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void newWorkspace();
    void chooseWorkspace();
    void importImages();
    void reload();
    void buildMenus();

    std::optional<store::Workspace> m_ws;
    QTabWidget *m_tabs = nullptr;
    QTableView *m_imageView = nullptr;
    QTableView *m_sampleView = nullptr;
    ImageTableModel *m_images = nullptr;
    SampleTableModel *m_samples = nullptr;
    QLabel *m_counts = nullptr;
};

} // namespace mpa::ui
