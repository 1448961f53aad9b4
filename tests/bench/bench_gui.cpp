// Desktop benchmarks (offscreen), each against a baseline measured in the same run:
// - time to first paint of a 100,000-image workspace (baseline: an empty workspace);
// - thumbnails per second through ThumbnailCache (baseline: full decode + smooth scale of the
//   same files on one thread);
// - the GUI thread's longest stall while an alignment runs in the job runner and the Runs view
//   refreshes its charts (goal: under 50 ms; baseline: the same timer with no job).
// Usage: bench_gui [TOKENIZER_DIR]
#include "datasets/importer.h"
#include "jobs/job_runner.h"
#include "image_grid.h"
#include "main_window.h"
#include "pipeline/parity_leveler.h"
#include "run_dashboard.h"
#include "store/sql_util.h"
#include "thumbnail_cache.h"
#include "vlm/vlm_model.h"

#include <QApplication>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QImageReader>
#include <QListView>
#include <QTemporaryDir>
#include <QTimer>
#include <cstdio>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

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
    auto *grid = w.findChild<ui::ImageGridView *>();
    PaintWatcher watcher;
    grid->viewport()->installEventFilter(&watcher);
    while (!watcher.painted && t.elapsed() < 30000)
        QApplication::processEvents(QEventLoop::AllEvents, 5);
    return t.nsecsElapsed() / 1e6;
}

void writeJpegs(const QString &dir, int n)
{
    QDir().mkpath(dir);
    for (int i = 0; i < n; ++i) {
        cv::Mat m(768, 1024, CV_8UC3);
        cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
        cv::GaussianBlur(m, m, cv::Size(31, 31), 8); // photo-like smoothness, not pure noise
        cv::imwrite(QStringLiteral("%1/%2.jpg").arg(dir).arg(i).toStdString(), m);
    }
}

double longestStallMs(int durationMs, const std::function<void()> &during = {})
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
    while (clock.elapsed() < durationMs)
        QApplication::processEvents(QEventLoop::AllEvents, 5);
    return std::max(0.0, worst);
}

} // namespace

int main(int argc, char *argv[])
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QString tokenizer = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral(MPA_SOURCE_DIR "/../shared/fixtures/qwen2-tokenizer");
    QTemporaryDir tmp;

    // 1. First paint.
    const store::Workspace empty = store::Workspace::create(tmp.filePath(QStringLiteral("empty")));
    const store::Workspace big = store::Workspace::create(tmp.filePath(QStringLiteral("big")));
    {
        QSqlDatabase db = big.connection();
        store::Transaction tx(db, QStringLiteral("bench"));
        store::exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 100000) "
                                       "INSERT INTO images(id, path, status, added_at) SELECT v, '/data/' || v || '.jpg', 'missing', 0 FROM n"));
        store::exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 100000) "
                                       "INSERT INTO samples(image_id, task, question, answer, parse_status, source, source_key, created_at, outcome) "
                                       "SELECT v, 'text', 'q' || v, 'a' || v, 'ok', 'bench', v, 0, CASE v % 4 WHEN 0 THEN 'gap' ELSE 'both_right' END FROM n"));
        tx.commit();
    }
    const double baseline = firstPaintMs(empty.root());
    const double firstPaint = firstPaintMs(big.root());
    std::printf("first paint: 100,000-image workspace %.0f ms; empty workspace %.0f ms (+%.0f ms)\n", firstPaint, baseline, firstPaint - baseline);

    // 2. Thumbnails per second.
    const QString images = tmp.filePath(QStringLiteral("jpegs"));
    writeJpegs(images, 120);
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
    jobs::JobRunner runner(train);
    bool finished = false;
    qint64 alignRun = 0;
    QObject::connect(&runner, &jobs::JobRunner::idle, [&] { finished = true; });
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
    return 0;
}
