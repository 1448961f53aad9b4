#include "review_view.h"

#include "empty_state.h"
#include "verdict_text.h"

#include "image_pane.h"
#include "metrics/mpa_match.h"
#include "sample_list_model.h"
#include "store/change_watcher.h"
#include "store/decision_queue.h"
#include "store/review_journal.h"
#include "store/rows.h"
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
    , m_queue(new store::DecisionQueue(this))
{
    m_model->setPendingCheck([this](qint64 id) { return m_queue->isPending(id); });
    connect(m_queue, &store::DecisionQueue::written, this, &ReviewView::onWritten);
    connect(m_queue, &store::DecisionQueue::pendingChanged, this, [this](int, const QString &reason) {
        m_pendingReason = reason;
        m_model->pendingChanged();
        showCounts();
    });
    m_outcome->addItem(tr("All outcomes"), QString());
    m_outcome->addItem(tr("Knowledge gaps"), QStringLiteral("gap"));
    m_outcome->addItem(tr("Both right"), QStringLiteral("both_right"));
    m_outcome->addItem(tr("Only the small model right"), QStringLiteral("s_only"));
    m_outcome->addItem(tr("Both wrong"), QStringLiteral("both_wrong"));
    m_outcome->addItem(tr("Not identified"), QStringLiteral("none"));
    m_state->addItem(tr("Any decision"), QString());
    m_state->addItem(tr("Not reviewed"), QStringLiteral("pending"));
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
    m_imageOnly = new QLabel(left);
    m_imageOnly->setObjectName(QStringLiteral("image-filter"));
    m_imageOnly->setVisible(false);
    connect(m_imageOnly, &QLabel::linkActivated, this, [this] { showSamplesOfImage(0); });
    leftLayout->addWidget(m_imageOnly);
    leftLayout->addWidget(m_list, 1);
    attachEmptyState(m_list, [this] {
        if (!m_ws)
            return tr("Open a workspace to review its samples.");
        if (m_imageFilter || !m_search->text().isEmpty() || m_outcome->currentIndex() > 0 || m_state->currentIndex() > 0)
            return tr("No sample matches these filters.");
        return tr("No samples yet: run the Pseudo Annotator, then Identify parity (Home, steps 2 and 3).");
    });
    leftLayout->addWidget(m_counts);
    auto *legend = new QLabel(verdictLegend(), left);
    legend->setObjectName(QStringLiteral("legend"));
    legend->setWordWrap(true);
    leftLayout->addWidget(legend);
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
    // Enter saves the edit and hands the keyboard back to the list (A / R decide again).
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

void ReviewView::showSamplesOfImage(qint64 imageId)
{
    m_imageFilter = imageId;
    if (imageId > 0) {
        // Every outcome and decision of that image, whatever the other filters said.
        const QSignalBlocker a(m_outcome), b(m_state);
        m_outcome->setCurrentIndex(0);
        m_state->setCurrentIndex(0);
        m_search->clear();
    }
    m_imageOnly->setText(tr("Showing the samples of image #%1 · <a href='all'>show every image</a>").arg(imageId));
    m_imageOnly->setVisible(imageId > 0);
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
    if (m_imageFilter > 0)
        f.imageId = m_imageFilter;
    m_model->setShowConfidence(f.order == QLatin1String("confidence"));
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

std::pair<int, int> ReviewView::visibleRows() const
{
    const int first = m_list->indexAt(QPoint(1, 1)).row();
    const int last = m_list->indexAt(QPoint(1, m_list->viewport()->height() - 2)).row();
    const int a = first < 0 ? 0 : first;
    // An offscreen or not yet laid out list: the first page.
    return {a, last < 0 ? a + SampleListModel::kPageSize : last};
}

void ReviewView::workspaceChanged(quint32 tables)
{
    if (!m_ws || !(tables & (store::Tables::Samples | store::Tables::Reviews | store::Tables::Images)))
        return;
    const qint64 current = currentSampleId();
    const auto [first, last] = visibleRows();
    m_model->refreshRows(first - 8, last + 8);
    if (current == 0 && m_model->rowCount() > 0)
        m_list->setCurrentIndex(m_model->index(0));
    updateCounts();
    // The inspector follows, unless the person is typing an edit into it.
    if (!m_question->isModified() && !m_answer->isModified())
        showCurrent();
}

void ReviewView::submit(const QList<QPair<qint64, QString>> &before, const QList<QPair<qint64, store::Decision>> &decisions,
                        std::optional<QString> question, std::optional<QString> answer, const QString &note)
{
    if (!m_ws || decisions.isEmpty())
        return;
    QList<QPair<qint64, QPair<QString, QString>>> transitions;
    for (qsizetype i = 0; i < decisions.size(); ++i)
        transitions.append({decisions[i].first, {before.value(i).second, stateAfter(decisions[i].second)}});
    const quint64 ticket = m_queue->nextTicket();
    m_transitions.insert(ticket, transitions);
    try {
        if (decisions.size() == 1)
            m_queue->submit(*m_ws, decisions.first().first, decisions.first().second, std::move(question), std::move(answer), note);
        else
            m_queue->submitMany(*m_ws, decisions, note);
    } catch (const Error &e) {
        // Only a read-only workspace gets here (busy databases queue): nothing can be saved.
        m_transitions.remove(ticket);
        QMessageBox::warning(this, tr("Review not saved"), e.message());
    }
}

void ReviewView::onWritten(quint64 ticket, const QList<qint64> &ids)
{
    // Each sample moved from one state to another: adjust the counts instead of recounting the
    // workspace, unless a state before is unknown.
    bool unknownBefore = false;
    for (const auto &[id, states] : m_transitions.take(ticket)) {
        unknownBefore |= states.first.isEmpty();
        if (!states.first.isEmpty()) {
            m_stateCounts[states.first] -= 1;
            m_stateCounts[states.second] += 1;
        }
    }
    if (ids.size() > 64) { // a bulk decision: the rows on screen are what can show it
        const auto [first, last] = visibleRows();
        m_model->refreshRows(first, last);
    } else {
        for (qint64 id : ids)
            m_model->refreshSample(id);
    }
    if (unknownBefore)
        updateCounts();
    else
        showCounts();
    if (!m_question->isModified() && !m_answer->isModified())
        showCurrent();
    Q_EMIT reviewsChanged();
}

void ReviewView::decide(store::Decision decision)
{
    const store::SampleRow *r = m_model->rowAt(m_list->currentIndex().row());
    if (!m_ws || !r)
        return;
    const qint64 id = r->id;
    const Step step{{{id, r->reviewState}}, decision};
    m_undo.append(step);
    m_redo.clear();
    submit(step.before, {{id, decision}});
    next();
}

QString ReviewView::describe(const Step &s, bool undoing) const
{
    const QString what = s.after == store::Decision::Approve ? tr("approve") : s.after == store::Decision::Reject ? tr("reject") : tr("clear");
    const QString verb = undoing ? tr("Undid") : tr("Redid");
    if (s.before.size() != 1)
        return tr("%1: %2 of %3 samples").arg(verb, what).arg(s.before.size());
    const qint64 id = s.before.first().first;
    const QString hidden = m_model->rowOfSample(id) < 0 ? tr(" (hidden by the current filter)") : QString();
    return tr("%1: %2 of sample %3%4").arg(verb, what).arg(id).arg(hidden);
}

void ReviewView::applyStep(const Step &s, bool undoing)
{
    QList<QPair<qint64, QString>> before;
    QList<QPair<qint64, store::Decision>> decisions;
    for (const auto &[id, state] : s.before) {
        const int row = m_model->rowOfSample(id);
        before.append({id, row >= 0 ? m_model->rowAt(row)->reviewState : (undoing ? stateAfter(s.after) : state)});
        decisions.append({id, undoing ? decisionFor(state) : s.after});
    }
    submit(before, decisions, {}, {}, undoing ? tr("undo") : QString());
    Q_EMIT message(describe(s, undoing));
}

void ReviewView::undo()
{
    if (!m_ws || m_undo.isEmpty())
        return;
    const Step s = m_undo.takeLast();
    m_redo.append(s);
    applyStep(s, true);
    if (s.before.size() == 1) {
        const int row = m_model->rowOfSample(s.before.first().first);
        if (row >= 0)
            m_list->setCurrentIndex(m_model->index(row));
    }
}

void ReviewView::redo()
{
    if (!m_ws || m_redo.isEmpty())
        return;
    const Step s = m_redo.takeLast();
    m_undo.append(s);
    applyStep(s, false);
}

void ReviewView::decideAllFiltered(store::Decision decision)
{
    if (!m_ws)
        return;
    QList<QPair<qint64, QString>> before;
    try {
        before = store::SampleQuery(*m_ws).idsWithState(m_model->filter());
    } catch (const Error &e) {
        Q_EMIT message(tr("Could not list the samples (try again): %1").arg(e.message()));
        return;
    }
    if (before.isEmpty())
        return;
    QList<QPair<qint64, store::Decision>> decisions;
    decisions.reserve(before.size());
    for (const auto &b : std::as_const(before))
        decisions.append({b.first, decision});
    Step step{before, decision};
    m_undo.append(step);
    m_redo.clear();
    submit(before, decisions, {}, {}, tr("bulk"));
    Q_EMIT message(tr("%1 %2 samples").arg(decision == store::Decision::Approve ? tr("Approved") : tr("Rejected")).arg(before.size()));
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
    m_list->setFocus(); // A / R decide again, whether or not something changed
    if (!q && !a)
        return;
    m_question->setModified(false);
    m_answer->setModified(false);
    submit({{r->id, r->reviewState}}, {{r->id, decisionFor(r->reviewState)}}, q, a, tr("edited"));
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
    try {
        QSqlDatabase db = m_ws->connection();
        const store::Rows rows = store::readRows(db, QStringLiteral("SELECT review_state, count(*) FROM samples GROUP BY review_state"));
        m_stateCounts.clear();
        for (const QVariantList &r : rows.rows)
            m_stateCounts[r[0].toString()] = r[1].toLongLong();
    } catch (const Error &) {
        // Busy: keep the last counts; the next change recounts.
    }
    showCounts();
}

void ReviewView::showCounts()
{
    QString text = tr("%1 shown · %2 approved · %3 rejected · %4 pending")
                       .arg(m_model->totalCount())
                       .arg(m_stateCounts.value(QStringLiteral("approved")))
                       .arg(m_stateCounts.value(QStringLiteral("rejected")))
                       .arg(m_stateCounts.value(QStringLiteral("pending")));
    if (const int unsaved = m_queue->pendingCount(); unsaved > 0) {
        text += tr(" · ⏳ %n decision(s) not saved yet, retrying", nullptr, unsaved);
        m_counts->setToolTip(m_pendingReason);
    } else {
        m_counts->setToolTip(QString());
    }
    m_counts->setText(text);
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
    const QString outcome = r->verdictStale ? tr("%1 — stale: the pair was edited after this verdict; re-identify to judge the new text").arg(outcomeLabel(r->outcome))
                                            : outcomeLabel(r->outcome);
    QString html = QStringLiteral("<p><b>Outcome:</b> %1 &nbsp; <b>Review:</b> %2%4 &nbsp; <b>Task:</b> %3</p>")
                       .arg(outcome, reviewLabel(r->reviewState), r->task.toHtmlEscaped(),
                            m_queue->isPending(r->id) ? tr(" (a decision is waiting to be saved)") : QString());
    html += QStringLiteral("<p><i>%1</i></p>").arg(outcomeExplanation(r->outcome).toHtmlEscaped());
    if (!r->criterion.isEmpty())
        html += tr("<p><b>Criterion:</b> %1%2</p>")
                    .arg(criterionLabel(r->criterion).toHtmlEscaped(), r->largeLogprob ? QStringLiteral(" &nbsp; <b>Confidence:</b> ") + confidenceText(r->largeLogprob) : QString());
    if (r->originalQuestion != r->question || r->originalAnswer != r->answer)
        html += tr("<p><i>Original:</i> %1 → %2</p>").arg(r->originalQuestion.toHtmlEscaped(), r->originalAnswer.toHtmlEscaped());
    const QString g = metrics::mpaNormalise(r->answer);
    QSqlDatabase db = m_ws->connection();
    store::Rows answers, runs;
    QList<store::ReviewEntry> history;
    try {
        answers = store::readRows(db, QStringLiteral("SELECT m.name, m.role, a.text FROM answers a JOIN models m ON m.id = a.model_id "
                                                     "WHERE a.sample_id = ? ORDER BY a.id"), {r->id});
        history = store::ReviewJournal(*m_ws).history(r->id);
        runs = store::readRows(db, QStringLiteral("SELECT DISTINCT r.id, r.kind, r.name FROM runs r WHERE r.id IN "
                                                  "(SELECT run_id FROM answers WHERE sample_id = ? UNION SELECT run_id FROM verdicts WHERE sample_id = ? "
                                                  "UNION SELECT run_id FROM samples WHERE id = ?) ORDER BY r.id"),
                               {r->id, r->id, r->id});
    } catch (const Error &e) {
        html += tr("<p><i>Could not read the answers now (%1); they appear at the next update.</i></p>").arg(e.message().toHtmlEscaped());
    }
    html += QStringLiteral("<table cellpadding=3><tr><th>model</th><th>answer</th><th>normalised</th><th>contains \"%1\"</th></tr>").arg(g.toHtmlEscaped());
    for (const QVariantList &a : answers.rows) {
        const QString norm = metrics::mpaNormalise(a[2].toString());
        const bool match = norm.contains(g);
        html += QStringLiteral("<tr><td>%1 (%2)</td><td>%3</td><td><tt>%4</tt></td><td style='color:%5'>%6</td></tr>")
                    .arg(a[0].toString().toHtmlEscaped(), a[1].toString(), a[2].toString().toHtmlEscaped(), norm.toHtmlEscaped(),
                         match ? QStringLiteral("#2e7d32") : QStringLiteral("#c62828"), match ? tr("yes") : tr("no"));
    }
    html += QStringLiteral("</table>");
    if (!r->parsed)
        html += tr("<p><b>Raw output (did not parse):</b></p><pre>%1</pre>").arg(r->rawText.toHtmlEscaped());
    // The sample's history: every decision in the journal, and the runs that touched it.
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
    QStringList runNames;
    for (const QVariantList &run : runs.rows)
        runNames << QStringLiteral("%1 #%2").arg(run[1].toString()).arg(run[0].toLongLong());
    if (!runNames.isEmpty())
        html += tr("<p><b>Runs:</b> %1</p>").arg(runNames.join(QStringLiteral(", ")));
    html += tr("<p style='color:gray'>%1</p>").arg(r->imagePath.toHtmlEscaped());
    m_details->setHtml(html);

    m_image->showImage(r->imagePath, r->imageStatus);
}

} // namespace mpa::ui
