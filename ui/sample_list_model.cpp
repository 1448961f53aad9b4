#include "sample_list_model.h"

#include "verdict_text.h"

#include <QBrush>
#include <QColor>
#include <QHash>

#include "util/error.h"

namespace mpa::ui {

SampleListModel::SampleListModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

void SampleListModel::setWorkspace(const store::Workspace &ws)
{
    m_ws = ws;
    reload();
}

void SampleListModel::setFilter(const store::SampleFilter &filter)
{
    m_filter = filter;
    reload();
}

void SampleListModel::reload()
{
    beginResetModel();
    m_rows.clear();
    m_exhausted = !m_ws.has_value();
    m_total = m_ws ? store::SampleQuery(*m_ws).count(m_filter) : 0;
    endResetModel();
    if (m_ws)
        fetchMore({});
}

int SampleListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

bool SampleListModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && !m_exhausted;
}

void SampleListModel::fetchMore(const QModelIndex &parent)
{
    if (parent.isValid() || m_exhausted || !m_ws)
        return;
    // Id order pages by key (constant cost at any depth); other orders by offset.
    const qint64 after = m_rows.isEmpty() ? 0 : m_rows.last().id;
    const QList<store::SampleRow> page = m_filter.order == QLatin1String("id")
                                             ? store::SampleQuery(*m_ws).page(m_filter, after, kPageSize)
                                             : store::SampleQuery(*m_ws).pageAt(m_filter, m_rows.size(), kPageSize);
    if (page.size() < kPageSize)
        m_exhausted = true;
    if (page.isEmpty())
        return;
    beginInsertRows({}, static_cast<int>(m_rows.size()), static_cast<int>(m_rows.size() + page.size() - 1));
    m_rows += page;
    endInsertRows();
}

const store::SampleRow *SampleListModel::rowAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows[row] : nullptr;
}

int SampleListModel::rowOfSample(qint64 sampleId) const
{
    for (qsizetype i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].id == sampleId)
            return static_cast<int>(i);
    return -1;
}

void SampleListModel::refreshSample(qint64 sampleId)
{
    const int row = rowOfSample(sampleId);
    if (row < 0 || !m_ws)
        return;
    if (auto fresh = store::SampleQuery(*m_ws).byId(sampleId)) {
        // The row stays in place even if it no longer matches the filter (the person is working
        // through the list; rows jumping away under the cursor lose their place).
        m_rows[row] = *fresh;
        Q_EMIT dataChanged(index(row), index(row));
    }
}

void SampleListModel::refreshRows(int first, int last)
{
    if (!m_ws)
        return;
    try {
        m_total = store::SampleQuery(*m_ws).count(m_filter);
        if (m_rows.isEmpty()) {
            if (m_total > 0)
                reload();
            return;
        }
        if (m_exhausted && m_rows.size() < m_total) {
            m_exhausted = false;
            fetchMore({});
        }
        first = std::clamp(first, 0, static_cast<int>(m_rows.size()) - 1);
        last = std::clamp(last, first, static_cast<int>(m_rows.size()) - 1);
        QList<qint64> ids;
        for (int r = first; r <= last; ++r)
            ids << m_rows[r].id;
        const QList<store::SampleRow> fresh = store::SampleQuery(*m_ws).byIds(ids);
        QHash<qint64, const store::SampleRow *> byId;
        for (const store::SampleRow &f : fresh)
            byId.insert(f.id, &f);
        for (int r = first; r <= last; ++r) {
            // A row whose sample is gone keeps its place (it will vanish at the next filter).
            if (const store::SampleRow *f = byId.value(m_rows[r].id)) {
                m_rows[r] = *f;
                Q_EMIT dataChanged(index(r), index(r));
            }
        }
    } catch (const Error &) {
        // Busy: the next change notification tries again.
    }
}

void SampleListModel::setShowConfidence(bool on)
{
    if (on == m_showConfidence)
        return;
    m_showConfidence = on;
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0), index(static_cast<int>(m_rows.size()) - 1), {Qt::DisplayRole});
}

void SampleListModel::pendingChanged()
{
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0), index(static_cast<int>(m_rows.size()) - 1), {Qt::DisplayRole, PendingRole, Qt::ToolTipRole});
}

QVariant SampleListModel::data(const QModelIndex &index, int role) const
{
    const store::SampleRow *r = rowAt(index.row());
    if (!r)
        return {};
    switch (role) {
    case Qt::DisplayRole: {
        const bool pending = m_isPending && m_isPending(r->id);
        QString mark = r->reviewState == QLatin1String("approved") ? QStringLiteral("✓")
                     : r->reviewState == QLatin1String("rejected") ? QStringLiteral("✗") : QStringLiteral("·");
        if (pending)
            mark = QStringLiteral("⏳"); // a decision is waiting to be saved (the database is busy)
        const QString stale = r->verdictStale ? tr(" [re-identify]") : QString();
        if (!r->parsed)
            return QStringLiteral("%1 [parse failure] %2").arg(mark, r->rawText.left(80).simplified());
        // Ordered by the large model's confidence, the list says it (otherwise the order is a riddle).
        const QString confidence = m_showConfidence && r->largeLogprob ? QStringLiteral("  [%1]").arg(confidenceText(r->largeLogprob)) : QString();
        return QStringLiteral("%1 %2 → %3%4%5").arg(mark, r->question, r->answer, stale, confidence);
    }
    case Qt::ToolTipRole: {
        QString tip = tr("sample %1 · %2 · %3%4 · %5\n%6")
                          .arg(r->id)
                          .arg(r->task, outcomeLabel(r->outcome), r->verdictStale ? tr(" (stale: the pair was edited after it; re-identify)") : QString(),
                               reviewLabel(r->reviewState), outcomeExplanation(r->outcome));
        if (r->largeLogprob)
            tip += QStringLiteral("\n") + confidenceText(r->largeLogprob);
        if (m_isPending && m_isPending(r->id))
            tip += tr(" · decision not saved yet (retrying)");
        return tip;
    }
    case PendingRole:
        return m_isPending && m_isPending(r->id);
    case StaleRole:
        return r->verdictStale;
    case Qt::ForegroundRole:
        if (r->outcome == QLatin1String("gap") && !r->verdictStale)
            return QBrush(QColor(0xd3, 0x54, 0x00));
        if (!r->parsed)
            return QBrush(QColor(0x80, 0x80, 0x80));
        return {};
    case SampleIdRole:
        return r->id;
    case OutcomeRole:
        return r->outcome;
    case ReviewStateRole:
        return r->reviewState;
    default:
        return {};
    }
}

} // namespace mpa::ui
