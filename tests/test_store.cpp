// The workspace store: creation, identity checks, migrations, the review journal, per-thread
// connections and read-only handling.
#include "store/catalog.h"
#include "store/migrations.h"
#include "store/review_journal.h"
#include "store/rows.h"
#include "store/decision_queue.h"
#include "store/sample_query.h"
#include "store/sql_util.h"
#include "store/stats.h"
#include "store/workspace.h"
#include "test_support.h"
#include "util/error.h"

#include <QDir>
#include <QElapsedTimer>
#include <QSqlDatabase>
#include <QThread>
#include <QtTest>
#include <atomic>

using namespace mpa;
using namespace mpa::store;

namespace {

// A workspace with `n` samples on one image, all identified as `outcome`.
QList<qint64> addSamples(const Workspace &ws, int n, Outcome outcome = Outcome::Gap)
{
    Catalog c(ws);
    QSqlDatabase db = ws.connection();
    Transaction tx(db, QStringLiteral("test data"));
    ImageRecord img;
    img.path = QStringLiteral("/data/img.jpg");
    img.status = ImageStatus::Missing;
    const qint64 imageId = c.upsertImage(img);
    const qint64 runId = c.createRun(RunKind::Import, QStringLiteral("test"), {});
    QList<qint64> ids;
    for (int i = 0; i < n; ++i) {
        SampleRecord s;
        s.imageId = imageId;
        s.task = QStringLiteral("text");
        s.question = QStringLiteral("q%1").arg(i);
        s.answer = QStringLiteral("a%1").arg(i);
        s.source = QStringLiteral("test");
        s.sourceKey = QString::number(i);
        const qint64 id = c.upsertSample(s);
        c.upsertVerdict(id, runId, true, false, outcome, QStringLiteral("mpa-substring"));
        ids << id;
    }
    tx.commit();
    return ids;
}

} // namespace

class TestStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void anOpenStatementPinsTheSnapshot();
    void decisionQueueWaitsOutABusyDatabase();
    void createMakesTheFolderLayout();
    void createRefusesAnExistingWorkspace();
    void openRefusesMissingAndForeignFiles();
    void newerSchemaIsRefusedAndLeftUntouched();
    void olderSchemaIsMigratedWithItsData();
    void reviewStateDerivesFromTheJournal();
    void journalIsAppendOnly();
    void deletingASampleTakesItsJournal();
    void readOnlyWorkspaceRefusesWrites();
    void readOnlyFilePermissions();
    void connectionsArePerThread();
    void keysetPagingAndFilters();
    void interruptedRunsAreMarked();
};

void TestStore::createMakesTheFolderLayout()
{
    QTemporaryDir tmp;
    const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("my data")));
    QCOMPARE(ws.root(), QDir::cleanPath(tmp.filePath(QStringLiteral("my data.mpaw"))));
    QVERIFY(QFileInfo(ws.databasePath()).isFile());
    QVERIFY(QFileInfo(ws.thumbnailDir()).isDir());
    QVERIFY(QFileInfo(ws.runsDir()).isDir());
    QCOMPARE(ws.schemaVersion(), kSchemaVersion);
    QSqlDatabase db = ws.connection();
    QCOMPARE(scalar(db, QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
    QCOMPARE(scalar(db, QStringLiteral("PRAGMA foreign_keys")).toInt(), 1);
    QCOMPARE(scalar(db, QStringLiteral("PRAGMA application_id")).toInt(), kApplicationId);
    // Opening by the name without suffix finds the same workspace.
    QCOMPARE(Workspace::open(tmp.filePath(QStringLiteral("my data"))).root(), ws.root());
}

void TestStore::createRefusesAnExistingWorkspace()
{
    QTemporaryDir tmp;
    Workspace::create(tmp.filePath(QStringLiteral("a")));
    try {
        Workspace::create(tmp.filePath(QStringLiteral("a")));
        QFAIL("expected an error");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("already exists")), qPrintable(e.message()));
    }
}

