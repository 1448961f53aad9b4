// Store benchmarks (issue #2): image import, filtered listing of a million samples, review
// commit latency. Each number is reported with a baseline measured in the same run on the
// same machine, so the ratio means something on noisy shared hardware.
#include "datasets/image_probe.h"
#include "datasets/importer.h"
#include "store/review_journal.h"
#include "store/sample_query.h"
#include "store/sql_util.h"
#include "store/workspace.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTextStream>
#include <QThread>
#include <algorithm>
#include <cstdio>
#include <random>

using namespace mpa;
using namespace mpa::store;

namespace {

QTextStream out(stdout);

double ms(const QElapsedTimer &t) { return static_cast<double>(t.nsecsElapsed()) / 1e6; }

// A valid 1x1 PNG (real header, IDAT and IEND), varied per file so the hashes differ.
QByteArray tinyPng(int seed)
{
    QByteArray png = QByteArray::fromHex("89504e470d0a1a0a0000000d49484452000000010000000108020000009077"
                                         "53de0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082");
    png.append(QByteArray::number(seed)); // trailing bytes after IEND: still a complete PNG
    return png;
}

void benchImageImport(const QString &root, int count)
{
    const QString dir = root + QStringLiteral("/images");
    QElapsedTimer make;
    make.start();
    for (int i = 0; i < count; ++i) {
        const QString sub = dir + QStringLiteral("/%1").arg(i / 1000, 3, 10, QLatin1Char('0'));
        if (i % 1000 == 0)
            QDir().mkpath(sub);
        QFile f(sub + QStringLiteral("/img_%1.png").arg(i));
        f.open(QIODevice::WriteOnly);
        f.write(tinyPng(i));
    }
    out << QStringLiteral("  created %1 image files in %2 s\n").arg(count).arg(ms(make) / 1000, 0, 'f', 1);

    // Baseline: the walk and the per-file work (header, trailer, sha256) without a database.
    QElapsedTimer base;
    base.start();
    int ok = 0;
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        ok += datasets::probeImage(it.next()).status == ImageStatus::Ok;
    const double baseMs = ms(base);

    const Workspace ws = Workspace::create(root + QStringLiteral("/import"));
    QElapsedTimer t;
    t.start();
    const datasets::ImportReport r = datasets::Importer(ws).importImageFolder(dir);
    const double importMs = ms(t);
    QElapsedTimer again;
    again.start();
    datasets::Importer(ws).importImageFolder(dir);
    const double reimportMs = ms(again);
    out << QStringLiteral("  import %1 images: %2 s (goal < 20 s); baseline probe-only walk %3 s (%4 ok); ratio %5x; "
                          "re-import (idempotent) %6 s\n")
               .arg(r.images).arg(importMs / 1000, 0, 'f', 2).arg(baseMs / 1000, 0, 'f', 2).arg(ok)
               .arg(importMs / baseMs, 0, 'f', 2).arg(reimportMs / 1000, 0, 'f', 2);
}

void benchSampleListing(const QString &root, int count)
{
    const Workspace ws = Workspace::create(root + QStringLiteral("/listing"));
    QSqlDatabase db = ws.connection();
    QElapsedTimer fill;
    fill.start();
    if (scalar(db, QStringLiteral("SELECT count(*) FROM images")).toInt() == 0) {
        Transaction tx(db, QStringLiteral("bench fill"));
        exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 1000) "
                                "INSERT INTO images(id, path, status, added_at) SELECT v, '/img/' || v || '.jpg', 'ok', 0 FROM n"));
        tx.commit();
    }
    {
        Transaction tx(db, QStringLiteral("bench fill"));
        exec(db, QStringLiteral("INSERT INTO runs(id, kind, status, created_at) VALUES(1, 'identify', 'finished', 0)"));
        exec(db, QStringLiteral(
            "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < %1) "
            "INSERT INTO samples(id, image_id, task, question, answer, parse_status, source, source_key, created_at, outcome, review_state) "
            "SELECT v, 1 + v % 1000, CASE v % 3 WHEN 0 THEN 'text' WHEN 1 THEN 'chart' ELSE 'knowledge' END, "
            "'question ' || v, 'answer ' || v, 'ok', 'bench', v, 0, "
            "CASE abs(random()) % 10 WHEN 0 THEN 'gap' WHEN 1 THEN 'gap' WHEN 2 THEN 's_only' WHEN 3 THEN 'both_wrong' ELSE 'both_right' END, "
            "CASE abs(random()) % 5 WHEN 0 THEN 'approved' WHEN 1 THEN 'rejected' ELSE 'pending' END FROM n").arg(count));
        tx.commit();
    }
    exec(db, QStringLiteral("ANALYZE"));
    out << QStringLiteral("  filled %1 samples in %2 s\n").arg(count).arg(ms(fill) / 1000, 0, 'f', 1);

    SampleQuery query(ws);
    SampleFilter f;
    f.outcome = QStringLiteral("gap");
    f.reviewState = QStringLiteral("approved");

    // Baseline: one full scan of the table (what an unindexed filter would cost).
    QElapsedTimer base;
    base.start();
    const qint64 all = scalar(db, QStringLiteral("SELECT count(*) FROM samples WHERE question LIKE '%9%'")).toLongLong();
    const double baseMs = ms(base);

    QElapsedTimer first;
    first.start();
    const QList<SampleRow> page1 = query.page(f, 0, 200);
    const double firstMs = ms(first);
    // A deep page: the keyset of row ~90% through the table.
    QElapsedTimer deep;
    deep.start();
    const QList<SampleRow> pageDeep = query.page(f, count * 9 / 10, 200);
    const double deepMs = ms(deep);
    QElapsedTimer c;
    c.start();
    const qint64 matching = query.count(f);
    const double countMs = ms(c);
    SampleFilter text;
    text.text = QStringLiteral("question 99999");
    QElapsedTimer s;
    s.start();
    const QList<SampleRow> found = query.page(text, 0, 200);
    const double textMs = ms(s);
    out << QStringLiteral("  filtered page (gap + approved, 200 rows) of %1 samples: first %2 ms, deep %3 ms (goal < 200 ms); "
                          "count of %4 matches %5 ms; text search %6 ms (%7 rows); baseline full scan %8 ms (%9 rows); "
                          "deep page / full scan = %10\n")
               .arg(count).arg(firstMs, 0, 'f', 2).arg(deepMs, 0, 'f', 2).arg(matching).arg(countMs, 0, 'f', 1)
               .arg(textMs, 0, 'f', 1).arg(found.size()).arg(baseMs, 0, 'f', 1).arg(all).arg(deepMs / baseMs, 0, 'f', 4);
    Q_UNUSED(page1);
    Q_UNUSED(pageDeep);
}

