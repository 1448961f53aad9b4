// Desktop benchmarks (offscreen), each against a baseline measured in the same run:
// - time to first paint of a 100,000-image workspace (baseline: an empty workspace);
// - thumbnails per second through ThumbnailCache (baseline: full decode + smooth scale of the
//   same files on one thread);
// - the GUI thread's longest stall while an alignment runs in the job runner and the Runs view
//   refreshes its charts (goal: under 50 ms; baseline: the same timer with no job);
// - with a second process writing metrics every 100 ms (this executable again, as
//   --metrics-writer) into a 2,000-image / 1,000-sample workspace while a person decides every
//   50 ms: the latency from the other process's commit to the chart showing the point (median,
//   p99), the review commit latency (p99) and the longest GUI stall (baseline: idle);
// - the Evaluation view scoring 6 runs x 5,000 questions and comparing two: when each table
//   shows, and the longest GUI stall meanwhile (baseline: idle).
// Usage: bench_gui [TOKENIZER_DIR]
#include "datasets/importer.h"
#include "jobs/job_runner.h"
#include "image_grid.h"
#include "bench_images.h"
#include "main_window.h"
#include "evaluation_rows.h"
#include "evaluation_view.h"
#include "metrics_writer.h"
#include "pipeline/parity_leveler.h"
#include "review_view.h"
#include "row_table_model.h"
#include "run_dashboard.h"
#include "store/change_watcher.h"
#include "store/decision_queue.h"
#include "store/rows.h"
#include "store/sql_util.h"
#include "thumbnail_cache.h"
#include "vlm/vlm_model.h"

#include <QApplication>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QImageReader>
#include <QListView>
#include <QProcess>
#include <QStandardItemModel>
#include <QTemporaryDir>
#include <QTimer>
#include <cstdio>


using namespace mpa;

namespace {

class PaintWatcher : public QObject
{
public:
    bool painted = false;
    bool eventFilter(QObject *, QEvent *e) override
    {
        if (e->type() == QEvent::Paint)
            painted = true;
        return false;
    }
};

double firstPaintMs(const QString &workspace)
{
    QElapsedTimer t;
    t.start();
    ui::MainWindow w;
    w.resize(1280, 800);
    w.show();
    w.openWorkspace(workspace);
    w.showView(QStringLiteral("browser")); // a workspace opens on Home, where no grid paints
    auto *grid = w.findChild<ui::ImageGridView *>();
    PaintWatcher watcher;
    grid->viewport()->installEventFilter(&watcher);
    while (!watcher.painted && t.elapsed() < 30000)
        QApplication::processEvents(QEventLoop::AllEvents, 5);
    return t.nsecsElapsed() / 1e6;
}

// `each` runs on every turn of the event loop (measurements that watch the screen).
double longestStallMs(int durationMs, const std::function<void()> &during = {}, const std::function<void()> &each = {})
{
    QElapsedTimer clock, last;
    clock.start();
    last.start();
    double worst = 0;
    QTimer tick;
    QObject::connect(&tick, &QTimer::timeout, [&] {
        worst = std::max(worst, last.nsecsElapsed() / 1e6 - 10.0);
        last.restart();
    });
    tick.start(10);
    if (during)
        during();
    while (clock.elapsed() < durationMs) {
        QApplication::processEvents(QEventLoop::AllEvents, 1);
        if (each)
            each();
    }
    return std::max(0.0, worst);
}

// `images` rows (recorded as missing) and `samples` pseudo pairs on them, every fourth a gap.
void addRows(const store::Workspace &ws, int images, int samples)
{
    QSqlDatabase db = ws.connection();
    store::Transaction tx(db, QStringLiteral("bench"));
    store::exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < %1) "
                                   "INSERT INTO images(id, path, status, added_at) SELECT v, '/data/' || v || '.jpg', 'missing', 0 FROM n").arg(images));
    store::exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < %1) "
                                   "INSERT INTO samples(image_id, task, question, answer, parse_status, source, source_key, created_at, outcome) "
                                   "SELECT v, 'text', 'q' || v, 'a' || v, 'ok', 'bench', v, 0, CASE v % 4 WHEN 0 THEN 'gap' ELSE 'both_right' END FROM n")
                            .arg(samples));
    tx.commit();
}

double percentile(std::vector<double> v, double q)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1), std::floor(q * static_cast<double>(v.size()))))];
}

} // namespace