void TestStore::openRefusesMissingAndForeignFiles()
{
    QTemporaryDir tmp;
    QVERIFY_THROWS_EXCEPTION(Error, Workspace::open(tmp.filePath(QStringLiteral("nope"))));
    // A text file where the database should be.
    const QString fake = tmp.filePath(QStringLiteral("fake.mpaw"));
    test::writeText(fake + QStringLiteral("/workspace.sqlite"), "this is not sqlite at all, just text\n");
    try {
        Workspace::open(fake);
        QFAIL("expected an error");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(fake), qPrintable(e.message()));
    }
    // A real SQLite database of another application.
    const QString other = tmp.filePath(QStringLiteral("other.mpaw"));
    QDir().mkpath(other);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("other"));
        db.setDatabaseName(other + QStringLiteral("/workspace.sqlite"));
        QVERIFY(db.open());
        exec(db, QStringLiteral("CREATE TABLE t(x)"));
        exec(db, QStringLiteral("PRAGMA user_version = 7"));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("other"));
    try {
        Workspace::open(other);
        QFAIL("expected an error");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("not an MPA Studio workspace")), qPrintable(e.message()));
    }
}

void TestStore::newerSchemaIsRefusedAndLeftUntouched()
{
    QTemporaryDir tmp;
    QString path;
    {
        const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("future")));
        path = ws.root();
        addSamples(ws, 3);
        QSqlDatabase db = ws.connection();
        exec(db, QStringLiteral("PRAGMA user_version = %1").arg(kSchemaVersion + 5));
    }
    try {
        Workspace::open(path);
        QFAIL("expected an error");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("newer MPA Studio")), qPrintable(e.message()));
        QVERIFY2(e.message().contains(QString::number(kSchemaVersion + 5)), qPrintable(e.message()));
    }
    // Untouched: the raw file still holds the version and the rows.
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("raw"));
    db.setDatabaseName(path + QStringLiteral("/workspace.sqlite"));
    QVERIFY(db.open());
    QCOMPARE(scalar(db, QStringLiteral("PRAGMA user_version")).toInt(), kSchemaVersion + 5);
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM samples")).toInt(), 3);
    db.close();
    db = QSqlDatabase();
    QSqlDatabase::removeDatabase(QStringLiteral("raw"));
}

void TestStore::olderSchemaIsMigratedWithItsData()
{
    // Build a workspace exactly as schema 1 wrote it: tables only, a review journal, verdicts.
    QTemporaryDir tmp;
    const QString root = tmp.filePath(QStringLiteral("old.mpaw"));
    QDir().mkpath(root);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1"));
        db.setDatabaseName(root + QStringLiteral("/workspace.sqlite"));
        QVERIFY(db.open());
        exec(db, QStringLiteral("PRAGMA foreign_keys = ON"));
        migrate(db, root, 1);
        QCOMPARE(readSchemaVersion(db), 1);
        exec(db, QStringLiteral("INSERT INTO images(id, path, status, added_at) VALUES(1, '/x.jpg', 'missing', 0)"));
        exec(db, QStringLiteral("INSERT INTO runs(id, kind, status, created_at) VALUES(1, 'identify', 'finished', 0)"));
        for (int i = 1; i <= 3; ++i)
            exec(db, QStringLiteral("INSERT INTO samples(id, image_id, task, question, answer, parse_status, source, source_key, created_at) "
                                    "VALUES(%1, 1, 'text', 'q', 'a', 'ok', 's', '%1', 0)").arg(i));
        exec(db, QStringLiteral("INSERT INTO verdicts(sample_id, run_id, l_correct, s_correct, outcome, criterion, created_at) "
                                "VALUES(1, 1, 1, 0, 'gap', 'mpa', 0), (2, 1, 1, 1, 'both_right', 'mpa', 0)"));
        exec(db, QStringLiteral("INSERT INTO reviews(sample_id, decision, created_at) VALUES(1, 'approve', 0), (2, 'reject', 0), "
                                "(2, 'clear', 1), (3, 'reject', 0)"));
        exec(db, QStringLiteral("INSERT INTO reviews(sample_id, decision, answer, created_at) VALUES(3, 'approve', 'edited', 2)"));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("v1"));

    // Read-only opening cannot migrate: a clear refusal.
    QVERIFY_THROWS_EXCEPTION(Error, Workspace::open(root, OpenMode::ReadOnly));

    const Workspace ws = Workspace::open(root);
    QCOMPARE(ws.schemaVersion(), kSchemaVersion);
    SampleQuery q(ws);
    QCOMPARE(q.byId(1)->reviewState, QStringLiteral("approved"));
    QCOMPARE(q.byId(1)->outcome, QStringLiteral("gap"));
    QCOMPARE(q.byId(2)->reviewState, QStringLiteral("pending"));
    QCOMPARE(q.byId(2)->outcome, QStringLiteral("both_right"));
    QCOMPARE(q.byId(3)->reviewState, QStringLiteral("approved"));
    QCOMPARE(q.byId(3)->answer, QStringLiteral("edited"));
    QCOMPARE(q.byId(3)->originalAnswer, QStringLiteral("a"));
    QVERIFY(q.byId(3)->outcome.isEmpty());
    // Schema 4: the image browser's benchmark filter looks benchmark items up by image.
    QSqlDatabase db = ws.connection();
    QStringList plan;
    for (const QVariantList &r : readRows(db, QStringLiteral("EXPLAIN QUERY PLAN SELECT count(*) FROM images i WHERE NOT EXISTS "
                                                             "(SELECT 1 FROM benchmark_items b WHERE b.image_id = i.id)")).rows)
        plan << r.last().toString();
    QVERIFY2(plan.join(QLatin1Char('\n')).contains(QLatin1String("INDEX benchmark_items_image")), qPrintable(plan.join(QLatin1Char('\n'))));
}

