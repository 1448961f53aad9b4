#include "evaluation_view.h"

#include "store/rows.h"

#include "image_pane.h"
#include "off_thread.h"
#include "store/sql_util.h"
#include "util/error.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>

#include "empty_state.h"
#include <QTextBrowser>
#include <QVBoxLayout>

namespace mpa::ui {

namespace {
QStringList resultColumns()
{
    return {EvaluationView::tr("Run"), EvaluationView::tr("Model"), EvaluationView::tr("Benchmark"), EvaluationView::tr("Metric"),
            EvaluationView::tr("Score %"), EvaluationView::tr("MPA accuracy %"), EvaluationView::tr("Questions"), EvaluationView::tr("Status")};
}
} // namespace

EvaluationView::EvaluationView(QWidget *parent)
    : QWidget(parent)
    , m_results(new QStandardItemModel(this))
    , m_flips(new QStandardItemModel(this))
    , m_resultsView(new QTableView(this))
    , m_flipView(new QTableView(this))
    , m_summary(new QLabel(tr("Select two evaluation runs of the same benchmark to compare them question by question."), this))
    , m_image(new ImagePane(this))
    , m_detail(new QTextBrowser(this))
{
    for (QTableView *v : {m_resultsView, m_flipView}) {
        v->setSelectionBehavior(QAbstractItemView::SelectRows);
        v->verticalHeader()->hide();
        v->horizontalHeader()->setStretchLastSection(true);
        v->setSortingEnabled(true);
    }
    m_results->setHorizontalHeaderLabels(resultColumns());
    m_resultsView->setModel(m_results);
    attachEmptyState(m_resultsView, [] {
        return tr("No evaluations yet: import a benchmark (Workspace > Import annotations), then Runs > Evaluate a model.");
    });
    m_flipView->setModel(m_flips);
    auto *lower = new QWidget(this);
    auto *lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    lowerLayout->addWidget(m_summary);
    auto *question = new QWidget(this);
    auto *questionLayout = new QVBoxLayout(question);
    questionLayout->setContentsMargins(0, 0, 0, 0);
    questionLayout->addWidget(m_image, 3);
    questionLayout->addWidget(m_detail, 2);
    auto *flipSplit = new QSplitter(Qt::Horizontal, this);
    flipSplit->addWidget(m_flipView);
    flipSplit->addWidget(question);
    flipSplit->setStretchFactor(0, 3);
    flipSplit->setStretchFactor(1, 2);
    lowerLayout->addWidget(flipSplit, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_resultsView);
    split->addWidget(lower);
    split->setStretchFactor(0, 2); // the results table gets room for the runs of a whole loop
    split->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);
    connect(m_resultsView->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        const QModelIndexList rows = m_resultsView->selectionModel()->selectedRows();
        if (rows.size() != 2)
            return;
        qint64 a = m_results->item(rows[0].row(), 0)->data(Qt::DisplayRole).toLongLong();
        qint64 b = m_results->item(rows[1].row(), 0)->data(Qt::DisplayRole).toLongLong();
        compare(std::min(a, b), std::max(a, b)); // older run = before
    });
    connect(m_flipView->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex &current) {
        showQuestion(current.row());
    });
}

void EvaluationView::setWorkspace(const store::Workspace &ws)
{
    m_ws = ws;
    // Reads under way were of the previous workspace: they land unseen.
    ++m_resultsRead;
    ++m_flipsRead;
    m_pendingSelection.reset();
    clearFlips(tr("Select two evaluation runs of the same benchmark to compare them question by question."));
    reload();
}

void EvaluationView::reload()
{
    if (!m_ws) {
        showResults({});
        return;
    }
    if (m_readingResults) { // one read at a time; the newest state is read once this one lands
        m_resultsDirty = true;
        return;
    }
    m_readingResults = true;
    m_resultsDirty = false;
    const quint64 read = ++m_resultsRead;
    const store::Workspace ws = *m_ws;
    struct Read
    {
        bool ok = false;
        QList<ResultRow> rows;
    };
    offThread(this, [ws] {
        Read r;
        try {
            QSqlDatabase db = ws.connection();
            const store::Rows runs = store::readRows(db, QStringLiteral("SELECT id, params, status FROM runs WHERE kind = 'evaluate' ORDER BY id"));
            for (const QVariantList &run : runs.rows) {
                ResultRow row;
                row.runId = run[0].toLongLong();
                const QJsonObject params = QJsonDocument::fromJson(run[1].toString().toUtf8()).object();
                row.model = QFileInfo(params.value(QStringLiteral("model")).toString()).fileName();
                row.dataset = params.value(QStringLiteral("dataset")).toString();
                row.status = run[2].toString();
                try {
                    row.scores = pipeline::scoreEvaluationRun(ws, row.runId);
                } catch (const Error &) {
                    continue; // an unknown metric: that run has no score to show
                }
                r.rows.append(row);
            }
            r.ok = true;
        } catch (const Error &) {
            // busy or unreadable: keep what is shown; the next change reads again
        }
        ws.releaseThreadConnection();
        return r;
    }, [this, read](const Read &r) {
        m_readingResults = false;
        if (r.ok && read == m_resultsRead)
            showResults(r.rows);
        if (m_resultsDirty)
            reload();
    });
}

