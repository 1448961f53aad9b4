// The background job runner (signals, cancel, the caller never blocks) and crash recovery: a
// real `mpa annotate` killed with SIGKILL mid-run leaves an interrupted run that resumes
// without redoing the images it had finished.
#include "backends/vlm_backend.h"
#include "datasets/importer.h"
#include "jobs/job_runner.h"
#include "pipeline/pseudo_annotator.h"
#include "store/catalog.h"
#include "store/sql_util.h"
#include "test_support.h"
#include "vlm/vlm_model.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QSignalSpy>
#include <QtTest>

using namespace mpa;

namespace {

// A job of `steps` batches that writes one metric row per batch.
jobs::JobRunner::JobFn countingJob(int steps, int sleepMs)
{
    return [steps, sleepMs](const store::Workspace &ws, const ProgressFn &progress) {
        pipeline::RunScope run(ws, store::RunKind::Evaluate, QStringLiteral("counting"), {}, 0);
        pipeline::JobSummary s;
        s.runId = run.id();
        store::Catalog c(ws);
        for (int i = 0; i < steps; ++i) {
            QThread::msleep(static_cast<unsigned long>(sleepMs));
            c.addMetric(run.id(), QStringLiteral("step"), i, i);
            ++s.done;
            if (!progress(i + 1, steps, QStringLiteral("count"))) {
                s.cancelled = true;
                break;
            }
        }
        run.finish(s.cancelled);
        return s;
    };
}
} // namespace

class TestJobs : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void runsJobsInOrderOffTheCallersThread();
    void cancelStopsAtTheNextBatch();
    void recoveryLeavesLiveRunsAlone();
    void killedProcessLeavesAResumableRun();
};

void TestJobs::runsJobsInOrderOffTheCallersThread()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    jobs::JobRunner runner(ws);
    QSignalSpy started(&runner, &jobs::JobRunner::jobStarted), finished(&runner, &jobs::JobRunner::jobFinished),
        progress(&runner, &jobs::JobRunner::progress), idle(&runner, &jobs::JobRunner::idle);
    QElapsedTimer t;
    t.start();
    const int a = runner.enqueue(QStringLiteral("first"), countingJob(5, 60));
    const int b = runner.enqueue(QStringLiteral("second"), countingJob(3, 10));
    QVERIFY(t.elapsed() < 50); // enqueue never waits for the work
    QVERIFY(idle.wait(10000));
    QCOMPARE(finished.count(), 2);
    QCOMPARE(finished.at(0).at(0).toInt(), a);
    QCOMPARE(finished.at(1).at(0).toInt(), b);
    QVERIFY(finished.at(0).at(1).toBool());
    QCOMPARE(progress.count(), 8);
    QCOMPARE(test::countRows(ws, QStringLiteral("metrics")), 8);
    QCOMPARE(test::countRows(ws, QStringLiteral("runs"), QStringLiteral("status = 'finished'")), 2);
}

void TestJobs::cancelStopsAtTheNextBatch()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    jobs::JobRunner runner(ws);
    QSignalSpy progress(&runner, &jobs::JobRunner::progress), finished(&runner, &jobs::JobRunner::jobFinished);
    const int id = runner.enqueue(QStringLiteral("long"), countingJob(1000, 20));
    const int queued = runner.enqueue(QStringLiteral("never"), countingJob(3, 1));
    QVERIFY(progress.wait(5000));
    runner.cancel(queued); // still queued: removed
    runner.cancel(id);     // running: stops after its current batch
    QVERIFY(finished.wait(5000));
    QCOMPARE(finished.at(0).at(0).toInt(), id);
    QVERIFY(finished.at(0).at(2).toBool()); // cancelled
    QTest::qWait(200);
    QCOMPARE(finished.count(), 1);
    QVERIFY(test::countRows(ws, QStringLiteral("metrics")) < 100);
    QCOMPARE(test::countRows(ws, QStringLiteral("runs"), QStringLiteral("status = 'cancelled'")), 1);
}

