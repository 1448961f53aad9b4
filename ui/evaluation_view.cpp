#include "evaluation_view.h"

#include "store/rows.h"

#include "image_pane.h"
#include "store/sql_util.h"
#include "util/error.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>

#include "empty_state.h"
#include <QTextBrowser>
#include <QVBoxLayout>

namespace mpa::ui {

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
    reload();
}

void EvaluationView::reload()
{
    m_results->clear();
    m_results->setHorizontalHeaderLabels({tr("Run"), tr("Model"), tr("Benchmark"), tr("Metric"), tr("Score %"), tr("MPA accuracy %"), tr("Questions"), tr("Status")});
    if (!m_ws)
        return;
    QSqlDatabase db = m_ws->connection();
    store::Rows runs;
    try {
        runs = store::readRows(db, QStringLiteral("SELECT id, params, status FROM runs WHERE kind = 'evaluate' ORDER BY id"));
    } catch (const Error &) {
        return; // busy: the next change reloads
    }
    for (const QVariantList &run : runs.rows) {
        const qint64 id = run[0].toLongLong();
        const QJsonObject params = QJsonDocument::fromJson(run[1].toString().toUtf8()).object();
        pipeline::EvaluationScores s;
        try {
            s = pipeline::scoreEvaluationRun(*m_ws, id);
        } catch (const Error &) {
            continue;
        }
        auto number = [](double v) {
            auto *item = new QStandardItem;
            item->setData(v, Qt::DisplayRole);
            return item;
        };
        QList<QStandardItem *> row{number(static_cast<double>(id)), new QStandardItem(QFileInfo(params.value(QStringLiteral("model")).toString()).fileName()),
                                   new QStandardItem(params.value(QStringLiteral("dataset")).toString()), new QStandardItem(s.metric),
                                   number(std::round(1000 * s.official) / 10), number(std::round(1000 * s.mpaAccuracy) / 10),
                                   number(static_cast<double>(s.questions)), new QStandardItem(run[2].toString())};
        m_results->appendRow(row);
    }
}

void EvaluationView::compare(qint64 runA, qint64 runB)
{
    m_flips->clear();
    m_flips->setHorizontalHeaderLabels({tr("Question id"), tr("Change"), tr("Question"), tr("Before"), tr("After")});
    m_flipRows.clear();
    m_image->clear();
    m_detail->clear();
    if (!m_ws)
        return;
    pipeline::FlipTable t;
    try {
        t = pipeline::compareEvaluationRuns(*m_ws, runA, runB);
    } catch (const Error &e) {
        m_summary->setText(e.message());
        return;
    }
    m_flipRows = t.rows;
    for (int i = 0; i < m_flipRows.size(); ++i) {
        const pipeline::FlipRow &r = m_flipRows[i];
        auto *id = new QStandardItem(r.questionId);
        id->setData(i, Qt::UserRole);
        m_flips->appendRow({id, new QStandardItem(r.change), new QStandardItem(r.question), new QStandardItem(r.before), new QStandardItem(r.after)});
    }
    m_summary->setText(tr("Run %1 → run %2: %3 fixed, %4 broken, %5 still right, %6 still wrong")
                           .arg(runA).arg(runB).arg(t.fixed).arg(t.broken).arg(t.stillRight).arg(t.stillWrong));
}

bool EvaluationView::selectRuns(qint64 runA, qint64 runB)
{
    int rowA = -1, rowB = -1;
    for (int r = 0; r < m_results->rowCount(); ++r) {
        const qint64 id = m_results->item(r, 0)->data(Qt::DisplayRole).toLongLong();
        rowA = id == runA ? r : rowA;
        rowB = id == runB ? r : rowB;
    }
    if (rowA < 0 || rowB < 0)
        return false;
    QItemSelection selection;
    selection.select(m_results->index(rowA, 0), m_results->index(rowA, m_results->columnCount() - 1));
    selection.select(m_results->index(rowB, 0), m_results->index(rowB, m_results->columnCount() - 1));
    m_resultsView->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
    m_resultsView->scrollTo(m_results->index(rowB, 0));
    for (int i = 0; i < m_flipRows.size(); ++i) {
        if (m_flipRows[i].change == QLatin1String("fixed") || m_flipRows[i].change == QLatin1String("broken")) {
            m_flipView->selectRow(i);
            break;
        }
    }
    return true;
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
