#include "row_table_model.h"

#include "util/error.h"

#include <QHash>

namespace mpa::ui {

RowTableModel::RowTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void RowTableModel::setSpec(const TableSpec &spec)
{
    m_spec = spec;
    reloadAll();
}

void RowTableModel::setWorkspace(const store::Workspace &ws)
{
    m_ws = ws;
    reloadAll();
}

void RowTableModel::clear()
{
    beginResetModel();
    m_ws.reset();
    m_rows.clear();
    m_exhausted = true;
    endResetModel();
}

QString RowTableModel::orderBy() const
{
    if (sorted())
        return QStringLiteral("%1 %2, %3").arg(m_spec.sortExpressions.at(m_sortColumn), m_sortOrder == Qt::AscendingOrder ? QStringLiteral("ASC") : QStringLiteral("DESC"),
                                               m_spec.key);
    return QStringLiteral("%1 %2").arg(m_spec.key, m_spec.newestFirst ? QStringLiteral("DESC") : QStringLiteral("ASC"));
}

store::Rows RowTableModel::read(const QString &keyCondition, const QVariantList &binds, int limit)
{
    QSqlDatabase db = m_ws->connection();
    QString sql = QStringLiteral("SELECT %1 FROM %2 WHERE (%3) AND %4 ORDER BY %5").arg(m_spec.columns, m_spec.from, m_spec.where, keyCondition, orderBy());
    if (limit > 0)
        sql += QStringLiteral(" LIMIT %1").arg(limit);
    if (limit > 0 && sorted())
        sql += QStringLiteral(" OFFSET %1").arg(m_rows.size());
    return store::readRows(db, sql, binds);
}

void RowTableModel::sort(int column, Qt::SortOrder order)
{
    const bool sortable = column >= 0 && column < m_spec.sortExpressions.size() && !m_spec.sortExpressions.at(column).isEmpty();
    const int next = sortable ? column : -1;
    if (next == m_sortColumn && (next < 0 || order == m_sortOrder))
        return;
    m_sortColumn = next;
    m_sortOrder = order;
    reloadAll();
}

void RowTableModel::reloadAll()
{
    beginResetModel();
    m_rows.clear();
    m_exhausted = !m_ws || m_spec.columns.isEmpty();
    endResetModel();
    if (!m_exhausted)
        fetchMore({});
}

bool RowTableModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && !m_exhausted;
}

void RowTableModel::fetchMore(const QModelIndex &parent)
{
    if (parent.isValid() || m_exhausted || !m_ws)
        return;
    store::Rows page;
    try {
        if (m_rows.isEmpty() || sorted())
            page = read(QStringLiteral("1"), {}, kPageSize);
        else
            page = read(QStringLiteral("%1 %2 ?").arg(m_spec.key, m_spec.newestFirst ? QStringLiteral("<") : QStringLiteral(">")),
                        {m_rows.last().first()}, kPageSize);
    } catch (const Error &) {
        return; // busy: the next refresh or scroll fetches it
    }
    if (page.size() < kPageSize)
        m_exhausted = true;
    if (page.isEmpty())
        return;
    const int first = static_cast<int>(m_rows.size());
    beginInsertRows({}, first, first + static_cast<int>(page.size()) - 1);
    m_rows += page.rows;
    endInsertRows();
}

