// The safetensors reader never trusts a file: round trips, and every kind of damage gives an
// error naming the file (and the tensor) instead of a crash.
#include "test_support.h"
#include "util/error.h"
#include "vlm/safetensors.h"

#include <QFile>
#include <QtTest>

using namespace mpa;
using namespace mpa::vlm;

namespace {

QByteArray fileWithHeader(const QByteArray &json, const QByteArray &data)
{
    QByteArray out(8, '\0');
    const quint64 n = static_cast<quint64>(json.size());
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
    return out + json + data;
}

QString errorOpening(const QString &path)
{
    try {
        SafetensorsFile::open(path);
    } catch (const Error &e) {
        return e.message();
    }
    return {};
}

} // namespace

class TestSafetensors : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void roundTrip();
    void damagedFiles_data();
    void damagedFiles();
    void truncatedCopiesOfARealFile();
    void pickledWeightsAreRefused();
    void checkpointFolders();
};

void TestSafetensors::roundTrip()
{
    QTemporaryDir tmp;
    const std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
    const std::vector<std::int64_t> b = {1, -2, 1LL << 40};
    const std::vector<std::uint8_t> c = {1, 2, 3};
    const QString path = tmp.filePath(QStringLiteral("t.safetensors"));
    writeSafetensors(path, {{QStringLiteral("a"), DType::F32, {2, 3}, a.data()}, {QStringLiteral("b"), DType::I64, {3}, b.data()},
                            {QStringLiteral("c"), DType::U8, {3}, c.data()}},
                     {{QStringLiteral("format"), QStringLiteral("pt")}});
    const auto f = SafetensorsFile::open(path);
    QCOMPARE(f->tensors().size(), 3u);
    QCOMPARE(f->metadata().value(QStringLiteral("format")), QStringLiteral("pt"));
    const TensorInfo *ta = f->find(QStringLiteral("a"));
    QVERIFY(ta);
    QCOMPARE(ta->shape, (std::vector<std::int64_t>{2, 3}));
    QCOMPARE(std::memcmp(f->data(*ta), a.data(), a.size() * 4), 0);
    QCOMPARE(std::memcmp(f->data(*f->find(QStringLiteral("b"))), b.data(), b.size() * 8), 0);
    QCOMPARE(f->data(*f->find(QStringLiteral("b"))) - f->data(*ta) >= 24, true);
    QCOMPARE(reinterpret_cast<quintptr>(f->data(*f->find(QStringLiteral("b")))) % 8, 0u); // aligned data
}

void TestSafetensors::damagedFiles_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("expected");
    const QByteArray data(16, '\x01');
    QTest::newRow("short") << QByteArray("abc") << "too short";
    QTest::newRow("header length lies") << QByteArray("\xff\xff\xff\xff\x00\x00\x00\x00{}", 10) << "header length";
    QTest::newRow("header not json") << fileWithHeader("{not json", data) << "not valid JSON";
    QTest::newRow("header an array") << fileWithHeader("[1,2]", data) << "must be a JSON object";
    QTest::newRow("unknown dtype") << fileWithHeader(R"({"w":{"dtype":"F8","shape":[4],"data_offsets":[0,4]}})", data) << "tensor \"w\": unknown dtype \"F8\"";
    QTest::newRow("past the end") << fileWithHeader(R"({"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", data) << "runs past the end";
    QTest::newRow("size mismatch") << fileWithHeader(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", data) << "12 bytes for shape";
    QTest::newRow("overlap") << fileWithHeader(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", data) << "overlap";
    QTest::newRow("negative shape") << fileWithHeader(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", data) << "non-negative integers";
    QTest::newRow("huge shape") << fileWithHeader(R"({"w":{"dtype":"F32","shape":[1e15,1e15],"data_offsets":[0,4]}})", data) << "too large";
    QTest::newRow("offsets reversed") << fileWithHeader(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", data) << "data_offsets";
    QTest::newRow("entry not object") << fileWithHeader(R"({"w":5})", data) << "not an object";
    QTest::newRow("metadata not strings") << fileWithHeader(R"({"__metadata__":{"a":1}})", data) << "not a string";
}

void TestSafetensors::damagedFiles()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, expected);
    QTemporaryDir tmp;
    const QString path = tmp.filePath(QStringLiteral("bad.safetensors"));
    test::writeText(path, content);
    const QString err = errorOpening(path);
    QVERIFY2(err.contains(expected) && err.contains(path), qPrintable(err));
}

void TestSafetensors::truncatedCopiesOfARealFile()
{
    QTemporaryDir tmp;
    std::vector<float> w(1000, 0.5f);
    const QString good = tmp.filePath(QStringLiteral("good.safetensors"));
    writeSafetensors(good, {{QStringLiteral("w"), DType::F32, {1000}, w.data()}});
    const qint64 size = QFileInfo(good).size();
    // Every cut point from 0 to the full size either opens (only the full file) or fails cleanly.
    for (qint64 keep = 0; keep < size; keep += 97) {
        const QString cut = tmp.filePath(QStringLiteral("cut.safetensors"));
        test::writeTruncatedCopy(good, cut, keep);
        QVERIFY2(!errorOpening(cut).isEmpty(), qPrintable(QString::number(keep)));
    }
    QVERIFY(errorOpening(good).isEmpty());
}

void TestSafetensors::pickledWeightsAreRefused()
{
    QTemporaryDir tmp;
    test::writeText(tmp.filePath(QStringLiteral("pytorch_model.bin")), "PK\x03\x04 pickle");
    try {
        Checkpoint::openFolder(tmp.path());
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("convert them to safetensors")), qPrintable(e.message()));
    }
    QVERIFY(errorOpening(tmp.filePath(QStringLiteral("pytorch_model.bin"))).contains(QLatin1String("pickled")));
}

void TestSafetensors::checkpointFolders()
{
    QTemporaryDir tmp;
    std::vector<float> a(4, 1.0f), b(2, 2.0f);
    writeSafetensors(tmp.filePath(QStringLiteral("model-00001-of-00002.safetensors")), {{QStringLiteral("x.a"), DType::F32, {4}, a.data()}});
    writeSafetensors(tmp.filePath(QStringLiteral("model-00002-of-00002.safetensors")), {{QStringLiteral("x.b"), DType::F32, {2}, b.data()}});
    test::writeText(tmp.filePath(QStringLiteral("model.safetensors.index.json")),
                    R"({"metadata":{"total_size":24},"weight_map":{"x.a":"model-00001-of-00002.safetensors","x.b":"model-00002-of-00002.safetensors"}})");
    const Checkpoint c = Checkpoint::openFolder(tmp.path());
    QCOMPARE(c.names(), (QStringList{QStringLiteral("x.a"), QStringLiteral("x.b")}));
    QCOMPARE(c.find(QStringLiteral("x.b"))->info->numel(), 2);
    QVERIFY(!c.find(QStringLiteral("x.c")));
}

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
