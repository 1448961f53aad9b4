#pragma once
// Samples of a workspace for list views, read in pages as the view scrolls (fetchMore with
// keyset paging: the millionth row costs what the first does), filtered like the store's API.
#include "store/sample_query.h"

#include <QAbstractListModel>
#include <functional>
#include <optional>

namespace mpa::ui {

class SampleListModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Role { SampleIdRole = Qt::UserRole + 1, OutcomeRole, ReviewStateRole, RowRole, PendingRole, StaleRole };

    explicit SampleListModel(QObject *parent = nullptr);
    void setWorkspace(const store::Workspace &ws);
    void setFilter(const store::SampleFilter &filter);
    const store::SampleFilter &filter() const { return m_filter; }
    // Total rows matching the filter (not only the fetched ones).
    qint64 totalCount() const { return m_total; }
    // Re-reads one sample (after a review) and updates its row in place.
    void refreshSample(qint64 sampleId);
    // Another connection wrote: re-count, re-read the rows [first, last] in place (the visible
    // ones) and, when the list was empty or fully read, fetch what was added.
    void refreshRows(int first, int last);
    // Which samples have a decision not yet saved (shown with a mark until it lands).
    void setPendingCheck(std::function<bool(qint64)> isPending) { m_isPending = std::move(isPending); }
    // Each row shows the large model's confidence (set while the list is ordered by it).
    void setShowConfidence(bool on);
    void pendingChanged();
    const store::SampleRow *rowAt(int row) const;
    int rowOfSample(qint64 sampleId) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

    static constexpr int kPageSize = 500;

private:
    void reload();
    std::optional<store::Workspace> m_ws;
    store::SampleFilter m_filter;
    QList<store::SampleRow> m_rows;
    bool m_exhausted = true;
    qint64 m_total = 0;
    std::function<bool(qint64)> m_isPending;
    bool m_showConfidence = false;
};

} // namespace mpa::ui