int main(int argc, char *argv[])
{
    if (test::isMetricsWriterCall(argc, argv)) {
        QCoreApplication app(argc, argv);
        return test::runMetricsWriter(QString::fromLocal8Bit(argv[2]), std::atoi(argv[3]));
    }
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QString tokenizer = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral(MPA_SOURCE_DIR "/../shared/fixtures/qwen2-tokenizer");
    QTemporaryDir tmp;

    // 1. First paint.
    const store::Workspace empty = store::Workspace::create(tmp.filePath(QStringLiteral("empty")));
    const store::Workspace big = store::Workspace::create(tmp.filePath(QStringLiteral("big")));
    addRows(big, 100000, 100000);
    const double baseline = firstPaintMs(empty.root());
    const double firstPaint = firstPaintMs(big.root());
    std::printf("first paint: 100,000-image workspace %.0f ms; empty workspace %.0f ms (+%.0f ms)\n", firstPaint, baseline, firstPaint - baseline);

    // 2. Thumbnails per second.
    const QString images = tmp.filePath(QStringLiteral("jpegs"));
    bench::writeNoiseJpegs(images, 120, 1024, 768);
    QStringList files;
    QDirIterator it(images, {QStringLiteral("*.jpg")});
    while (it.hasNext())
        files << it.next();
    QElapsedTimer t;
    t.start();
    for (const QString &f : files) {
        QImage full(f);
        (void)full.scaled(144, 144, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    }
    const double fullRate = files.size() / (t.nsecsElapsed() / 1e9);
    ui::ThumbnailCache cache;
    cache.setCacheDir(tmp.filePath(QStringLiteral("thumbs")));
    int ready = 0;
    QObject::connect(&cache, &ui::ThumbnailCache::ready, [&] { ++ready; });
    t.restart();
    for (int i = 0; i < files.size(); ++i)
        cache.get(i + 1, files[i], QStringLiteral("k%1").arg(i));
    while (ready < files.size())
        QApplication::processEvents(QEventLoop::AllEvents, 5);
    const double thumbRate = files.size() / (t.nsecsElapsed() / 1e9);
    std::printf("thumbnails: %.0f/s through ThumbnailCache (1024x768 JPEG, scaled decoding, one worker); full decode + scale %.0f/s (%.1fx)\n",
                thumbRate, fullRate, thumbRate / fullRate);

    // 3. GUI stall while training.
    const double idleStall = longestStallMs(3000);
    const QString model = tmp.filePath(QStringLiteral("model"));
    vlm::Qwen2VLConfig c = vlm::Qwen2VLConfig::small(256, 4, 151680);
    c.vision.depth = 2;
    c.vision.embedDim = 64;
    c.vision.numHeads = 4;
    vlm::writeRandomModelFolder(model, c, tokenizer, 1);
    const store::Workspace train = store::Workspace::create(tmp.filePath(QStringLiteral("train")));
    datasets::Importer(train).importImageFolder(images);
    {
        QSqlDatabase db = train.connection();
        store::exec(db, QStringLiteral("INSERT INTO samples(image_id, task, question, answer, parse_status, source, source_key, created_at) "
                                       "SELECT id, 'text', 'What is shown', 'noise', 'ok', 'bench', id, 0 FROM images"));
    }
    ui::RunDashboard dash;
    dash.resize(1000, 700);
    dash.show();
    dash.setWorkspace(train);
    store::ChangeWatcher watcher; // what MainWindow does: the dashboard follows the workspace
    QObject::connect(&watcher, &store::ChangeWatcher::changed, &dash, &ui::RunDashboard::workspaceChanged);
    watcher.setWorkspace(train);
    jobs::JobRunner runner(train);
    bool finished = false;
    qint64 alignRun = 0;
    QObject::connect(&runner, &jobs::JobRunner::idle, [&] { finished = true; });
    QObject::connect(&runner, &jobs::JobRunner::progress, &watcher, [&] { watcher.nudge(); });
    QObject::connect(&runner, &jobs::JobRunner::jobFinished, [](int, bool ok, bool, const QString &message) {
        if (!ok)
            std::printf("the training job failed: %s\n", qPrintable(message));
    });
    QObject::connect(&runner, &jobs::JobRunner::jobStarted, &dash, [&] { // queued to the GUI thread
        QTimer::singleShot(500, [&] {
            QSqlDatabase db = train.connection();
            alignRun = store::scalar(db, QStringLiteral("SELECT max(id) FROM runs WHERE kind = 'align'")).toLongLong();
            dash.showRuns({alignRun});
        });
    });
    const double trainingStall = longestStallMs(15000, [&] {
        runner.enqueue(QStringLiteral("align"), [model](const store::Workspace &ws, const ProgressFn &progress) {
            pipeline::AlignParams p;
            p.selection = QStringLiteral("all");
            p.gradAccum = 1;
            p.minPixels = p.maxPixels = 224 * 224;
            return pipeline::runParityLeveler(ws, model, p, progress);
        });
    });
    std::printf("GUI thread longest stall: %.1f ms while training with the Runs view refreshing (goal < 50 ms; %d loss points charted%s); "
                "idle baseline %.1f ms\n", trainingStall, dash.pointCount(alignRun), finished ? "" : ", still training", idleStall);
    {
        QSqlDatabase db = train.connection();
        std::printf("(align run %lld: %lld loss rows in the workspace)\n", static_cast<long long>(alignRun),
                    static_cast<long long>(store::scalar(db, QStringLiteral("SELECT count(*) FROM metrics WHERE name = 'loss'")).toLongLong()));
    }
    runner.cancelAll();
    while (!runner.isIdle())
        QApplication::processEvents(QEventLoop::AllEvents, 20);

    // 4. A second process writes metrics every 100 ms while a person decides every 50 ms.
    const store::Workspace shared = store::Workspace::create(tmp.filePath(QStringLiteral("shared")));
    addRows(shared, 2000, 1000);
    ui::MainWindow window;
    window.resize(1280, 800);
    window.show();
    window.openWorkspace(shared.root());
    window.showView(QStringLiteral("review"));
    QProcess writer;
    writer.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--metrics-writer"), shared.root(), QStringLiteral("25")});
    writer.waitForReadyRead(10000);
    const qint64 writerRun = QString::fromLatin1(writer.readLine()).section(QLatin1Char(' '), 1).trimmed().toLongLong();
    QElapsedTimer appear;
    appear.start();
    while (window.runDashboard()->runsModel()->rowOfKey(writerRun) < 0 && appear.elapsed() < 10000)
        QApplication::processEvents(QEventLoop::AllEvents, 1);
    const double appearMs = appear.nsecsElapsed() / 1e6;
    window.runDashboard()->showRuns({writerRun});
    std::vector<double> chartLatency, commitLatency;
    int drawn = window.runDashboard()->pointCount(writerRun);
    QSqlDatabase probe = shared.connection(); // the bench's own connection, not the window's
    QHash<quint64, qint64> submitted;
    store::DecisionQueue *queue = window.reviewView()->decisionQueue();
    QObject::connect(queue, &store::DecisionQueue::written, [&](quint64 ticket, const QList<qint64> &) {
        if (submitted.contains(ticket))
            commitLatency.push_back(static_cast<double>(store::nowMs() - submitted.take(ticket)));
    });
    QElapsedTimer sinceDecision;
    sinceDecision.start();
    const double loadedStall = longestStallMs(15000, {}, [&] {
        const int now = window.runDashboard()->pointCount(writerRun);
        if (now > drawn) {
            const store::Rows rows = store::readRows(probe, QStringLiteral("SELECT created_at FROM metrics WHERE run_id = ? AND name = 'loss' "
                                                                           "AND step > ? AND step <= ?"), {writerRun, drawn, now});
            for (const QVariantList &r : rows.rows)
                chartLatency.push_back(static_cast<double>(store::nowMs() - r[0].toLongLong()));
            drawn = now;
        }
        if (sinceDecision.elapsed() >= 50) {
            submitted.insert(queue->nextTicket(), store::nowMs());
            window.reviewView()->decide(store::Decision::Approve);
            sinceDecision.restart();
        }
    });
    std::printf("second process writing every 100 ms: its run in Runs after %.0f ms; commit to chart median %.0f ms, p99 %.0f ms "
                "(%zu points; the watcher polls every 500 ms); review commit p99 %.1f ms (%zu decisions, %d unsaved at the end); "
                "longest GUI stall %.1f ms (idle baseline %.1f ms)\n",
                appearMs, percentile(chartLatency, 0.5), percentile(chartLatency, 0.99), chartLatency.size(), percentile(commitLatency, 0.99),
                commitLatency.size(), queue->pendingCount(), loadedStall, idleStall);
    writer.kill();
    writer.waitForFinished();

    // 5. The Evaluation view at a benchmark's size: 6 runs x 5,000 ANLS questions scored on its
    // worker, then a comparison of two runs; the GUI thread's longest stall meanwhile.
    const store::Workspace evaluated = store::Workspace::create(tmp.filePath(QStringLiteral("evaluated")));
    const QList<qint64> evalRuns = test::addEvaluatedBenchmark(evaluated, 5000, 6);
    ui::MainWindow evalWindow;
    evalWindow.resize(1280, 800);
    evalWindow.show();
    QElapsedTimer shown;
    shown.start();
    evalWindow.openWorkspace(evaluated.root());
    const double openMs = shown.nsecsElapsed() / 1e6;
    double resultsMs = 0, flipsMs = 0;
    const double evalStall = longestStallMs(6000, [&] {
        evalWindow.showView(QStringLiteral("evaluation"));
    }, [&] {
        ui::EvaluationView *view = evalWindow.evaluationView();
        if (resultsMs == 0 && view->resultsModel()->rowCount() == evalRuns.size()) {
            resultsMs = shown.nsecsElapsed() / 1e6;
            shown.restart();
            evalWindow.compareEvaluations(evalRuns[0], evalRuns[1]);
        } else if (resultsMs > 0 && flipsMs == 0 && view->flipModel()->rowCount() == 5000) {
            flipsMs = shown.nsecsElapsed() / 1e6;
        }
    });
    std::printf("Evaluation view, 6 runs x 5,000 questions: workspace opened in %.0f ms; results shown after %.0f ms, the 5,000-row flip table %.0f ms after selecting; "
                "longest GUI stall %.1f ms meanwhile (idle baseline %.1f ms)\n", openMs, resultsMs, flipsMs, evalStall, idleStall);
    return 0;
}