struct Percentiles
{
    double median, p99, max;
};

Percentiles percentiles(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)], v.back()};
}

void benchReviews(const QString &root, int count)
{
    const Workspace ws = Workspace::create(root + QStringLiteral("/reviews"));
    QSqlDatabase db = ws.connection();
    {
        Transaction tx(db, QStringLiteral("bench fill"));
        exec(db, QStringLiteral("INSERT INTO images(id, path, status, added_at) VALUES(1, '/x.jpg', 'ok', 0)"));
        exec(db, QStringLiteral("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < %1) "
                                "INSERT INTO samples(id, image_id, task, question, answer, parse_status, source, source_key, created_at) "
                                "SELECT v, 1, 'text', 'q', 'a', 'ok', 'bench', v, 0 FROM n").arg(count));
        exec(db, QStringLiteral("CREATE TABLE bench_plain(id INTEGER PRIMARY KEY, sample_id INTEGER, decision TEXT, created_at INTEGER)"));
        tx.commit();
    }
    // Baseline: a bare autocommitted INSERT with the same pragmas (no trigger, no FK).
    std::vector<double> plain;
    QSqlQuery insert = prepare(db, QStringLiteral("INSERT INTO bench_plain(sample_id, decision, created_at) VALUES(?, 'approve', 0)"));
    for (int i = 1; i <= count; ++i) {
        QElapsedTimer t;
        t.start();
        insert.addBindValue(i);
        exec(insert, QStringLiteral("baseline insert"));
        plain.push_back(ms(t));
    }
    std::vector<double> lat;
    ReviewJournal journal(ws);
    std::mt19937 rng(1);
    for (int i = 1; i <= count; ++i) {
        QElapsedTimer t;
        t.start();
        journal.record(i, (rng() % 3) ? Decision::Approve : Decision::Reject);
        lat.push_back(ms(t));
    }
    const Percentiles p = percentiles(lat);
    const Percentiles b = percentiles(plain);
    out << QStringLiteral("  review commit, %1 single decisions: median %2 ms, p99 %3 ms (goal < 10 ms), max %4 ms; "
                          "baseline bare insert median %5 ms, p99 %6 ms; median ratio %7x\n")
               .arg(count).arg(p.median, 0, 'f', 3).arg(p.p99, 0, 'f', 3).arg(p.max, 0, 'f', 2)
               .arg(b.median, 0, 'f', 3).arg(b.p99, 0, 'f', 3).arg(p.median / b.median, 0, 'f', 2);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOptions({{QStringLiteral("images"), QStringLiteral("Image files to import."), QStringLiteral("N"), QStringLiteral("100000")},
                       {QStringLiteral("samples"), QStringLiteral("Sample rows to list."), QStringLiteral("N"), QStringLiteral("1000000")},
                       {QStringLiteral("reviews"), QStringLiteral("Single review decisions."), QStringLiteral("N"), QStringLiteral("10000")},
                       {QStringLiteral("dir"), QStringLiteral("Scratch folder (default: a temporary one)."), QStringLiteral("DIR")}});
    parser.process(app);
    QTemporaryDir tmp(parser.isSet(QStringLiteral("dir")) ? parser.value(QStringLiteral("dir")) + QStringLiteral("/bench-XXXXXX")
                                                         : QDir::tempPath() + QStringLiteral("/mpa-bench-XXXXXX"));
    out << "bench_store (" << QThread::idealThreadCount() << " hardware threads)\n";
    out.flush();
    benchImageImport(tmp.path(), parser.value(QStringLiteral("images")).toInt());
    out.flush();
    benchSampleListing(tmp.path(), parser.value(QStringLiteral("samples")).toInt());
    out.flush();
    benchReviews(tmp.path(), parser.value(QStringLiteral("reviews")).toInt());
    out.flush();
    return 0;
}
