#pragma once
// The first view: without a workspace, the start screen (New, Open, Recent, New demo
// workspace); with one, the MPA loop as six stages (Import, Pseudo-annotate, Identify, Review,
// Align, Evaluate), each with what it means in one line, its counts (per task where it has
// them), whether it is done, and its action; the next stage's action is the big button on top.
// Counts are read on a worker thread whenever the workspace changes (newest read wins).
#include "store/pipeline_progress.h"
#include "store/workspace.h"

#include <QWidget>
#include <optional>

class QLabel;
class QListWidget;
class QPushButton;
class QStackedWidget;

namespace mpa::ui {

class PipelineHome : public QWidget
{
    Q_OBJECT
public:
    explicit PipelineHome(QWidget *parent = nullptr);
    void setWorkspace(const std::optional<store::Workspace> &ws);
    void setRecent(const QStringList &paths);
    void refresh(); // re-reads the counts (off the GUI thread)
    // What the view shows now (tests): the last counts read, and a stage's counts line.
    const store::PipelineProgress &progress() const { return m_progress; }
    QString stageText(store::PipelineStage stage) const;
    bool isStartScreen() const;

Q_SIGNALS:
    // "new", "open", "demo", "recent:<path>", "import-images", "import-annotations",
    // "annotate", "identify", "review", "align", "evaluate", "evaluation", "export", "prompts"
    void actionRequested(const QString &action);
    void progressShown(); // after each refresh lands

private:
    struct StageRow
    {
        QLabel *status = nullptr;
        QLabel *counts = nullptr;
        QPushButton *action = nullptr;
    };
    void show(const store::PipelineProgress &p);
    QWidget *buildStartScreen();
    QWidget *buildPipeline();
    std::optional<store::Workspace> m_ws;
    store::PipelineProgress m_progress;
    quint64 m_read = 0;
    bool m_reading = false, m_dirty = false;
    QStackedWidget *m_stack;
    QListWidget *m_recent = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_nextText = nullptr;
    QPushButton *m_next = nullptr;
    QString m_nextAction;
    StageRow m_rows[6];
};

} // namespace mpa::ui
