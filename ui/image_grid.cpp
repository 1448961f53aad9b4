#include "image_grid.h"

#include "store/rows.h"
#include "util/error.h"

#include "store/sql_util.h"
#include "thumbnail_cache.h"

#include <QFileInfo>
#include <QPainter>

namespace mpa::ui {

namespace {

// One badge per image, the most important first.
const char *kBadgeSql = R"(CASE
    WHEN i.status = 'missing' THEN 'missing'
    WHEN i.status != 'ok' THEN 'corrupt'
    WHEN NOT EXISTS (SELECT 1 FROM samples s WHERE s.image_id = i.id) THEN 'no pair'
    WHEN EXISTS (SELECT 1 FROM samples s WHERE s.image_id = i.id AND s.review_state = 'rejected') THEN 'rejected'
    WHEN EXISTS (SELECT 1 FROM samples s WHERE s.image_id = i.id AND s.review_state = 'approved') THEN 'approved'
    WHEN EXISTS (SELECT 1 FROM samples s WHERE s.image_id = i.id AND s.outcome = 'gap') THEN 'gap'
    WHEN NOT EXISTS (SELECT 1 FROM samples s WHERE s.image_id = i.id AND s.parse_status = 'ok') THEN 'parse failure'
    ELSE 'pending' END)";

QColor badgeColor(const QString &b)
{
    if (b == QLatin1String("gap"))
        return QColor(0xd3, 0x54, 0x00);
    if (b == QLatin1String("approved"))
        return QColor(0x2e, 0x7d, 0x32);
    if (b == QLatin1String("rejected"))
        return QColor(0xc6, 0x28, 0x28);
    if (b == QLatin1String("missing") || b == QLatin1String("corrupt") || b == QLatin1String("parse failure"))
        return QColor(0x6a, 0x1b, 0x9a);
    if (b == QLatin1String("pending"))
        return QColor(0x15, 0x65, 0xc0);
    return QColor(0x75, 0x75, 0x75);
}

} // namespace

ImageGridModel::ImageGridModel(ThumbnailCache *thumbnails, QObject *parent)
    : QAbstractListModel(parent)
    , m_thumbnails(thumbnails)
{
    connect(m_thumbnails, &ThumbnailCache::ready, this, [this](qint64 id) {
        const int row = m_rowOf.value(id, -1);
        if (row >= 0)
            Q_EMIT dataChanged(index(row), index(row), {Qt::DecorationRole});
    });
}

void ImageGridModel::setWorkspace(const store::Workspace &ws)
{
    m_ws = ws;
    m_thumbnails->setCacheDir(ws.thumbnailDir());
    reload();
}

void ImageGridModel::setBadgeFilter(const QStringList &badges)
{
    m_badges = badges;
    reload();
}

static QString badgeCondition(const QStringList &badges)
{
    if (badges.isEmpty())
        return QStringLiteral("1");
    QStringList quoted;
    for (const QString &b : badges)
        quoted << QLatin1Char('\'') + QString(b).replace(QLatin1Char('\''), QStringLiteral("''")) + QLatin1Char('\'');
    return QStringLiteral("%1 IN (%2)").arg(QLatin1String(kBadgeSql), quoted.join(QLatin1Char(',')));
}

void ImageGridModel::setSampleFilter(const QString &task, const QString &source, const QString &text)
{
    m_task = task;
    m_source = source;
    m_text = text;
    reload();
}

void ImageGridModel::setSortByPath(bool byPath)
{
    m_byPath = byPath;
    reload();
}