void RowTableModel::refresh()
{
    if (!m_ws || m_spec.columns.isEmpty())
        return;
    if (m_rows.isEmpty()) {
        reloadAll();
        return;
    }
    if (sorted()) {
        refreshSorted();
        return;
    }
    try {
        // 1. Rows added since: at the top (newest first) or beyond the end (the next fetchMore).
        if (m_spec.newestFirst) {
            const store::Rows fresh = read(QStringLiteral("%1 > ?").arg(m_spec.key), {m_rows.first().first()}, 0);
            if (!fresh.isEmpty()) {
                beginInsertRows({}, 0, static_cast<int>(fresh.size()) - 1);
                m_rows = fresh.rows + m_rows;
                endInsertRows();
            }
        } else if (m_exhausted) {
            m_exhausted = false;
            fetchMore({});
        }
        // 2. The rows on screen (with a margin), re-read in place.
        int first = 0, last = static_cast<int>(m_rows.size()) - 1;
        if (m_visible) {
            const auto [a, b] = m_visible();
            first = std::clamp(a - 32, 0, last);
            last = std::clamp(b < 0 ? a + kPageSize : b + 32, first, last);
        }
        const qint64 lo = std::min(keyAt(first), keyAt(last)), hi = std::max(keyAt(first), keyAt(last));
        const store::Rows now = read(QStringLiteral("%1 BETWEEN ? AND ?").arg(m_spec.key), {lo, hi}, 0);
        if (now.size() != last - first + 1) {
            // Rows inserted or deleted inside the range: rare (imports re-number nothing), so
            // read the whole fetched extent again.
            const qsizetype had = m_rows.size();
            reloadAll();
            while (m_rows.size() < had && canFetchMore({}))
                fetchMore({});
            return;
        }
        for (int i = 0; i < now.size(); ++i) {
            const int row = first + i;
            if (m_rows[row] != now.rows[i]) {
                m_rows[row] = now.rows[i];
                Q_EMIT dataChanged(index(row, 0), index(row, columnCount() - 1));
            }
        }
    } catch (const Error &) {
        // Busy: the next change notification tries again.
    }
}

// Sorted: a new or removed row may belong anywhere, so a changed count reads the fetched extent
// again; otherwise the rows on screen are re-read by key, in place.
void RowTableModel::refreshSorted()
{
    try {
        QSqlDatabase db = m_ws->connection();
        const qint64 total = store::readRows(db, QStringLiteral("SELECT count(*) FROM %1 WHERE %2").arg(m_spec.from, m_spec.where)).at(0, 0).toLongLong();
        if ((m_exhausted && total != m_rows.size()) || total < m_rows.size()) {
            const qsizetype had = m_rows.size();
            reloadAll();
            while (m_rows.size() < had && canFetchMore({}))
                fetchMore({});
            return;
        }
        int first = 0, last = static_cast<int>(m_rows.size()) - 1;
        if (m_visible) {
            const auto [a, b] = m_visible();
            first = std::clamp(a - 32, 0, last);
            last = std::clamp(b < 0 ? a + kPageSize : b + 32, first, last);
        }
        QStringList keys;
        for (int r = first; r <= last; ++r)
            keys << QString::number(keyAt(r));
        const store::Rows now = read(QStringLiteral("%1 IN (%2)").arg(m_spec.key, keys.join(QLatin1Char(','))), {}, 0);
        QHash<qint64, const QVariantList *> byKey;
        for (const QVariantList &r : now.rows)
            byKey.insert(r.first().toLongLong(), &r);
        for (int r = first; r <= last; ++r)
            if (const QVariantList *fresh = byKey.value(keyAt(r)); fresh && *fresh != m_rows[r]) {
                m_rows[r] = *fresh;
                Q_EMIT dataChanged(index(r, 0), index(r, columnCount() - 1));
            }
    } catch (const Error &) {
        // Busy: the next change notification tries again.
    }
}

qint64 RowTableModel::keyAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows[row].first().toLongLong() : 0;
}

int RowTableModel::rowOfKey(qint64 key) const
{
    for (qsizetype i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].first().toLongLong() == key)
            return static_cast<int>(i);
    return -1;
}

QVariant RowTableModel::value(int row, int column) const
{
    if (row < 0 || row >= m_rows.size() || column < 0 || column >= m_rows[row].size())
        return {};
    return m_rows[row][column];
}

int RowTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RowTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_spec.headers.size());
}

QVariant RowTableModel::data(const QModelIndex &index, int role) const
{
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    return value(index.row(), index.column());
}

QVariant RowTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::DisplayRole && section >= 0 && section < m_spec.headers.size())
        return m_spec.headers.at(section);
    return QAbstractTableModel::headerData(section, orientation, role);
}

} // namespace mpa::ui
