// The `mpa` executable end to end: exit codes, one-line errors naming the input, help.
#include "store/sql_util.h"
#include "store/workspace.h"
#include "test_support.h"

#include <QProcess>
#include <QtTest>

namespace {
struct Result
{
    int code = -1;
    QString out;
    QString err;
};

Result mpaRun(const QStringList &args)
{
    QProcess p;
    p.start(mpa::test::cliPath(), args);
    p.waitForFinished(120000);
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}
} // namespace

class TestCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void helpDocumentsEveryCommand();
    void initImportStatsExport();
    void badInputGivesOneLineErrors();
    void scoreWithoutAWorkspace();
};

void TestCli::helpDocumentsEveryCommand()
{
    const Result r = mpaRun({QStringLiteral("--help")});
    QCOMPARE(r.code, 0);
    for (const char *c : {"init", "import", "export", "score", "stats"}) {
        QVERIFY2(r.out.contains(QLatin1String(c)), c);
        const Result sub = mpaRun({QString::fromLatin1(c), QStringLiteral("--help")});
        QCOMPARE(sub.code, 0);
        QVERIFY2(sub.out.contains(QStringLiteral("usage: mpa %1").arg(QLatin1String(c))), qPrintable(sub.out));
    }
    const Result v = mpaRun({QStringLiteral("--version")});
    QCOMPARE(v.code, 0);
    QVERIFY2(v.out.contains(QLatin1String("libtorch")), qPrintable(v.out));
}

void TestCli::initImportStatsExport()
{
    QTemporaryDir tmp;
    const QString ws = tmp.filePath(QStringLiteral("w s"));
    mpa::test::writeJpeg(tmp.filePath(QStringLiteral("imgs/a.jpg")), 10, 10);
    mpa::test::writeText(tmp.filePath(QStringLiteral("imgs/bad.jpg")), "nope");
    QCOMPARE(mpaRun({QStringLiteral("init"), ws}).code, 0);
    const Result imp = mpaRun({QStringLiteral("import"), ws, QStringLiteral("--images"), tmp.filePath(QStringLiteral("imgs"))});
    QCOMPARE(imp.code, 0);
    QVERIFY2(imp.out.contains(QLatin1String("2 images (0 missing, 1 corrupt)")), qPrintable(imp.out));
    QVERIFY2(imp.err.contains(QLatin1String("images: 2/2")), qPrintable(imp.err)); // progress on stderr
    mpa::test::writeText(tmp.filePath(QStringLiteral("conv.json")),
                         R"([{"id":1,"image":"a.jpg","conversations":[{"from":"human","value":"<image>\nq"},{"from":"gpt","value":"a"}]}])");
    QCOMPARE(mpaRun({QStringLiteral("import"), ws, QStringLiteral("--dataset"), QStringLiteral("llava"), tmp.filePath(QStringLiteral("conv.json")),
                     QStringLiteral("--image-root"), tmp.filePath(QStringLiteral("imgs"))}).code, 0);
    const Result stats = mpaRun({QStringLiteral("stats"), ws});
    QCOMPARE(stats.code, 0);
    QVERIFY2(stats.out.contains(QLatin1String("images: 2")) && stats.out.contains(QLatin1String("corrupt: 1"))
                 && stats.out.contains(QLatin1String("pending: 1")), qPrintable(stats.out));
    // The import was run 1: renamed; an unknown run and an empty name are refused.
    const Result renamed = mpaRun({QStringLiteral("rename-run"), ws, QStringLiteral("1"), QStringLiteral("holiday photos")});
    QVERIFY2(renamed.code == 0 && renamed.out.contains(QLatin1String("run 1: holiday photos")), qPrintable(renamed.err));
    const Result ghost = mpaRun({QStringLiteral("rename-run"), ws, QStringLiteral("99"), QStringLiteral("x")});
    QVERIFY2(ghost.code != 0 && ghost.err.contains(QLatin1String("run 99: no such run")), qPrintable(ghost.err));
    QVERIFY(mpaRun({QStringLiteral("rename-run"), ws, QStringLiteral("1"), QStringLiteral(" ")}).err.contains(QLatin1String("cannot be empty")));
    {
        const mpa::store::Workspace w = mpa::store::Workspace::open(ws, mpa::store::OpenMode::ReadOnly);
        QSqlDatabase db = w.connection();
        QCOMPARE(mpa::store::scalar(db, QStringLiteral("SELECT name FROM runs WHERE id = 1")).toString(), QStringLiteral("holiday photos"));
    }
    const Result exp = mpaRun({QStringLiteral("export"), ws, QStringLiteral("--format"), QStringLiteral("jsonl"), QStringLiteral("--select"),
                               QStringLiteral("all"), tmp.filePath(QStringLiteral("all.jsonl"))});
    QCOMPARE(exp.code, 0);
    QVERIFY2(exp.out.contains(QLatin1String("wrote 1 records")), qPrintable(exp.out));
    // An existing file is not replaced without --force.
    const QStringList again{QStringLiteral("export"), ws, QStringLiteral("--format"), QStringLiteral("jsonl"), QStringLiteral("--select"), QStringLiteral("all"),
                            tmp.filePath(QStringLiteral("all.jsonl"))};
    const Result refused = mpaRun(again);
    QCOMPARE(refused.code, 2);
    QVERIFY2(refused.err.contains(QLatin1String("--force")), qPrintable(refused.err));
    QCOMPARE(mpaRun(again + QStringList{QStringLiteral("--force")}).code, 0);
}