QString ImageGridModel::whereSql(QVariantList &binds) const
{
    QString w = badgeCondition(m_badges);
    if (m_dataset == QLatin1String("pool")) {
        w += QStringLiteral(" AND NOT EXISTS (SELECT 1 FROM benchmark_items b WHERE b.image_id = i.id)");
    } else if (!m_dataset.isEmpty()) {
        w += QStringLiteral(" AND EXISTS (SELECT 1 FROM benchmark_items b WHERE b.image_id = i.id AND b.dataset = ?)");
        binds << m_dataset;
    }
    if (!m_task.isEmpty()) {
        w += QStringLiteral(" AND EXISTS (SELECT 1 FROM samples s WHERE s.image_id = i.id AND s.task = ?)");
        binds << m_task;
    }
    if (!m_source.isEmpty()) {
        w += QStringLiteral(" AND EXISTS (SELECT 1 FROM samples s WHERE s.image_id = i.id AND s.source = ?)");
        binds << m_source;
    }
    if (!m_text.isEmpty()) {
        w += QStringLiteral(" AND EXISTS (SELECT 1 FROM samples s WHERE s.image_id = i.id AND (instr(lower(COALESCE(s.reviewed_question, s.question, '')), lower(?)) > 0 "
                            "OR instr(lower(COALESCE(s.reviewed_answer, s.answer, '')), lower(?)) > 0))");
        binds << m_text << m_text;
    }
    return w;
}

void ImageGridModel::reload()
{
    beginResetModel();
    m_cells.clear();
    m_rowOf.clear();
    m_exhausted = !m_ws;
    m_total = 0;
    if (m_ws) {
        QSqlDatabase db = m_ws->connection();
        QVariantList binds;
        const QString sql = QStringLiteral("SELECT count(*) FROM images i WHERE %1").arg(whereSql(binds));
        try {
            m_total = store::readRows(db, sql, binds).at(0, 0).toLongLong();
        } catch (const Error &) {
            m_total = 0; // busy: the next refresh counts
        }
    }
    endResetModel();
    fetchMore({});
    Q_EMIT totalChanged(m_total);
}

void ImageGridModel::setDatasetFilter(const QString &dataset)
{
    const QString d = dataset == QLatin1String("all") ? QString() : dataset;
    if (d == m_dataset)
        return;
    m_dataset = d;
    reload();
}

int ImageGridModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_cells.size());
}

bool ImageGridModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && !m_exhausted;
}

void ImageGridModel::fetchMore(const QModelIndex &parent)
{
    if (parent.isValid() || m_exhausted || !m_ws)
        return;
    QSqlDatabase db = m_ws->connection();
    QVariantList binds;
    const QString where = whereSql(binds);
    QString sql;
    if (m_byPath) {
        // Path order pages by offset; import order by key.
        sql = QStringLiteral("SELECT i.id, i.path, i.status, COALESCE(i.sha256, ''), %1 FROM images i WHERE %2 "
                             "ORDER BY i.path, i.id LIMIT %3 OFFSET %4").arg(QLatin1String(kBadgeSql), where).arg(kPageSize).arg(m_cells.size());
    } else {
        sql = QStringLiteral("SELECT i.id, i.path, i.status, COALESCE(i.sha256, ''), %1 FROM images i WHERE i.id > ? AND %2 "
                             "ORDER BY i.id LIMIT %3").arg(QLatin1String(kBadgeSql), where).arg(kPageSize);
        binds.prepend(m_cells.isEmpty() ? 0 : m_cells.last().id);
    }
    store::Rows rows;
    try {
        rows = store::readRows(db, sql, binds);
    } catch (const Error &) {
        return; // busy: scrolling or the next refresh fetches it
    }
    QList<ImageCell> page;
    for (const QVariantList &v : rows.rows)
        page.append({v[0].toLongLong(), v[1].toString(), v[2].toString(), v[3].toString(), v[4].toString()});
    if (page.size() < kPageSize)
        m_exhausted = true;
    if (page.isEmpty())
        return;
    beginInsertRows({}, static_cast<int>(m_cells.size()), static_cast<int>(m_cells.size() + page.size() - 1));
    for (const ImageCell &c : page) {
        m_rowOf.insert(c.id, static_cast<int>(m_cells.size()));
        m_cells.append(c);
    }
    endInsertRows();
}