void TestStore::reviewStateDerivesFromTheJournal()
{
    QTemporaryDir tmp;
    const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("w")));
    const qint64 id = addSamples(ws, 1).first();
    ReviewJournal journal(ws);
    SampleQuery q(ws);
    QCOMPARE(q.byId(id)->reviewState, QStringLiteral("pending"));
    journal.record(id, Decision::Approve);
    QCOMPARE(q.byId(id)->reviewState, QStringLiteral("approved"));
    journal.record(id, Decision::Reject, QStringLiteral("What is written on the sign?"), std::nullopt, QStringLiteral("typo"));
    QCOMPARE(q.byId(id)->reviewState, QStringLiteral("rejected"));
    QCOMPARE(q.byId(id)->question, QStringLiteral("What is written on the sign?"));
    QCOMPARE(q.byId(id)->originalQuestion, QStringLiteral("q0"));
    journal.record(id, Decision::Clear);
    QCOMPARE(q.byId(id)->reviewState, QStringLiteral("pending"));
    QCOMPARE(journal.currentState(id), QStringLiteral("pending"));
    const QList<ReviewEntry> history = journal.history(id);
    QCOMPARE(history.size(), 3);
    QCOMPARE(history.at(1).note, QStringLiteral("typo"));
    QCOMPARE(history.at(1).question.value(), QStringLiteral("What is written on the sign?"));
    QVERIFY(!history.at(0).question.has_value());
    // Reopening the workspace (a restart) shows the same state.
    const Workspace again = Workspace::open(ws.root());
    QCOMPARE(SampleQuery(again).byId(id)->reviewState, QStringLiteral("pending"));
    QCOMPARE(ReviewJournal(again).history(id).size(), 3);
}

void TestStore::journalIsAppendOnly()
{
    QTemporaryDir tmp;
    const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("w")));
    const qint64 id = addSamples(ws, 1).first();
    ReviewJournal(ws).record(id, Decision::Approve);
    QSqlDatabase db = ws.connection();
    QVERIFY_THROWS_EXCEPTION(Error, exec(db, QStringLiteral("UPDATE reviews SET decision = 'reject'")));
    QVERIFY_THROWS_EXCEPTION(Error, exec(db, QStringLiteral("DELETE FROM reviews")));
    QCOMPARE(test::countRows(ws, QStringLiteral("reviews")), 1);
}

void TestStore::deletingASampleTakesItsJournal()
{
    QTemporaryDir tmp;
    const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("w")));
    const qint64 id = addSamples(ws, 2).first();
    ReviewJournal(ws).record(id, Decision::Approve);
    QSqlDatabase db = ws.connection();
    exec(db, QStringLiteral("DELETE FROM samples WHERE id = ?"), {id});
    QCOMPARE(test::countRows(ws, QStringLiteral("reviews")), 0);
    QCOMPARE(test::countRows(ws, QStringLiteral("verdicts")), 1);
}

