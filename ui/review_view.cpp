#include "review_view.h"

#include "image_pane.h"
#include "metrics/mpa_match.h"
#include "sample_list_model.h"
#include "store/review_journal.h"
#include "store/sql_util.h"
#include "util/error.h"

#include <QComboBox>
#include <QFormLayout>
#include <QPushButton>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QShortcut>
#include <QSplitter>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace mpa::ui {

namespace {

QString stateAfter(store::Decision d)
{
    return d == store::Decision::Approve ? QStringLiteral("approved") : d == store::Decision::Reject ? QStringLiteral("rejected") : QStringLiteral("pending");
}

store::Decision decisionFor(const QString &state)
{
    return state == QLatin1String("approved") ? store::Decision::Approve
         : state == QLatin1String("rejected") ? store::Decision::Reject : store::Decision::Clear;
}

} // namespace

ReviewView::ReviewView(QWidget *parent)
    : QWidget(parent)
    , m_model(new SampleListModel(this))
    , m_list(new QListView(this))
    , m_outcome(new QComboBox(this))
    , m_state(new QComboBox(this))
    , m_order(new QComboBox(this))
    , m_search(new QLineEdit(this))
    , m_image(new ImagePane(this))
    , m_question(new QLineEdit(this))
    , m_answer(new QLineEdit(this))
    , m_details(new QTextBrowser(this))
    , m_counts(new QLabel(this))
{
    m_outcome->addItem(tr("All outcomes"), QString());
    m_outcome->addItem(tr("Knowledge gaps"), QStringLiteral("gap"));
    m_outcome->addItem(tr("Both right"), QStringLiteral("both_right"));
    m_outcome->addItem(tr("Small model only"), QStringLiteral("s_only"));
    m_outcome->addItem(tr("Both wrong"), QStringLiteral("both_wrong"));
    m_outcome->addItem(tr("Not identified"), QStringLiteral("none"));
    m_state->addItem(tr("Any decision"), QString());
    m_state->addItem(tr("Pending"), QStringLiteral("pending"));
    m_state->addItem(tr("Approved"), QStringLiteral("approved"));
    m_state->addItem(tr("Rejected"), QStringLiteral("rejected"));
    m_order->addItem(tr("In order"), QStringLiteral("id"));
    m_order->addItem(tr("Gaps first"), QStringLiteral("gaps-first"));
    m_order->addItem(tr("Large model most confident first"), QStringLiteral("confidence"));
    m_order->addItem(tr("By image"), QStringLiteral("image"));
    m_search->setPlaceholderText(tr("Search questions and answers"));
    m_search->setClearButtonEnabled(true);
    m_list->setModel(m_model);
    m_list->setUniformItemSizes(true); // constant row height: no per-row layout on huge queues
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_question->setToolTip(tr("Edit and press Enter: the original is kept in the journal"));
    m_answer->setToolTip(m_question->toolTip());

    auto *filters = new QHBoxLayout;
    filters->addWidget(m_outcome);
    filters->addWidget(m_state);
    filters->addWidget(m_order);
    filters->addWidget(m_search, 1);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addLayout(filters);
    leftLayout->addWidget(m_list, 1);
    leftLayout->addWidget(m_counts);
    auto *bulk = new QHBoxLayout;
    auto *approveAll = new QPushButton(tr("Approve all shown"), left);
    auto *rejectAll = new QPushButton(tr("Reject all shown"), left);
    bulk->addWidget(approveAll);
    bulk->addWidget(rejectAll);
    bulk->addStretch();
    leftLayout->addLayout(bulk);
    auto confirmBulk = [this](store::Decision d) {
        const QString what = d == store::Decision::Approve ? tr("approve") : tr("reject");
        if (QMessageBox::question(this, tr("Bulk decision"), tr("Really %1 all %2 samples the filter shows?").arg(what).arg(m_model->totalCount()))
            == QMessageBox::Yes)
            decideAllFiltered(d);
    };
    connect(approveAll, &QPushButton::clicked, this, [confirmBulk] { confirmBulk(store::Decision::Approve); });
    connect(rejectAll, &QPushButton::clicked, this, [confirmBulk] { confirmBulk(store::Decision::Reject); });
    auto *right = new QWidget(this);
    auto *form = new QFormLayout;
    form->addRow(tr("Question"), m_question);
    form->addRow(tr("Answer"), m_answer);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(m_image, 3);
    rightLayout->addLayout(form);
    rightLayout->addWidget(m_details, 2);
    auto *split = new QSplitter(this);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);

    connect(m_outcome, &QComboBox::currentIndexChanged, this, &ReviewView::applyFilter);
    connect(m_state, &QComboBox::currentIndexChanged, this, &ReviewView::applyFilter);
    connect(m_order, &QComboBox::currentIndexChanged, this, &ReviewView::applyFilter);
    connect(m_search, &QLineEdit::returnPressed, this, &ReviewView::applyFilter);
    connect(m_list->selectionModel(), &QItemSelectionModel::currentChanged, this, &ReviewView::showCurrent);
    connect(m_question, &QLineEdit::returnPressed, this, &ReviewView::saveEdits);
    connect(m_answer, &QLineEdit::returnPressed, this, &ReviewView::saveEdits);

    // Single-key shortcuts only while focus is not in a text field.
    auto key = [this](const QKeySequence &seq, auto fn) {
        auto *s = new QShortcut(seq, m_list);
        s->setContext(Qt::WidgetWithChildrenShortcut);
        connect(s, &QShortcut::activated, this, fn);
    };
    key(QKeySequence(Qt::Key_A), [this] { decide(store::Decision::Approve); });
    key(QKeySequence(Qt::Key_R), [this] { decide(store::Decision::Reject); });
    key(QKeySequence(Qt::Key_U), [this] { decide(store::Decision::Clear); });
    key(QKeySequence(Qt::Key_J), [this] { next(); });
    key(QKeySequence(Qt::Key_K), [this] { previous(); });
    auto *undoKey = new QShortcut(QKeySequence::Undo, this);
    connect(undoKey, &QShortcut::activated, this, &ReviewView::undo);
    auto *redoKey = new QShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), this);
    connect(redoKey, &QShortcut::activated, this, &ReviewView::redo);
}