void ImageGridModel::refresh()
{
    if (!m_ws)
        return;
    if (m_cells.isEmpty()) {
        reload();
        return;
    }
    try {
        QSqlDatabase db = m_ws->connection();
        QVariantList binds;
        const QString where = whereSql(binds);
        const qint64 before = m_total;
        m_total = store::readRows(db, QStringLiteral("SELECT count(*) FROM images i WHERE %1").arg(where), binds).at(0, 0).toLongLong();
        if (m_total != before)
            Q_EMIT totalChanged(m_total);
        if (m_exhausted && m_cells.size() < m_total) {
            m_exhausted = false;
            fetchMore({});
        }
        // Badges follow the samples (a new pair, a verdict, a decision).
        const qsizetype n = std::min<qsizetype>(m_cells.size(), kBadgeRefreshLimit);
        for (qsizetype start = 0; start < n; start += 500) {
            QStringList ids;
            for (qsizetype i = start; i < std::min(n, start + 500); ++i)
                ids << QString::number(m_cells[i].id);
            const store::Rows rows = store::readRows(db, QStringLiteral("SELECT i.id, %1 FROM images i WHERE i.id IN (%2)")
                                                             .arg(QLatin1String(kBadgeSql), ids.join(QLatin1Char(','))));
            for (const QVariantList &v : rows.rows) {
                const int row = m_rowOf.value(v[0].toLongLong(), -1);
                if (row >= 0 && m_cells[row].badge != v[1].toString()) {
                    m_cells[row].badge = v[1].toString();
                    Q_EMIT dataChanged(index(row), index(row), {BadgeRole, Qt::ToolTipRole});
                }
            }
        }
    } catch (const Error &) {
        // Busy: the next change notification tries again.
    }
}

QVariant ImageGridModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_cells.size())
        return {};
    const ImageCell &c = m_cells[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        return QFileInfo(c.path).fileName();
    case Qt::ToolTipRole:
        return QStringLiteral("%1\n%2").arg(c.path, c.badge);
    case Qt::DecorationRole: {
        // Only visible cells are painted, so only they ask: the viewport is served first.
        if (c.status != QLatin1String("ok"))
            return {};
        const QPixmap *p = m_thumbnails->get(c.id, c.path, c.sha256);
        return p ? QVariant(*p) : QVariant();
    }
    case BadgeRole:
        return c.badge;
    case ImageIdRole:
        return c.id;
    case StatusRole:
        return c.status;
    default:
        return {};
    }
}

QSize ImageGridDelegate::sizeHint(const QStyleOptionViewItem &, const QModelIndex &) const
{
    return QSize(ThumbnailCache::kSize + 16, ThumbnailCache::kSize + 36);
}

void ImageGridDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    painter->save();
    const QRect r = option.rect.adjusted(4, 4, -4, -4);
    if (option.state & QStyle::State_Selected)
        painter->fillRect(option.rect, option.palette.highlight());
    const QRect imageRect(r.left(), r.top(), r.width(), ThumbnailCache::kSize);
    const QPixmap pix = index.data(Qt::DecorationRole).value<QPixmap>();
    if (!pix.isNull()) {
        const QSize s = pix.size().scaled(imageRect.size(), Qt::KeepAspectRatio);
        painter->drawPixmap(QRect(imageRect.center() - QPoint(s.width() / 2, s.height() / 2), s), pix);
    } else {
        painter->fillRect(imageRect, option.palette.alternateBase());
    }
    const QString badge = index.data(ImageGridModel::BadgeRole).toString();
    const QRect badgeRect(r.left(), imageRect.bottom() + 4, r.width(), 18);
    painter->setPen(Qt::NoPen);
    painter->setBrush(badgeColor(badge));
    painter->drawRoundedRect(QRect(badgeRect.left(), badgeRect.top() + 4, 10, 10), 5, 5);
    painter->setPen(option.palette.text().color());
    painter->drawText(badgeRect.adjusted(14, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter,
                      option.fontMetrics.elidedText(badge + QStringLiteral(" · ") + index.data(Qt::DisplayRole).toString(), Qt::ElideMiddle, badgeRect.width() - 14));
    painter->restore();
}

ImageGridView::ImageGridView(QWidget *parent)
    : QListView(parent)
{
    setViewMode(QListView::IconMode);
    setResizeMode(QListView::Adjust);
    setMovement(QListView::Static);
    setUniformItemSizes(true); // one size for every cell: no per-item layout pass on 100k items
    setLayoutMode(QListView::Batched);
    setBatchSize(2000);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    setItemDelegate(new ImageGridDelegate(this));
    setSpacing(2);
}

} // namespace mpa::ui
