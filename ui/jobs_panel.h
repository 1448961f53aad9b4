#pragma once
// The Jobs dock: this workspace's jobs of this session, one row each with its id (unique for
// the life of the process), a progress bar, its state, and a Cancel button while it is queued or
// running / a Resume button when it stopped with a resumable run. Opening another workspace
// clears it (its jobs belong to the workspace they write).
#include <QHash>
#include <QWidget>

class QTreeWidget;
class QTreeWidgetItem;

namespace mpa::ui {

class JobsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit JobsPanel(QWidget *parent = nullptr);

    void clear();
    void jobQueued(int jobId, const QString &title);
    void jobStarted(int jobId, const QString &title);
    void jobProgress(int jobId, qint64 done, qint64 total, const QString &text);
    void jobFinished(int jobId, bool ok, bool cancelled, const QString &message, qint64 runId, bool resumable);

    int rowCount() const;
    // The row's text for job `jobId` ("#12 · running · annotate …"), empty when absent.
    QString rowText(int jobId) const;
    int progressPercent(int jobId) const;

Q_SIGNALS:
    void cancelRequested(int jobId);
    void resumeRequested(qint64 runId);

private:
    QTreeWidgetItem *itemFor(int jobId, const QString &title);
    void setActions(QTreeWidgetItem *item, int jobId, bool cancellable, qint64 resumeRunId);
    QTreeWidget *m_tree;
    QHash<int, QTreeWidgetItem *> m_items;
};

} // namespace mpa::ui