void ReviewView::setWorkspace(const store::Workspace &ws)
{
    m_ws = ws;
    m_undo.clear();
    m_redo.clear();
    m_model->setWorkspace(ws);
    applyFilter();
}

void ReviewView::applyFilter()
{
    store::SampleFilter f;
    if (const QString o = m_outcome->currentData().toString(); !o.isEmpty())
        f.outcome = o;
    if (const QString s = m_state->currentData().toString(); !s.isEmpty())
        f.reviewState = s;
    f.text = m_search->text().trimmed();
    f.order = m_order->currentData().toString();
    m_model->setFilter(f);
    if (m_ws && m_model->rowCount() > 0)
        m_list->setCurrentIndex(m_model->index(0));
    updateCounts();
    showCurrent();
}

qint64 ReviewView::currentSampleId() const
{
    const store::SampleRow *r = m_model->rowAt(m_list->currentIndex().row());
    return r ? r->id : 0;
}

void ReviewView::record(qint64 sampleId, store::Decision d)
{
    const int row = m_model->rowOfSample(sampleId);
    const QString before = row >= 0 ? m_model->rowAt(row)->reviewState : QString();
    try {
        store::ReviewJournal(*m_ws).record(sampleId, d);
    } catch (const Error &e) {
        QMessageBox::warning(this, tr("Review not saved"), e.message());
        return;
    }
    m_model->refreshSample(sampleId);
    // One sample moved from one state to another: adjust instead of recounting the workspace.
    if (before.isEmpty()) {
        updateCounts();
    } else {
        m_stateCounts[before] -= 1;
        m_stateCounts[stateAfter(d)] += 1;
        showCounts();
    }
    Q_EMIT reviewsChanged();
}