void TestStore::readOnlyWorkspaceRefusesWrites()
{
    QTemporaryDir tmp;
    QString root;
    {
        const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("w")));
        root = ws.root();
        addSamples(ws, 2);
    }
    const Workspace ro = Workspace::open(root, OpenMode::ReadOnly);
    QVERIFY(ro.isReadOnly());
    QCOMPARE(SampleQuery(ro).count({}), 2);
    try {
        ReviewJournal(ro).record(1, Decision::Approve);
        QFAIL("expected an error");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("read-only")) && e.message().contains(root), qPrintable(e.message()));
    }
    // Even a raw write through the read-only connection is refused by SQLite itself.
    QSqlDatabase db = ro.connection();
    QVERIFY_THROWS_EXCEPTION(Error, exec(db, QStringLiteral("INSERT INTO reviews(sample_id, decision, created_at) VALUES(1, 'approve', 0)")));
    QCOMPARE(test::countRows(Workspace::open(root), QStringLiteral("reviews")), 0);
}

void TestStore::readOnlyFilePermissions()
{
    if (geteuid() == 0)
        QSKIP("running as root: file permissions do not stop root (the explicit read-only mode is tested above)");
    QTemporaryDir tmp;
    const QString root = Workspace::create(tmp.filePath(QStringLiteral("w"))).root();
    QFile::setPermissions(root + QStringLiteral("/workspace.sqlite"), QFile::ReadOwner);
    try {
        Workspace::open(root);
        QFAIL("expected an error");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("read-only")), qPrintable(e.message()));
    }
    QVERIFY(Workspace::open(root, OpenMode::ReadOnly).isReadOnly());
    QFile::setPermissions(root + QStringLiteral("/workspace.sqlite"), QFile::ReadOwner | QFile::WriteOwner);
}

void TestStore::connectionsArePerThread()
{
    QTemporaryDir tmp;
    const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("w")));
    const QList<qint64> ids = addSamples(ws, 200);
    std::atomic<int> failures{0};
    QList<QThread *> threads;
    for (int t = 0; t < 4; ++t) {
        threads << QThread::create([&, t] {
            try {
                ReviewJournal journal(ws);
                for (int i = t; i < ids.size(); i += 4)
                    journal.record(ids.at(i), (i % 2) ? Decision::Approve : Decision::Reject);
                ws.releaseThreadConnection();
            } catch (const Error &e) {
                qWarning() << e.message();
                ++failures;
            }
        });
        threads.last()->start();
    }
    for (QThread *t : threads) {
        t->wait();
        delete t;
    }
    QCOMPARE(failures.load(), 0);
    QCOMPARE(test::countRows(ws, QStringLiteral("reviews")), 200);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("review_state = 'approved'")), 100);
}

void TestStore::keysetPagingAndFilters()
{
    QTemporaryDir tmp;
    const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("w")));
    const QList<qint64> gaps = addSamples(ws, 25, Outcome::Gap);
    ReviewJournal journal(ws);
    for (int i = 0; i < 10; ++i)
        journal.record(gaps.at(i), Decision::Approve);
    SampleQuery q(ws);
    SampleFilter approvedGaps;
    approvedGaps.outcome = QStringLiteral("gap");
    approvedGaps.reviewState = QStringLiteral("approved");
    QCOMPARE(q.count(approvedGaps), 10);
    // Pages of 4: 4 + 4 + 2, in id order, no overlap.
    QList<qint64> seen;
    qint64 after = 0;
    for (;;) {
        const QList<SampleRow> page = q.page(approvedGaps, after, 4);
        if (page.isEmpty())
            break;
        for (const SampleRow &r : page)
            seen << r.id;
        after = page.last().id;
    }
    QCOMPARE(seen, gaps.mid(0, 10));
    SampleFilter text;
    text.text = QStringLiteral("Q2"); // q2, q20..q24 (case-insensitive)
    QCOMPARE(q.count(text), 6);
    SampleFilter none;
    none.outcome = QStringLiteral("none");
    QCOMPARE(q.count(none), 0);
}

void TestStore::interruptedRunsAreMarked()
{
    QTemporaryDir tmp;
    const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("w")));
    Catalog c(ws);
    const qint64 run = c.createRun(RunKind::Align, QStringLiteral("crashed"), {});
    c.createRun(RunKind::Import, QStringLiteral("done"), {}, RunStatus::Finished);
    QCOMPARE(c.markInterruptedRuns(), 1);
    QSqlDatabase db = ws.connection();
    QCOMPARE(scalar(db, QStringLiteral("SELECT status FROM runs WHERE id = ?"), {run}).toString(), QStringLiteral("interrupted"));
    const QString stats = formatStats(collectStats(ws));
    QVERIFY2(stats.contains(QLatin1String("align interrupted: 1")), qPrintable(stats));
}

