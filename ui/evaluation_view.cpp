#include "evaluation_view.h"

#include "pipeline/evaluator.h"
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
#include <QVBoxLayout>

namespace mpa::ui {

EvaluationView::EvaluationView(QWidget *parent)
    : QWidget(parent)
    , m_results(new QStandardItemModel(this))
    , m_flips(new QStandardItemModel(this))
    , m_resultsView(new QTableView(this))
    , m_flipView(new QTableView(this))
    , m_summary(new QLabel(tr("Select two evaluation runs of the same benchmark to compare them question by question."), this))
{
    for (QTableView *v : {m_resultsView, m_flipView}) {
        v->setSelectionBehavior(QAbstractItemView::SelectRows);
        v->verticalHeader()->hide();
        v->horizontalHeader()->setStretchLastSection(true);
        v->setSortingEnabled(true);
    }
    m_resultsView->setModel(m_results);
    m_flipView->setModel(m_flips);
    auto *lower = new QWidget(this);
    auto *lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    lowerLayout->addWidget(m_summary);
    lowerLayout->addWidget(m_flipView, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_resultsView);
    split->addWidget(lower);
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
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT id, params, status FROM runs WHERE kind = 'evaluate' ORDER BY id"));
    while (q.next()) {
        const qint64 id = q.value(0).toLongLong();
        const QJsonObject params = QJsonDocument::fromJson(q.value(1).toString().toUtf8()).object();
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
                                   number(static_cast<double>(s.questions)), new QStandardItem(q.value(2).toString())};
        m_results->appendRow(row);
    }
}

void EvaluationView::compare(qint64 runA, qint64 runB)
{
    m_flips->clear();
    m_flips->setHorizontalHeaderLabels({tr("Question id"), tr("Change"), tr("Question"), tr("Before"), tr("After")});
    if (!m_ws)
        return;
    pipeline::FlipTable t;
    try {
        t = pipeline::compareEvaluationRuns(*m_ws, runA, runB);
    } catch (const Error &e) {
        m_summary->setText(e.message());
        return;
    }
    QSqlDatabase db = m_ws->connection();
    QSqlQuery q = store::prepare(db, QStringLiteral("SELECT b.question, pa.text, pb.text FROM benchmark_items b "
                                                    "JOIN predictions pa ON pa.item_id = b.id AND pa.run_id = ? "
                                                    "JOIN predictions pb ON pb.item_id = b.id AND pb.run_id = ? WHERE b.question_id = ?"));
    for (const auto &[questionId, kind] : t.perQuestion) {
        q.addBindValue(runA);
        q.addBindValue(runB);
        q.addBindValue(questionId);
        store::exec(q, QStringLiteral("reading predictions"));
        QString question, before, after;
        if (q.next()) {
            question = q.value(0).toString();
            before = q.value(1).toString();
            after = q.value(2).toString();
        }
        q.finish();
        m_flips->appendRow({new QStandardItem(questionId), new QStandardItem(kind), new QStandardItem(question), new QStandardItem(before),
                            new QStandardItem(after)});
    }
    m_summary->setText(tr("Run %1 → run %2: %3 fixed, %4 broken, %5 still right, %6 still wrong")
                           .arg(runA).arg(runB).arg(t.fixed).arg(t.broken).arg(t.stillRight).arg(t.stillWrong));
}

QString EvaluationView::flipSummary() const
{
    return m_summary->text();
}

} // namespace mpa::ui