void ReviewView::decide(store::Decision decision)
{
    const store::SampleRow *r = m_model->rowAt(m_list->currentIndex().row());
    if (!m_ws || !r)
        return;
    const qint64 id = r->id;
    m_undo.append({id, r->reviewState, decision});
    m_redo.clear();
    record(id, decision);
    next();
}

void ReviewView::undo()
{
    if (!m_ws || m_undo.isEmpty())
        return;
    const Step s = m_undo.takeLast();
    m_redo.append(s);
    record(s.sampleId, decisionFor(s.before));
    const int row = m_model->rowOfSample(s.sampleId);
    if (row >= 0)
        m_list->setCurrentIndex(m_model->index(row));
}

void ReviewView::redo()
{
    if (!m_ws || m_redo.isEmpty())
        return;
    const Step s = m_redo.takeLast();
    m_undo.append(s);
    record(s.sampleId, s.after);
}

void ReviewView::decideAllFiltered(store::Decision decision)
{
    if (!m_ws)
        return;
    const QList<qint64> ids = store::SampleQuery(*m_ws).ids(m_model->filter());
    try {
        store::ReviewJournal(*m_ws).recordMany(ids, decision, tr("bulk"));
    } catch (const Error &e) {
        QMessageBox::warning(this, tr("Reviews not saved"), e.message());
    }
    applyFilter();
    Q_EMIT reviewsChanged();
}

void ReviewView::next()
{
    const int row = m_list->currentIndex().row() + 1;
    if (row >= m_model->rowCount() && m_model->canFetchMore({}))
        m_model->fetchMore({});
    if (row < m_model->rowCount())
        m_list->setCurrentIndex(m_model->index(row));
}

void ReviewView::previous()
{
    const int row = m_list->currentIndex().row() - 1;
    if (row >= 0)
        m_list->setCurrentIndex(m_model->index(row));
}

void ReviewView::saveEdits()
{
    const store::SampleRow *r = m_model->rowAt(m_list->currentIndex().row());
    if (!m_ws || !r)
        return;
    std::optional<QString> q, a;
    if (m_question->text() != r->question)
        q = m_question->text();
    if (m_answer->text() != r->answer)
        a = m_answer->text();
    if (!q && !a)
        return;
    try {
        store::ReviewJournal(*m_ws).record(r->id, decisionFor(r->reviewState), q, a, tr("edited"));
    } catch (const Error &e) {
        QMessageBox::warning(this, tr("Edit not saved"), e.message());
        return;
    }
    m_model->refreshSample(r->id);
    Q_EMIT reviewsChanged();
}

QString ReviewView::countsText() const
{
    return m_counts->text();
}

void ReviewView::updateCounts()
{
    if (!m_ws) {
        m_counts->clear();
        return;
    }
    QSqlDatabase db = m_ws->connection();
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT review_state, count(*) FROM samples GROUP BY review_state"));
    m_stateCounts.clear();
    while (q.next())
        m_stateCounts[q.value(0).toString()] = q.value(1).toLongLong();
    showCounts();
}

void ReviewView::showCounts()
{
    m_counts->setText(tr("%1 shown · %2 approved · %3 rejected · %4 pending")
                          .arg(m_model->totalCount())
                          .arg(m_stateCounts.value(QStringLiteral("approved")))
                          .arg(m_stateCounts.value(QStringLiteral("rejected")))
                          .arg(m_stateCounts.value(QStringLiteral("pending"))));
}