void EvaluationView::showResults(const QList<ResultRow> &rows)
{
    // The pair the person compares stays selected across reloads.
    std::optional<std::pair<qint64, qint64>> selected;
    const QModelIndexList was = m_resultsView->selectionModel()->selectedRows();
    if (was.size() == 2) {
        const qint64 a = m_results->item(was[0].row(), 0)->data(Qt::DisplayRole).toLongLong();
        const qint64 b = m_results->item(was[1].row(), 0)->data(Qt::DisplayRole).toLongLong();
        selected = std::pair{std::min(a, b), std::max(a, b)};
    }
    {
        const QSignalBlocker quiet(m_resultsView->selectionModel()); // a reset is not the person's deselection
        m_results->clear();
        m_results->setHorizontalHeaderLabels(resultColumns());
        auto number = [](double v) {
            auto *item = new QStandardItem;
            item->setData(v, Qt::DisplayRole);
            return item;
        };
        for (const ResultRow &r : rows) {
            const pipeline::EvaluationScores &s = r.scores;
            m_results->appendRow({number(static_cast<double>(r.runId)), new QStandardItem(r.model), new QStandardItem(r.dataset), new QStandardItem(s.metric),
                                  number(std::round(1000 * s.official) / 10), number(std::round(1000 * s.mpaAccuracy) / 10),
                                  number(static_cast<double>(s.questions)), new QStandardItem(r.status)});
        }
    }
    if (m_pendingSelection && selectPair(*m_pendingSelection)) {
        // selectRuns() before the runs were in the table: compare them and go to the first change.
        const auto [a, b] = *m_pendingSelection;
        m_pendingSelection.reset();
        m_selectFirstChange = true;
        compare(a, b);
    } else if (selected && selectPair(*selected)) {
        // Finished runs' predictions do not change: the flip table and the person's place in it
        // stay. A run still answering is compared again (showFlips keeps the selected question).
        bool settled = true;
        for (const ResultRow &r : rows)
            if (r.runId == selected->first || r.runId == selected->second)
                settled = settled && r.status == QLatin1String("finished");
        if (!settled)
            compare(selected->first, selected->second);
    }
}

void EvaluationView::compare(qint64 runA, qint64 runB)
{
    if (!m_ws)
        return;
    const quint64 read = ++m_flipsRead;
    ++m_readingFlips;
    const store::Workspace ws = *m_ws;
    struct Read
    {
        pipeline::FlipTable table;
        QString error;
    };
    offThread(this, [ws, runA, runB] {
        Read r;
        try {
            r.table = pipeline::compareEvaluationRuns(ws, runA, runB);
        } catch (const Error &e) {
            r.error = e.message();
        }
        ws.releaseThreadConnection();
        return r;
    }, [this, read, runA, runB](const Read &r) {
        --m_readingFlips;
        if (read == m_flipsRead) // an older pair's table never replaces the newest
            showFlips(runA, runB, r.table, r.error);
    });
}

void EvaluationView::clearFlips(const QString &summary)
{
    m_shownPair.reset();
    m_flips->clear();
    m_flips->setHorizontalHeaderLabels({tr("Question id"), tr("Change"), tr("Question"), tr("Before"), tr("After")});
    m_flipRows.clear();
    m_image->clear();
    m_detail->clear();
    m_summary->setText(summary);
}

void EvaluationView::showFlips(qint64 runA, qint64 runB, const pipeline::FlipTable &t, const QString &error)
{
    // The same pair read again: the question being read stays selected, found by its id.
    QString reading;
    if (m_shownPair == std::pair{runA, runB}) {
        const QModelIndex current = m_flipView->selectionModel()->currentIndex();
        if (current.isValid())
            reading = m_flips->item(current.row(), 0)->text();
    }
    clearFlips(error);
    if (!error.isEmpty())
        return;
    m_shownPair = std::pair{runA, runB};
    m_flipRows = t.rows;
    for (int i = 0; i < m_flipRows.size(); ++i) {
        const pipeline::FlipRow &r = m_flipRows[i];
        auto *id = new QStandardItem(r.questionId);
        id->setData(i, Qt::UserRole);
        m_flips->appendRow({id, new QStandardItem(r.change), new QStandardItem(r.question), new QStandardItem(r.before), new QStandardItem(r.after)});
    }
    m_summary->setText(tr("Run %1 → run %2: %3 fixed, %4 broken, %5 still right, %6 still wrong")
                           .arg(runA).arg(runB).arg(t.fixed).arg(t.broken).arg(t.stillRight).arg(t.stillWrong));
    if (m_selectFirstChange) {
        m_selectFirstChange = false;
        selectFirstChange();
    } else if (!reading.isEmpty()) {
        const QList<QStandardItem *> same = m_flips->findItems(reading, Qt::MatchExactly, 0);
        if (!same.isEmpty())
            m_flipView->selectRow(same.first()->row());
    }
}

