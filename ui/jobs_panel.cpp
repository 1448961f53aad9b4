#include "jobs_panel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QProgressBar>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace mpa::ui {

namespace {
enum Column { IdColumn, TitleColumn, ProgressColumn, StateColumn, ActionColumn };
}

JobsPanel::JobsPanel(QWidget *parent)
    : QWidget(parent)
    , m_tree(new QTreeWidget(this))
{
    m_tree->setColumnCount(5);
    m_tree->setHeaderLabels({tr("#"), tr("Job"), tr("Progress"), tr("State"), QString()});
    m_tree->setRootIsDecorated(false);
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setSectionResizeMode(TitleColumn, QHeaderView::Stretch);
    m_tree->header()->setSectionResizeMode(StateColumn, QHeaderView::Stretch);
    m_tree->setColumnWidth(IdColumn, 40);
    m_tree->setColumnWidth(ProgressColumn, 140);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tree);
}

void JobsPanel::clear()
{
    m_tree->clear();
    m_items.clear();
}

QTreeWidgetItem *JobsPanel::itemFor(int jobId, const QString &title)
{
    if (QTreeWidgetItem *item = m_items.value(jobId))
        return item;
    auto *item = new QTreeWidgetItem(m_tree);
    item->setText(IdColumn, QString::number(jobId));
    item->setText(TitleColumn, title);
    auto *bar = new QProgressBar(m_tree);
    bar->setRange(0, 0); // busy until the job reports a total
    bar->setMaximumHeight(m_tree->fontMetrics().height() + 4);
    m_tree->setItemWidget(item, ProgressColumn, bar);
    m_items.insert(jobId, item);
    m_tree->scrollToItem(item);
    return item;
}

void JobsPanel::setActions(QTreeWidgetItem *item, int jobId, bool cancellable, qint64 resumeRunId)
{
    auto *box = new QWidget(m_tree);
    auto *row = new QHBoxLayout(box);
    row->setContentsMargins(0, 0, 0, 0);
    if (cancellable) {
        auto *cancel = new QPushButton(tr("Cancel"), box);
        cancel->setObjectName(QStringLiteral("cancel"));
        connect(cancel, &QPushButton::clicked, this, [this, jobId] { Q_EMIT cancelRequested(jobId); });
        row->addWidget(cancel);
    }
    if (resumeRunId > 0) {
        auto *resume = new QPushButton(tr("Resume"), box);
        resume->setObjectName(QStringLiteral("resume"));
        connect(resume, &QPushButton::clicked, this, [this, resumeRunId] { Q_EMIT resumeRequested(resumeRunId); });
        row->addWidget(resume);
    }
    m_tree->setItemWidget(item, ActionColumn, box);
}

void JobsPanel::jobQueued(int jobId, const QString &title)
{
    QTreeWidgetItem *item = itemFor(jobId, title);
    item->setText(StateColumn, tr("queued"));
    setActions(item, jobId, true, 0);
}

void JobsPanel::jobStarted(int jobId, const QString &title)
{
    QTreeWidgetItem *item = itemFor(jobId, title);
    item->setText(StateColumn, tr("running"));
    setActions(item, jobId, true, 0);
}

void JobsPanel::jobProgress(int jobId, qint64 done, qint64 total, const QString &text)
{
    QTreeWidgetItem *item = m_items.value(jobId);
    if (!item)
        return;
    item->setText(StateColumn, text);
    if (auto *bar = qobject_cast<QProgressBar *>(m_tree->itemWidget(item, ProgressColumn))) {
        if (total > 0) {
            // Percent of the job: totals can exceed an int.
            bar->setRange(0, 1000);
            bar->setValue(static_cast<int>(std::clamp<qint64>(done * 1000 / total, 0, 1000)));
            bar->setFormat(QStringLiteral("%1 / %2").arg(done).arg(total));
        } else {
            bar->setRange(0, 0);
        }
    }
}

void JobsPanel::jobFinished(int jobId, bool ok, bool cancelled, const QString &message, qint64 runId, bool resumable)
{
    QTreeWidgetItem *item = itemFor(jobId, QString());
    const QString state = !ok ? tr("failed: %1").arg(message) : cancelled ? tr("cancelled: %1").arg(message) : tr("finished: %1").arg(message);
    item->setText(StateColumn, state);
    item->setToolTip(StateColumn, state);
    if (auto *bar = qobject_cast<QProgressBar *>(m_tree->itemWidget(item, ProgressColumn))) {
        bar->setRange(0, 1000);
        if (ok && !cancelled)
            bar->setValue(1000);
        else if (bar->value() < 0)
            bar->setValue(0);
    }
    setActions(item, jobId, false, resumable && (cancelled || !ok) ? runId : 0);
}

int JobsPanel::rowCount() const
{
    return m_tree->topLevelItemCount();
}

QString JobsPanel::rowText(int jobId) const
{
    const QTreeWidgetItem *item = m_items.value(jobId);
    if (!item)
        return {};
    return QStringLiteral("#%1 · %2 · %3").arg(item->text(IdColumn), item->text(StateColumn), item->text(TitleColumn));
}

int JobsPanel::progressPercent(int jobId) const
{
    const QTreeWidgetItem *item = m_items.value(jobId);
    if (!item)
        return -1;
    const auto *bar = qobject_cast<const QProgressBar *>(m_tree->itemWidget(const_cast<QTreeWidgetItem *>(item), ProgressColumn));
    return bar && bar->maximum() > 0 ? bar->value() * 100 / bar->maximum() : -1;
}

} // namespace mpa::ui
