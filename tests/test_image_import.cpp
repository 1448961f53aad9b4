// Importing image folders: real encoded files, corrupt and truncated ones, odd names,
// idempotent re-import, a full disk in the middle of an import, and cancellation.
#include "datasets/image_probe.h"
#include "datasets/importer.h"
#include "store/sql_util.h"
#include "store/workspace.h"
#include "test_support.h"
#include "util/error.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QtTest>

using namespace mpa;
using namespace mpa::store;

namespace {

QString sha256Of(const QString &path)
{
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return QString::fromLatin1(QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex());
}

struct ImageRow
{
    qint64 id = 0;
    QString status, format, sha256, error;
    int width = 0, height = 0;
    qint64 size = 0;
};

ImageRow imageRow(const Workspace &ws, const QString &path)
{
    QSqlDatabase db = ws.connection();
    QSqlQuery q = exec(db, QStringLiteral("SELECT id, status, format, sha256, error, width, height, file_size FROM images WHERE path = ?"),
                       {QDir::cleanPath(path)});
    ImageRow r;
    if (q.next())
        r = {q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), q.value(3).toString(),
             q.value(4).toString(), q.value(5).toInt(), q.value(6).toInt(), q.value(7).toLongLong()};
    return r;
}

} // namespace

class TestImageImport : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void probeReadsHeadersOfRealFiles();
    void folderImportRecordsEveryFileAndIsIdempotent();
    void missingFolderIsAClearError();
    void diskFullMidImportKeepsCommittedBatches();
    void cancelKeepsWhatWasCommitted();

private:
    QTemporaryDir *m_tmp = nullptr;
    QString m_images;
    std::unique_ptr<QTemporaryDir> m_owner;
};

void TestImageImport::init()
{
    m_owner = std::make_unique<QTemporaryDir>();
    m_tmp = m_owner.get();
    m_images = m_tmp->filePath(QStringLiteral("images"));
    test::writeJpeg(m_images + QStringLiteral("/a.jpg"), 64, 48, 1);
    test::writePng(m_images + QStringLiteral("/with space.png"), 30, 20, 2);
    test::writeJpeg(m_images + QString::fromUtf8("/ünïcödé 名前.jpg"), 17, 33, 3);
    test::writeJpeg(m_images + QStringLiteral("/nested/deeper/b.JPEG"), 8, 8, 4);
    QFile::copy(m_images + QStringLiteral("/a.jpg"), m_images + QStringLiteral("/nested/copy-of-a.jpg"));
    test::writeTruncatedCopy(m_images + QStringLiteral("/a.jpg"), m_images + QStringLiteral("/truncated.jpg"), 400);
    test::writeTruncatedCopy(m_images + QStringLiteral("/with space.png"), m_images + QStringLiteral("/truncated.png"), 60);
    test::writeText(m_images + QStringLiteral("/garbage.png"), "definitely not a png\n");
    test::writeText(m_images + QStringLiteral("/empty.jpg"), QByteArray());
    test::writeText(m_images + QStringLiteral("/notes.txt"), "not an image, ignored\n");
}

void TestImageImport::probeReadsHeadersOfRealFiles()
{
    const ImageRecord jpeg = datasets::probeImage(m_images + QStringLiteral("/a.jpg"));
    QCOMPARE(toString(jpeg.status), QStringLiteral("ok"));
    QCOMPARE(jpeg.format, QStringLiteral("jpeg"));
    QCOMPARE(jpeg.width, 64);
    QCOMPARE(jpeg.height, 48);
    QCOMPARE(jpeg.sha256, sha256Of(m_images + QStringLiteral("/a.jpg")));
    const ImageRecord png = datasets::probeImage(m_images + QStringLiteral("/with space.png"));
    QCOMPARE(png.format, QStringLiteral("png"));
    QCOMPARE(png.width, 30);
    QCOMPARE(png.height, 20);
    const ImageRecord cut = datasets::probeImage(m_images + QStringLiteral("/truncated.jpg"));
    QCOMPARE(toString(cut.status), QStringLiteral("corrupt"));
    QVERIFY2(cut.error.contains(QLatin1String("truncated")), qPrintable(cut.error));
    QCOMPARE(toString(datasets::probeImage(m_images + QStringLiteral("/nope.jpg")).status), QStringLiteral("missing"));
}