void ReviewView::showCurrent()
{
    const store::SampleRow *r = m_model->rowAt(m_list->currentIndex().row());
    m_question->setText(r ? r->question : QString());
    m_answer->setText(r ? r->answer : QString());
    m_question->setEnabled(r && r->parsed);
    m_answer->setEnabled(r && r->parsed);
    if (!r || !m_ws) {
        m_details->clear();
        m_image->clear();
        return;
    }
    // Both models' answers with their normalised forms: the match is what decides the outcome.
    QString html = QStringLiteral("<p><b>Outcome:</b> %1 &nbsp; <b>Review:</b> %2 &nbsp; <b>Task:</b> %3</p>")
                       .arg(r->outcome.isEmpty() ? tr("not identified") : r->outcome, r->reviewState, r->task.toHtmlEscaped());
    if (r->originalQuestion != r->question || r->originalAnswer != r->answer)
        html += tr("<p><i>Original:</i> %1 → %2</p>").arg(r->originalQuestion.toHtmlEscaped(), r->originalAnswer.toHtmlEscaped());
    const QString g = metrics::mpaNormalise(r->answer);
    QSqlDatabase db = m_ws->connection();
    QSqlQuery q = store::exec(db, QStringLiteral("SELECT m.name, m.role, a.text FROM answers a JOIN models m ON m.id = a.model_id "
                                                 "WHERE a.sample_id = ? ORDER BY a.id"), {r->id});
    html += QStringLiteral("<table cellpadding=3><tr><th>model</th><th>answer</th><th>normalised</th><th>contains \"%1\"</th></tr>").arg(g.toHtmlEscaped());
    while (q.next()) {
        const QString norm = metrics::mpaNormalise(q.value(2).toString());
        const bool match = norm.contains(g);
        html += QStringLiteral("<tr><td>%1 (%2)</td><td>%3</td><td><tt>%4</tt></td><td style='color:%5'>%6</td></tr>")
                    .arg(q.value(0).toString().toHtmlEscaped(), q.value(1).toString(), q.value(2).toString().toHtmlEscaped(), norm.toHtmlEscaped(),
                         match ? QStringLiteral("#2e7d32") : QStringLiteral("#c62828"), match ? tr("yes") : tr("no"));
    }
    html += QStringLiteral("</table>");
    if (!r->parsed)
        html += tr("<p><b>Raw output (did not parse):</b></p><pre>%1</pre>").arg(r->rawText.toHtmlEscaped());
    // The sample's history: every decision in the journal, and the runs that touched it.
    const QList<store::ReviewEntry> history = store::ReviewJournal(*m_ws).history(r->id);
    if (!history.isEmpty()) {
        html += tr("<p><b>History</b></p><ul>");
        for (const store::ReviewEntry &e : history) {
            QString line = QStringLiteral("%1 %2").arg(e.at.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")), store::toString(e.decision));
            if (e.question)
                line += tr(", question edited to \"%1\"").arg(e.question->toHtmlEscaped());
            if (e.answer)
                line += tr(", answer edited to \"%1\"").arg(e.answer->toHtmlEscaped());
            if (!e.note.isEmpty())
                line += QStringLiteral(" (%1)").arg(e.note.toHtmlEscaped());
            html += QStringLiteral("<li>%1</li>").arg(line);
        }
        html += QStringLiteral("</ul>");
    }
    QSqlQuery runs = store::exec(db, QStringLiteral("SELECT DISTINCT r.id, r.kind, r.name FROM runs r WHERE r.id IN "
                                                    "(SELECT run_id FROM answers WHERE sample_id = ? UNION SELECT run_id FROM verdicts WHERE sample_id = ? "
                                                    "UNION SELECT run_id FROM samples WHERE id = ?) ORDER BY r.id"),
                                 {r->id, r->id, r->id});
    QStringList runNames;
    while (runs.next())
        runNames << QStringLiteral("%1 #%2").arg(runs.value(1).toString()).arg(runs.value(0).toLongLong());
    if (!runNames.isEmpty())
        html += tr("<p><b>Runs:</b> %1</p>").arg(runNames.join(QStringLiteral(", ")));
    html += tr("<p style='color:gray'>%1</p>").arg(r->imagePath.toHtmlEscaped());
    m_details->setHtml(html);

    m_image->showImage(r->imagePath, r->imageStatus);
}

} // namespace mpa::ui
