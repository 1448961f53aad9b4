#pragma once
// The image browser: a thumbnail grid that stays smooth on 100,000+ images (paged model,
// fixed-size cells, thumbnails from ThumbnailCache) with a badge per image: no pair, pending,
// gap, approved, rejected, parse failure, missing or corrupt file.
#include "store/workspace.h"

#include <QAbstractListModel>
#include <QListView>
#include <QStyledItemDelegate>
#include <optional>

namespace mpa::ui {

class ThumbnailCache;

struct ImageCell
{
    qint64 id = 0;
    QString path;
    QString status;
    QString sha256;
    QString badge; // see badgeFor()
};

class ImageGridModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Role { BadgeRole = Qt::UserRole + 1, ImageIdRole, StatusRole };
    static constexpr int kPageSize = 1000;

    explicit ImageGridModel(ThumbnailCache *thumbnails, QObject *parent = nullptr);
    void setWorkspace(const store::Workspace &ws);
    // Only images whose badge is one of these (empty: all).
    void setBadgeFilter(const QStringList &badges);
    // Only images with a sample of this task / from this source (e.g. "pa:run3": the pairs one
    // annotating model wrote) / whose question or answer contains `text` (empty: no condition);
    // sorted by import order or by file path.
    void setSampleFilter(const QString &task, const QString &source, const QString &text);
    void setSortByPath(bool byPath);
    // "" or "all" every image, "pool" the unlabeled images MPA learns from (no benchmark uses them),
    // or a benchmark's name: its images.
    void setDatasetFilter(const QString &dataset);
    qint64 totalCount() const { return m_total; }
    // Another connection wrote: re-count, fetch what was added when the grid was fully read,
    // and re-read the badges of the fetched cells (up to kBadgeRefreshLimit of them).
    void refresh();
    static constexpr int kBadgeRefreshLimit = 5000;

Q_SIGNALS:
    void totalChanged(qint64 total); // how many images match the filters, after each count

public:

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

private:
    void reload();
    std::optional<store::Workspace> m_ws;
    ThumbnailCache *m_thumbnails;
    QList<ImageCell> m_cells;
    QHash<qint64, int> m_rowOf;
    QStringList m_badges;
    QString m_task, m_source, m_text, m_dataset;
    bool m_byPath = false;
    QString whereSql(QVariantList &binds) const;
    bool m_exhausted = true;
    qint64 m_total = 0;
};

class ImageGridDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &, const QModelIndex &) const override;
};

// A QListView in icon mode with uniform cells.
class ImageGridView : public QListView
{
    Q_OBJECT
public:
    explicit ImageGridView(QWidget *parent = nullptr);
};

} // namespace mpa::ui