void TestCli::badInputGivesOneLineErrors()
{
    QTemporaryDir tmp;
    const QString ws = tmp.filePath(QStringLiteral("w"));
    QCOMPARE(mpaRun({QStringLiteral("init"), ws}).code, 0);
    mpa::test::writeText(tmp.filePath(QStringLiteral("cut.json")), R"({"data":[{"question":)");
    const Result r = mpaRun({QStringLiteral("import"), ws, QStringLiteral("--dataset"), QStringLiteral("textvqa"), tmp.filePath(QStringLiteral("cut.json"))});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err.count(QLatin1Char('\n')), 1);
    QVERIFY2(r.err.contains(tmp.filePath(QStringLiteral("cut.json"))) && r.err.contains(QLatin1String("truncated")), qPrintable(r.err));

    const Result missing = mpaRun({QStringLiteral("stats"), tmp.filePath(QStringLiteral("nothing"))});
    QCOMPARE(missing.code, 1);
    QVERIFY2(missing.err.contains(QLatin1String("nothing")), qPrintable(missing.err));

    QCOMPARE(mpaRun({QStringLiteral("frobnicate")}).code, 2);
    QCOMPARE(mpaRun({QStringLiteral("import"), ws}).code, 2);
    QCOMPARE(mpaRun({QStringLiteral("import"), ws, QStringLiteral("--dataset"), QStringLiteral("pascal"), QStringLiteral("x.json")}).code, 2);
    QCOMPARE(mpaRun({QStringLiteral("score"), QStringLiteral("--metric"), QStringLiteral("bleu"), QStringLiteral("x.json")}).code, 2);
}

void TestCli::scoreWithoutAWorkspace()
{
    QTemporaryDir tmp;
    mpa::test::writeText(tmp.filePath(QStringLiteral("ann.json")), R"([{"imgname":"a.png","query":"q","label":"70","question_id":1},
        {"imgname":"b.png","query":"q","label":"Yes","question_id":2}])");
    mpa::test::writeText(tmp.filePath(QStringLiteral("pred.json")), R"([{"question_id":1,"answer":"66.5"},{"question_id":2,"answer":"no"}])");
    const Result r = mpaRun({QStringLiteral("score"), QStringLiteral("--metric"), QStringLiteral("relaxed"), QStringLiteral("--per-question"),
                             tmp.filePath(QStringLiteral("pred.json")), tmp.filePath(QStringLiteral("ann.json"))});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QLatin1String("relaxed accuracy: 50.00 (2 questions)")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("1\t1.0000")), qPrintable(r.out));
    mpa::test::writeText(tmp.filePath(QStringLiteral("extra.json")), R"([{"question_id":99,"answer":"x"}])");
    const Result extra = mpaRun({QStringLiteral("score"), QStringLiteral("--metric"), QStringLiteral("vqa"), tmp.filePath(QStringLiteral("extra.json")),
                                 tmp.filePath(QStringLiteral("ann.json"))});
    QCOMPARE(extra.code, 1);
    QVERIFY2(extra.err.contains(QLatin1String("question 99 is not in the annotations")), qPrintable(extra.err));
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
