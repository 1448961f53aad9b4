#include "pipeline_home.h"

#include "util/error.h"

#include <QApplication>
#include <QFrame>
#include <QGridLayout>
#include <QLabel>
#include <QListWidget>
#include <QPointer>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QThread>
#include <QVBoxLayout>

namespace mpa::ui {

namespace {

using store::PipelineStage;

struct StageInfo
{
    const char *title;
    const char *meaning;
    const char *actionLabel;
    const char *action;
};

// The MPA loop in the words a newcomer needs (mpa-method.md, the paper's three modules).
const StageInfo kStages[] = {
    {"1 · Import", "Bring in the unlabeled images MPA learns from, and benchmarks to evaluate on (never trained on).", "Import image folder…",
     "import-images"},
    {"2 · Pseudo-annotate", "The large model writes a question-answer pair for each image (Pseudo Annotator).", "Pseudo-annotate…", "annotate"},
    {"3 · Identify", "Both models answer each pseudo question; where only the large one is right is a knowledge gap (Parity Identifier).",
     "Identify parity…", "identify"},
    {"4 · Review", "Read the gaps: approve the ones worth teaching, reject garbled ones. Only approved gaps train by default.", "Review gaps", "review"},
    {"5 · Align", "Fine-tune the small model on the approved gaps (Parity Leveler); each run is a complete model folder.", "Align…", "align"},
    {"6 · Evaluate", "Score the models on a benchmark's official metric and compare before and after, question by question.", "Evaluate…", "evaluate"},
};

QString byTask(const QMap<QString, qint64> &m)
{
    QStringList parts;
    for (auto it = m.begin(); it != m.end(); ++it)
        parts << QStringLiteral("%1 %2").arg(it.key()).arg(it.value());
    return parts.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(parts.join(QStringLiteral(" · ")));
}

} // namespace

PipelineHome::PipelineHome(QWidget *parent)
    : QWidget(parent)
    , m_stack(new QStackedWidget(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);
    m_stack->addWidget(buildStartScreen());
    m_stack->addWidget(buildPipeline());
}

QWidget *PipelineHome::buildStartScreen()
{
    auto *page = new QWidget(this);
    page->setObjectName(QStringLiteral("start-screen"));
    auto *v = new QVBoxLayout(page);
    v->setContentsMargins(40, 30, 40, 30);
    auto *title = new QLabel(tr("<h2>MPA Studio</h2><p>Improve a small vision-language model from unlabeled images: the large model writes "
                                "questions and answers, both models answer them, and the small one learns where only the large one was "
                                "right — with you reviewing every knowledge gap.</p>"),
                             page);
    title->setWordWrap(true);
    v->addWidget(title);
    auto *buttons = new QHBoxLayout;
    for (const auto &[label, action, tip] : {std::tuple{tr("New workspace…"), "new", tr("An empty workspace folder (.mpaw)")},
                                             std::tuple{tr("Open workspace…"), "open", tr("A workspace folder made before")},
                                             std::tuple{tr("New demo workspace…"), "demo",
                                                        tr("A small synthetic world with two tiny demo models: the whole loop in minutes on a CPU")}}) {
        auto *b = new QPushButton(label, page);
        b->setObjectName(QStringLiteral("start-") + QLatin1String(action));
        b->setToolTip(tip);
        b->setMinimumHeight(36);
        connect(b, &QPushButton::clicked, this, [this, a = QString::fromLatin1(action)] { Q_EMIT actionRequested(a); });
        buttons->addWidget(b);
    }
    buttons->addStretch(1);
    v->addLayout(buttons);
    v->addWidget(new QLabel(tr("Recent workspaces (double-click to open):"), page));
    m_recent = new QListWidget(page);
    m_recent->setObjectName(QStringLiteral("recent"));
    connect(m_recent, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) { Q_EMIT actionRequested(QStringLiteral("recent:") + item->text()); });
    v->addWidget(m_recent, 1);
    return page;
}

