#pragma once
// A read-only table over a workspace query, read in pages of kPageSize rows by key (keyset
// paging: WHERE key > last ORDER BY key LIMIT n) through store::readRows, which finishes every
// statement before it returns. Nothing stays open on the GUI thread's connection between
// event-loop turns (an open statement would pin its WAL snapshot: no later commit visible, and
// the next review decision failing with SQLITE_BUSY_SNAPSHOT).
// refresh() re-reads what changed: new rows (appended, or at the top for newest-first tables)
// and the rows on screen (setVisibleRows), updated in place so selection and scroll stay.
#include "store/rows.h"
#include "store/workspace.h"

#include <QAbstractTableModel>
#include <functional>
#include <optional>

namespace mpa::ui {

struct TableSpec
{
    QString columns;            // the SELECT list; the first column is the key
    QString from;               // FROM clause (tables and joins)
    QString where = QStringLiteral("1");
    QString key;                // the key expression, unique and indexed (e.g. "s.id")
    QStringList headers;
    bool newestFirst = false;   // descending key order (runs: newest on top)
    // Per column, the expression a click on its header sorts by ("" or missing: not sortable).
    // Sorted tables page by OFFSET in (expression, key) order; unsorted ones by key.
    QStringList sortExpressions;
};

class RowTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    static constexpr int kPageSize = 256;

    explicit RowTableModel(QObject *parent = nullptr);
    void setSpec(const TableSpec &spec);
    void setWorkspace(const store::Workspace &ws);
    // Which rows are on screen (the view's first and last visible row); refresh() re-reads
    // those (plus a margin) instead of everything fetched so far.
    void setVisibleRows(std::function<std::pair<int, int>()> visible) { m_visible = std::move(visible); }
    // Picks up rows added since the last read and re-reads the visible rows in place.
    void refresh();
    void clear();

    qint64 keyAt(int row) const;
    int rowOfKey(qint64 key) const;
    QVariant value(int row, int column) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;
    // By a column's sort expression (the header's click); column -1: back to key order.
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
    int sortColumn() const { return m_sortColumn; }

private:
    store::Rows read(const QString &keyCondition, const QVariantList &binds, int limit);
    void reloadAll();
    std::optional<store::Workspace> m_ws;
    TableSpec m_spec;
    QList<QVariantList> m_rows;
    bool m_exhausted = true;
    int m_sortColumn = -1;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    bool sorted() const { return m_sortColumn >= 0; }
    QString orderBy() const;
    void refreshSorted();
    std::function<std::pair<int, int>()> m_visible;
};

} // namespace mpa::ui