// The mechanism behind "the desktop stops seeing job results and then fails to save a
// decision": a statement stepped but not finished keeps a read transaction, so the connection
// sees no later commit and its next write fails at once (SQLITE_BUSY_SNAPSHOT), whatever the
// busy timeout. readRows finishes the statement, and the same write then succeeds.
void TestStore::anOpenStatementPinsTheSnapshot()
{
    QTemporaryDir tmp;
    const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("w")));
    {
        QSqlDatabase db = ws.connection();
        exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 300) "
                                "INSERT INTO images(path, status, added_at) SELECT '/p' || v, 'missing', 0 FROM n"));
    }
    QSqlDatabase gui = ws.connection();
    QSqlQuery lazy(gui);
    QVERIFY(lazy.exec(QStringLiteral("SELECT id FROM images ORDER BY id")));
    QVERIFY(lazy.next()); // one page read, the rest left for later: what a lazy model does
    QCOMPARE(unfinishedStatements(gui), 1);
    // Another connection (a job thread) commits.
    QThread *job = QThread::create([&] {
        QSqlDatabase db = ws.connection();
        exec(db, QStringLiteral("INSERT INTO images(path, status, added_at) VALUES('/new', 'missing', 0)"));
        ws.releaseThreadConnection();
    });
    job->start();
    job->wait();
    delete job;
    QCOMPARE(readRows(gui, QStringLiteral("SELECT count(*) FROM images")).at(0, 0).toInt(), 300); // the commit is invisible
    QElapsedTimer clock;
    clock.start();
    bool busy = false;
    try {
        exec(gui, QStringLiteral("INSERT INTO images(path, status, added_at) VALUES('/mine', 'missing', 0)"));
    } catch (const DatabaseBusy &) {
        busy = true;
    }
    QVERIFY2(busy, "a write on a pinned snapshot should fail as busy");
    QVERIFY2(clock.elapsed() < 2000, "BUSY_SNAPSHOT does not wait for the busy timeout");
    lazy.finish();
    QCOMPARE(unfinishedStatements(gui), 0);
    QCOMPARE(readRows(gui, QStringLiteral("SELECT count(*) FROM images")).at(0, 0).toInt(), 301);
    exec(gui, QStringLiteral("INSERT INTO images(path, status, added_at) VALUES('/mine', 'missing', 0)"));
    QCOMPARE(unfinishedStatements(gui), 0);
}

// While another connection holds the write lock, a decision waits in the queue (pending, not
// lost, not blocking the caller), and lands once the lock is released.
void TestStore::decisionQueueWaitsOutABusyDatabase()
{
    QTemporaryDir tmp;
    const Workspace ws = Workspace::create(tmp.filePath(QStringLiteral("w")));
    {
        QSqlDatabase db = ws.connection();
        exec(db, QStringLiteral("INSERT INTO images(id, path, status, added_at) VALUES(1, '/x', 'missing', 0)"));
        exec(db, QStringLiteral("INSERT INTO samples(id, image_id, task, question, answer, parse_status, source, source_key, created_at) "
                                "VALUES(1, 1, 'text', 'q', 'a', 'ok', 't', '1', 0)"));
    }
    std::atomic_bool locked{false}, release{false};
    QThread *holder = QThread::create([&] {
        QSqlDatabase db = ws.connection();
        exec(db, QStringLiteral("BEGIN IMMEDIATE"));
        locked = true;
        while (!release)
            QThread::msleep(5);
        exec(db, QStringLiteral("COMMIT"));
        ws.releaseThreadConnection();
    });
    holder->start();
    while (!locked)
        QThread::msleep(1);
    DecisionQueue queue;
    QElapsedTimer clock;
    clock.start();
    queue.submit(ws, 1, Decision::Approve);
    QVERIFY2(clock.elapsed() < 1000, "submitting must not wait for the lock");
    QCOMPARE(queue.pendingCount(), 1);
    QVERIFY(queue.isPending(1));
    QVERIFY2(!queue.lastError().isEmpty(), "the reason it waits is kept for the UI");
    release = true;
    holder->wait();
    delete holder;
    QTRY_COMPARE(queue.pendingCount(), 0);
    QCOMPARE(ReviewJournal(ws).currentState(1), QStringLiteral("approved"));
}

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