QWidget *PipelineHome::buildPipeline()
{
    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto *page = new QWidget(scroll);
    page->setObjectName(QStringLiteral("pipeline"));
    auto *v = new QVBoxLayout(page);
    v->setContentsMargins(24, 16, 24, 16);
    m_title = new QLabel(page);
    m_title->setWordWrap(true);
    v->addWidget(m_title);
    auto *nextRow = new QHBoxLayout;
    m_nextText = new QLabel(page);
    m_nextText->setWordWrap(true);
    m_next = new QPushButton(page);
    m_next->setObjectName(QStringLiteral("next-action"));
    m_next->setMinimumHeight(36);
    m_next->setDefault(true);
    connect(m_next, &QPushButton::clicked, this, [this] { Q_EMIT actionRequested(m_nextAction); });
    nextRow->addWidget(m_nextText, 1);
    nextRow->addWidget(m_next);
    v->addLayout(nextRow);
    auto *grid = new QGridLayout;
    grid->setColumnStretch(1, 1);
    grid->setHorizontalSpacing(16);
    grid->setVerticalSpacing(10);
    for (int i = 0; i < 6; ++i) {
        const StageInfo &s = kStages[i];
        auto *frame = new QFrame(page);
        frame->setObjectName(QStringLiteral("stage-") + stageName(static_cast<PipelineStage>(i)));
        frame->setFrameShape(QFrame::StyledPanel);
        auto *g = new QGridLayout(frame);
        auto *title = new QLabel(QStringLiteral("<b>%1</b>").arg(tr(s.title)), frame);
        auto *meaning = new QLabel(tr(s.meaning), frame);
        meaning->setWordWrap(true);
        StageRow &row = m_rows[i];
        row.status = new QLabel(frame);
        row.counts = new QLabel(frame);
        row.counts->setObjectName(QStringLiteral("counts-") + stageName(static_cast<PipelineStage>(i)));
        row.counts->setWordWrap(true);
        row.counts->setTextInteractionFlags(Qt::TextSelectableByMouse);
        row.action = new QPushButton(tr(s.actionLabel), frame);
        row.action->setObjectName(QStringLiteral("action-") + QLatin1String(s.action));
        connect(row.action, &QPushButton::clicked, this, [this, a = QString::fromLatin1(s.action)] { Q_EMIT actionRequested(a); });
        g->addWidget(title, 0, 0);
        g->addWidget(row.status, 0, 1, Qt::AlignRight);
        g->addWidget(meaning, 1, 0, 1, 2);
        g->addWidget(row.counts, 2, 0, 1, 2);
        g->addWidget(row.action, 0, 2, 3, 1, Qt::AlignVCenter);
        g->setColumnStretch(0, 1);
        grid->addWidget(frame, i, 0, 1, 2);
    }
    // Secondary actions that belong to no single stage.
    auto *more = new QHBoxLayout;
    for (const auto &[label, action] : {std::pair{tr("Import annotations / benchmark…"), "import-annotations"}, std::pair{tr("Edit task prompts…"), "prompts"},
                                        std::pair{tr("Export…"), "export"}, std::pair{tr("Compare evaluations"), "evaluation"}}) {
        auto *b = new QPushButton(label, page);
        b->setObjectName(QStringLiteral("action-") + QLatin1String(action));
        connect(b, &QPushButton::clicked, this, [this, a = QString::fromLatin1(action)] { Q_EMIT actionRequested(a); });
        more->addWidget(b);
    }
    more->addStretch(1);
    v->addLayout(grid);
    v->addLayout(more);
    v->addStretch(1);
    scroll->setWidget(page);
    return scroll;
}

void PipelineHome::setWorkspace(const std::optional<store::Workspace> &ws)
{
    m_ws = ws;
    m_progress = {};
    ++m_read; // a read of the previous workspace still in flight is not shown
    m_stack->setCurrentIndex(ws ? 1 : 0);
    if (ws) {
        m_title->setText(tr("<h3>%1</h3>").arg(ws->root().toHtmlEscaped()));
        show(m_progress);
        refresh();
    }
}

void PipelineHome::setRecent(const QStringList &paths)
{
    m_recent->clear();
    m_recent->addItems(paths);
    if (paths.isEmpty())
        m_recent->addItem(tr("(none yet: start with a demo workspace to see the whole loop)"));
    m_recent->item(0)->setFlags(paths.isEmpty() ? Qt::NoItemFlags : m_recent->item(0)->flags());
}

bool PipelineHome::isStartScreen() const
{
    return m_stack->currentIndex() == 0;
}