void TestImageImport::folderImportRecordsEveryFileAndIsIdempotent()
{
    const Workspace ws = Workspace::create(m_tmp->filePath(QStringLiteral("ws")));
    datasets::Importer importer(ws);
    const datasets::ImportReport first = importer.importImageFolder(m_images);
    QCOMPARE(first.images, 9); // every image-named file, not notes.txt
    QCOMPARE(first.imagesCorrupt, 4);
    QCOMPARE(test::countRows(ws, QStringLiteral("images")), 9);
    QCOMPARE(test::countRows(ws, QStringLiteral("images"), QStringLiteral("status = 'ok'")), 5);

    const ImageRow unicode = imageRow(ws, m_images + QString::fromUtf8("/ünïcödé 名前.jpg"));
    QCOMPARE(unicode.status, QStringLiteral("ok"));
    QCOMPARE(unicode.width, 17);
    QCOMPARE(unicode.height, 33);
    QCOMPARE(imageRow(ws, m_images + QStringLiteral("/nested/deeper/b.JPEG")).width, 8);
    // Identical content, identical hash (duplicates are detectable).
    QCOMPARE(imageRow(ws, m_images + QStringLiteral("/nested/copy-of-a.jpg")).sha256,
             imageRow(ws, m_images + QStringLiteral("/a.jpg")).sha256);
    for (const char *bad : {"/truncated.jpg", "/truncated.png", "/garbage.png", "/empty.jpg"}) {
        const ImageRow r = imageRow(ws, m_images + QLatin1String(bad));
        QCOMPARE(r.status, QStringLiteral("corrupt"));
        QVERIFY2(!r.error.isEmpty(), bad);
    }

    const qint64 idBefore = imageRow(ws, m_images + QStringLiteral("/a.jpg")).id;
    const datasets::ImportReport second = importer.importImageFolder(m_images);
    QCOMPARE(second.images, 9);
    QCOMPARE(test::countRows(ws, QStringLiteral("images")), 9);
    QCOMPARE(imageRow(ws, m_images + QStringLiteral("/a.jpg")).id, idBefore);
    QCOMPARE(test::countRows(ws, QStringLiteral("runs"), QStringLiteral("kind = 'import' AND status = 'finished'")), 2);

    // A file that disappears is re-recorded as missing on the next import of it... and a
    // repaired file becomes ok again.
    test::writeJpeg(m_images + QStringLiteral("/truncated.jpg"), 10, 10, 9);
    importer.importImageFolder(m_images);
    QCOMPARE(imageRow(ws, m_images + QStringLiteral("/truncated.jpg")).status, QStringLiteral("ok"));
}

void TestImageImport::missingFolderIsAClearError()
{
    const Workspace ws = Workspace::create(m_tmp->filePath(QStringLiteral("ws")));
    try {
        datasets::Importer(ws).importImageFolder(m_tmp->filePath(QStringLiteral("nowhere")));
        QFAIL("expected an error");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("nowhere")) && e.message().contains(QLatin1String("not found")), qPrintable(e.message()));
    }
    QCOMPARE(test::countRows(ws, QStringLiteral("runs")), 0);
}

void TestImageImport::diskFullMidImportKeepsCommittedBatches()
{
    // Many images with long names so the import needs many database pages.
    const QString many = m_tmp->filePath(QStringLiteral("many/") + QString(150, QLatin1Char('d')));
    for (int i = 0; i < 60; ++i)
        test::writePng(many + QStringLiteral("/image_%1_%2.png").arg(i, 3, 10, QLatin1Char('0')).arg(QString(60, QLatin1Char('x'))), 4, 4, i);
    const Workspace ws = Workspace::create(m_tmp->filePath(QStringLiteral("ws")));
    datasets::Importer(ws).importImageFolder(m_images); // something to keep
    QSqlDatabase db = ws.connection();
    const int pages = scalar(db, QStringLiteral("PRAGMA page_count")).toInt();
    // SQLite's own limit on the file: a real SQLITE_FULL ("database or disk is full").
    exec(db, QStringLiteral("PRAGMA max_page_count = %1").arg(pages + 4));

    datasets::Importer importer(ws);
    importer.setBatchSize(10);
    QString message;
    try {
        importer.importImageFolder(m_tmp->filePath(QStringLiteral("many")));
    } catch (const Error &e) {
        message = e.message();
    }
    QVERIFY2(message.contains(QLatin1String("full")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("many")), qPrintable(message));
    const qint64 kept = test::countRows(ws, QStringLiteral("images"), QStringLiteral("path LIKE '%/many/%'"));
    QVERIFY2(kept % 10 == 0 && kept < 60, qPrintable(QString::number(kept)));
    QVERIFY2(message.contains(QStringLiteral("first %1 records").arg(kept)) || kept == 0, qPrintable(message));
    // The earlier import is intact and the workspace still opens.
    QCOMPARE(test::countRows(ws, QStringLiteral("images"), QStringLiteral("path NOT LIKE '%/many/%'")), 9);
    exec(db, QStringLiteral("PRAGMA max_page_count = 1073741823"));
    const Workspace again = Workspace::open(ws.root());
    datasets::Importer(again).importImageFolder(m_tmp->filePath(QStringLiteral("many")));
    QCOMPARE(test::countRows(again, QStringLiteral("images")), 69);
}

void TestImageImport::cancelKeepsWhatWasCommitted()
{
    const Workspace ws = Workspace::create(m_tmp->filePath(QStringLiteral("ws")));
    datasets::Importer importer(ws, [](qint64 done, qint64, const QString &) { return done < 3; });
    importer.setBatchSize(3);
    QVERIFY_THROWS_EXCEPTION(Error, importer.importImageFolder(m_images));
    QCOMPARE(test::countRows(ws, QStringLiteral("images")), 3);
    QCOMPARE(test::countRows(ws, QStringLiteral("runs"), QStringLiteral("status = 'cancelled'")), 1);
}

QTEST_GUILESS_MAIN(TestImageImport)
#include "test_image_import.moc"