bool EvaluationView::selectRuns(qint64 runA, qint64 runB)
{
    if (!m_ws || runA == runB)
        return false;
    qint64 found = 0;
    QSqlDatabase db = m_ws->connection();
    try { // two primary-key lookups: the table itself may still be loading
        found = store::scalar(db, QStringLiteral("SELECT count(*) FROM runs WHERE kind = 'evaluate' AND id IN (?, ?)"), {runA, runB})
                    .toLongLong();
    } catch (const Error &) {
        return false;
    }
    if (found != 2)
        return false;
    const std::pair runs{std::min(runA, runB), std::max(runA, runB)}; // older run = before, as a click compares
    if (selectPair(runs)) {
        m_pendingSelection.reset();
        m_selectFirstChange = true;
        compare(runs.first, runs.second);
    } else {
        m_pendingSelection = runs; // not in the table yet (a run made meanwhile): selected when the read lands
        reload();
    }
    return true;
}

bool EvaluationView::selectPair(std::pair<qint64, qint64> runs)
{
    int rowA = -1, rowB = -1;
    for (int r = 0; r < m_results->rowCount(); ++r) {
        const qint64 id = m_results->item(r, 0)->data(Qt::DisplayRole).toLongLong();
        rowA = id == runs.first ? r : rowA;
        rowB = id == runs.second ? r : rowB;
    }
    if (rowA < 0 || rowB < 0)
        return false;
    QItemSelection selection;
    selection.select(m_results->index(rowA, 0), m_results->index(rowA, m_results->columnCount() - 1));
    selection.select(m_results->index(rowB, 0), m_results->index(rowB, m_results->columnCount() - 1));
    {
        // Quiet: the caller decides whether to compare (a click's selectionChanged compares).
        const QSignalBlocker quiet(m_resultsView->selectionModel());
        m_resultsView->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
    }
    m_resultsView->viewport()->update(); // the view repaints selections on the signal it did not get
    m_resultsView->scrollTo(m_results->index(rowB, 0));
    return true;
}

void EvaluationView::selectFirstChange()
{
    for (int row = 0; row < m_flips->rowCount(); ++row) {
        const QString change = m_flips->item(row, 1)->text();
        if (change == QLatin1String("fixed") || change == QLatin1String("broken")) {
            m_flipView->selectRow(row);
            break;
        }
    }
}

void EvaluationView::showQuestion(int flipRow)
{
    const QStandardItem *id = flipRow >= 0 ? m_flips->item(flipRow, 0) : nullptr;
    if (!id || !m_ws) {
        m_image->clear();
        m_detail->clear();
        return;
    }
    const pipeline::FlipRow &r = m_flipRows.at(id->data(Qt::UserRole).toInt());
    QStringList references;
    for (const QString &a : r.answers)
        references << a.toHtmlEscaped();
    m_detail->setHtml(tr("<p><b>%1</b> &nbsp; (%2)</p><p><b>References:</b> %3</p><p><b>Before:</b> %4<br><b>After:</b> %5</p>")
                          .arg(r.question.toHtmlEscaped(), r.change, references.join(QStringLiteral(" · ")), r.before.toHtmlEscaped(),
                               r.after.toHtmlEscaped()));
    // One indexed lookup: the image behind the benchmark item.
    QSqlDatabase db = m_ws->connection();
    store::Rows image;
    try {
        image = store::readRows(db, QStringLiteral("SELECT i.path, i.status FROM benchmark_items b JOIN images i ON i.id = b.image_id WHERE b.id = ?"),
                                {r.itemId});
    } catch (const Error &) {
    }
    if (!image.isEmpty())
        m_image->showImage(image.at(0, 0).toString(), image.at(0, 1).toString());
    else
        m_image->clear();
}

QString EvaluationView::questionDetail() const
{
    return m_detail->toPlainText();
}

QString EvaluationView::flipSummary() const
{
    return m_summary->text();
}

} // namespace mpa::ui