void PipelineHome::refresh()
{
    if (!m_ws)
        return;
    if (m_reading) { // one read at a time; the newest state is read once this one lands
        m_dirty = true;
        return;
    }
    m_reading = true;
    m_dirty = false;
    const quint64 read = ++m_read;
    const store::Workspace ws = *m_ws;
    QPointer<PipelineHome> self(this);
    QThread *worker = QThread::create([self, read, ws] {
        std::optional<store::PipelineProgress> p;
        try {
            p = store::readPipelineProgress(ws);
        } catch (const Error &) {
            // busy or unreadable: the next change reads again
        }
        ws.releaseThreadConnection();
        QMetaObject::invokeMethod(qApp, [self, read, p] {
            if (!self)
                return;
            self->m_reading = false;
            if (p && read == self->m_read)
                self->show(*p);
            if (self->m_dirty)
                self->refresh();
        }, Qt::QueuedConnection);
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

QString PipelineHome::stageText(PipelineStage stage) const
{
    const int i = static_cast<int>(stage);
    return i < 6 ? m_rows[i].counts->text() : QString();
}

void PipelineHome::show(const store::PipelineProgress &p)
{
    m_progress = p;
    const qint64 gaps = p.outcomes.value(QStringLiteral("gap"));
    const QString counts[6] = {
        tr("%1 unlabeled images · %2 benchmark images (%3 questions)%4")
            .arg(p.poolImages)
            .arg(p.benchmarkImages)
            .arg(p.benchmarkItems)
            .arg(p.unreadableImages ? tr(" · %1 unreadable").arg(p.unreadableImages) : QString()),
        tr("%1 pseudo pairs%2 · %3 did not parse").arg(p.pseudoPairs).arg(byTask(p.pairsByTask)).arg(p.parseFailures),
        tr("%1 samples identified: %2 knowledge gaps · %3 both right · %4 both wrong · %5 only the small model right")
            .arg(p.identified())
            .arg(gaps)
            .arg(p.outcomes.value(QStringLiteral("both_right")))
            .arg(p.outcomes.value(QStringLiteral("both_wrong")))
            .arg(p.outcomes.value(QStringLiteral("s_only"))),
        tr("%1 reviewed · %2 approved gaps · %3 rejected · %4 gaps still to review")
            .arg(p.reviewed)
            .arg(p.approvedGaps)
            .arg(p.rejected)
            .arg(p.gapsToReview),
        tr("%1 alignment runs finished").arg(p.alignmentRuns),
        tr("%1 evaluations finished").arg(p.evaluations),
    };
    const bool done[6] = {p.poolImages > 0, p.pseudoPairs > 0, p.identified() > 0, p.approvedGaps > 0, p.alignmentRuns > 0, p.evaluations > 0};
    const PipelineStage next = p.next();
    for (int i = 0; i < 6; ++i) {
        m_rows[i].counts->setText(counts[i]);
        const bool isNext = static_cast<int>(next) == i;
        m_rows[i].status->setText(done[i] ? tr("✓ done") : isNext ? tr("→ next") : tr("waiting"));
        m_rows[i].action->setDefault(isNext);
    }
    static const char *nextText[] = {
        "Start by importing a folder of unlabeled images.",
        "Next: let the large model write question-answer pairs for the images.",
        "Next: let both models answer the pseudo questions to find the knowledge gaps.",
        "Next: review the knowledge gaps (A approves, R rejects).",
        "Next: align the small model on the approved gaps.",
        "Next: evaluate the aligned model on a benchmark (import one first if there is none).",
        "The loop is complete. Review more gaps, try other training sets (all pairs, random) and compare the evaluations.",
    };
    m_nextText->setText(tr(nextText[static_cast<int>(next)]) + (p.runningRuns ? tr(" (%1 run(s) in progress)").arg(p.runningRuns) : QString()));
    if (next == PipelineStage::Done) {
        m_nextAction = QStringLiteral("evaluation");
        m_next->setText(tr("Compare evaluations"));
    } else {
        m_nextAction = QString::fromLatin1(kStages[static_cast<int>(next)].action);
        m_next->setText(tr(kStages[static_cast<int>(next)].actionLabel));
    }
    Q_EMIT progressShown();
}

} // namespace mpa::ui