void TestJobs::recoveryLeavesLiveRunsAlone()
{
    QTemporaryDir tmp;
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    // A run some dead process left "running" (no lock held) ...
    const qint64 orphan = store::Catalog(ws).createRun(store::RunKind::Annotate, QStringLiteral("orphan"), {});
    // ... and one this process is executing right now.
    pipeline::RunScope live(ws, store::RunKind::Annotate, QStringLiteral("live"), {}, 0);
    QCOMPARE(pipeline::recoverInterruptedRuns(ws), 1);
    QSqlDatabase db = ws.connection();
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT status FROM runs WHERE id = ?"), {orphan}).toString(), QStringLiteral("interrupted"));
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT status FROM runs WHERE id = ?"), {live.id()}).toString(), QStringLiteral("running"));
    live.finish(false);
}

void TestJobs::killedProcessLeavesAResumableRun()
{
    if (test::fixturesDir().isEmpty())
        QSKIP("golden fixtures not found (the Qwen2 tokenizer comes from them)");
    QTemporaryDir tmp;
    const QString model = tmp.filePath(QStringLiteral("m"));
    vlm::writeRandomModelFolder(model, test::tinyQwen2VLConfig(), test::fixture(QStringLiteral("qwen2-tokenizer")), 9);
    for (int i = 0; i < 60; ++i)
        test::writePng(tmp.filePath(QStringLiteral("imgs/%1.png").arg(i, 2, 10, QLatin1Char('0'))), 56, 56, i);
    const store::Workspace ws = store::Workspace::create(tmp.filePath(QStringLiteral("w")));
    datasets::Importer(ws).importImageFolder(tmp.filePath(QStringLiteral("imgs")));

    QProcess p;
    p.setProcessChannelMode(QProcess::SeparateChannels);
    p.start(test::cliPath(), {QStringLiteral("annotate"), ws.root(), QStringLiteral("--model"), model, QStringLiteral("--batch"), QStringLiteral("2"),
                              QStringLiteral("--max-new-tokens"), QStringLiteral("24")});
    // Kill it (SIGKILL: no cleanup at all) once it has committed something.
    QElapsedTimer t;
    t.start();
    while (test::countRows(ws, QStringLiteral("samples")) < 4 && t.elapsed() < 60000)
        QTest::qWait(20);
    p.kill();
    p.waitForFinished();
    const qint64 before = test::countRows(ws, QStringLiteral("samples"));
    QVERIFY2(before >= 4 && before < 60, qPrintable(QString::number(before)));
    QSqlDatabase db = ws.connection();
    const qint64 runId = store::scalar(db, QStringLiteral("SELECT id FROM runs WHERE kind = 'annotate'")).toLongLong();
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT status FROM runs WHERE id = ?"), {runId}).toString(), QStringLiteral("running"));
    QCOMPARE(pipeline::recoverInterruptedRuns(ws), 1);
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT status FROM runs WHERE id = ?"), {runId}).toString(), QStringLiteral("interrupted"));

    // Resumed from the command line without naming the model again: the run recorded it.
    QProcess resume;
    resume.start(test::cliPath(), {QStringLiteral("annotate"), ws.root(), QStringLiteral("--resume"), QString::number(runId)});
    QVERIFY(resume.waitForFinished(120000));
    const QString out = QString::fromUtf8(resume.readAllStandardOutput());
    QVERIFY2(resume.exitCode() == 0, resume.readAllStandardError().constData());
    // Finished items are never redone.
    QVERIFY2(out.contains(QStringLiteral("%1 done, %2 already done before").arg(60 - before).arg(before)), qPrintable(out));
    QCOMPARE(test::countRows(ws, QStringLiteral("samples")), 60);
    QCOMPARE(store::scalar(db, QStringLiteral("SELECT status FROM runs WHERE id = ?"), {runId}).toString(), QStringLiteral("finished"));
}

QTEST_GUILESS_MAIN(TestJobs)
#include "test_jobs.moc"
