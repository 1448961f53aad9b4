// The tokenizer against the golden files of a tokenizer fixture folder, data-driven: every
// line of every encode/decode golden found in the folder is a case. The folder is a
// command-line argument (CTest registers the shared Qwen2 folder), so another tokenizer's
// fixtures in the same format are checked by the same code.
#include "test_support.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/pre_tokenizer.h"
#include "vlm/tokenizer.h"

#include <QDir>
#include <QThread>
#include <QtTest>
#include <atomic>

using mpa::vlm::Tokenizer;

namespace {
QString g_folder;

std::vector<std::int32_t> idsOf(const QJsonArray &a)
{
    std::vector<std::int32_t> v;
    for (const QJsonValue &x : a)
        v.push_back(static_cast<std::int32_t>(x.toInteger()));
    return v;
}

QString show(const std::vector<std::int32_t> &ids)
{
    QStringList s;
    for (auto id : ids)
        s << QString::number(id);
    return s.join(QLatin1Char(','));
}
} // namespace

class TestTokenizer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void encodeGoldens_data();
    void encodeGoldens();
    void decodeGoldens();
    void streamingDecodeHoldsBackIncompleteUtf8();
    void sharedAcrossThreads();
    void malformedTokenizerFiles();
    void mergesAsPairsEncodeTheSame();
    void charactersNewerThanQtsUnicodeTables();

private:
    std::shared_ptr<const Tokenizer> m_tok;
};

void TestTokenizer::initTestCase()
{
    // A path, or the name of a folder under the fixtures directory (how CTest registers them).
    g_folder = mpa::test::fixtureFolder(g_folder.isEmpty() ? QStringLiteral("qwen2-tokenizer") : g_folder);
    if (g_folder.isEmpty())
        QSKIP("golden fixtures not found (set MPA_FIXTURES_DIR or pass a tokenizer fixture folder)");
    m_tok = Tokenizer::load(g_folder);
}

void TestTokenizer::encodeGoldens_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QJsonArray>("ids");
    const QStringList files = QDir(g_folder).entryList({QStringLiteral("encode*.golden.jsonl")}, QDir::Files, QDir::Name);
    QVERIFY(!files.isEmpty());
    for (const QString &f : files) {
        int line = 0;
        for (const QJsonObject &o : mpa::json::readLines(QDir(g_folder).filePath(f))) {
            ++line;
            QTest::newRow(qPrintable(QStringLiteral("%1:%2").arg(f).arg(line))) << o.value(QStringLiteral("text")).toString()
                                                                                 << o.value(QStringLiteral("ids")).toArray();
        }
    }
}

void TestTokenizer::encodeGoldens()
{
    QFETCH(QString, text);
    QFETCH(QJsonArray, ids);
    const auto expected = idsOf(ids);
    const auto actual = m_tok->encode(text);
    if (actual != expected)
        QFAIL(qPrintable(QStringLiteral("text %1\n expected %2\n actual   %3").arg(text.toHtmlEscaped(), show(expected), show(actual))));
}

void TestTokenizer::decodeGoldens()
{
    const QString file = QDir(g_folder).filePath(QStringLiteral("decode.golden.jsonl"));
    if (!QFileInfo::exists(file))
        QSKIP("no decode golden in this folder");
    int line = 0, failures = 0;
    for (const QJsonObject &o : mpa::json::readLines(file)) {
        ++line;
        const auto ids = idsOf(o.value(QStringLiteral("ids")).toArray());
        const QString plain = m_tok->decode(ids);
        const QString skip = m_tok->decode(ids, true);
        if (plain != o.value(QStringLiteral("text")).toString() || skip != o.value(QStringLiteral("text_skip_special")).toString()) {
            if (++failures <= 5)
                qWarning() << "line" << line << show(ids) << "expected" << o.value(QStringLiteral("text")).toString() << "got" << plain;
        }
    }
    QCOMPARE(failures, 0);
    QVERIFY(line > 0);
}

void TestTokenizer::streamingDecodeHoldsBackIncompleteUtf8()
{
    // Encode text with multi-byte characters, then stream it id by id: the concatenation of
    // what the stream emits equals the one-shot decode, and nothing emitted contains U+FFFD.
    const QString text = QString::fromUtf8("naïve 😀 你好 𝗨 done");
    const auto ids = m_tok->encode(text);
    Tokenizer::StreamDecoder stream(m_tok, false);
    QString streamed;
    for (auto id : ids) {
        const QString piece = stream.push(id);
        QVERIFY(!piece.contains(QChar(0xFFFD)));
        streamed += piece;
    }
    streamed += stream.flush();
    QCOMPARE(streamed, text);
}

void TestTokenizer::sharedAcrossThreads()
{
    QList<QJsonObject> lines;
    for (const QString &f : QDir(g_folder).entryList({QStringLiteral("encode*.golden.jsonl")}, QDir::Files))
        lines += mpa::json::readLines(QDir(g_folder).filePath(f));
    std::atomic<int> mismatches{0};
    QList<QThread *> threads;
    for (int t = 0; t < 4; ++t) {
        threads << QThread::create([&, t] {
            for (qsizetype i = t; i < lines.size(); i += 2) // every line twice across the threads
                if (m_tok->encode(lines[i].value(QStringLiteral("text")).toString()) != idsOf(lines[i].value(QStringLiteral("ids")).toArray()))
                    ++mismatches;
        });
        threads.last()->start();
    }
    for (QThread *th : threads) {
        th->wait();
        delete th;
    }
    QCOMPARE(mismatches.load(), 0);
}

void TestTokenizer::malformedTokenizerFiles()
{
    QTemporaryDir tmp;
    auto expectError = [&](const QByteArray &content, const char *fragment) {
        const QString path = tmp.filePath(QStringLiteral("tokenizer.json"));
        mpa::test::writeText(path, content);
        try {
            Tokenizer::load(path);
            QFAIL("expected an error");
        } catch (const mpa::Error &e) {
            QVERIFY2(e.message().contains(QLatin1String(fragment)) && e.message().contains(path), qPrintable(e.message()));
        }
    };
    expectError("{\"model\": {\"type\": \"BPE\", \"vocab\": {", "truncated");
    expectError("{\"model\": {\"type\": \"Unigram\"}}", "only BPE");
    expectError("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}}", "is not supported");
    expectError("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
                "\"added_tokens\": [{\"id\": -1, \"content\": \"<x>\"}]}", "has id -1");
}

void TestTokenizer::mergesAsPairsEncodeTheSame()
{
    // Newer tokenizer.json files store merges as [a, b] pairs: rewrite this folder's file in
    // that layout and check that it encodes every golden line the same way.
    QJsonObject top = mpa::json::readFile(QDir(g_folder).filePath(QStringLiteral("tokenizer.json"))).object();
    QJsonObject model = top.value(QStringLiteral("model")).toObject();
    QJsonArray pairs;
    for (const QJsonValue &m : model.value(QStringLiteral("merges")).toArray()) {
        if (m.isArray()) {
            QSKIP("this tokenizer already stores pairs");
        }
        const QString s = m.toString();
        const qsizetype sp = s.indexOf(QLatin1Char(' '), 1);
        pairs.append(QJsonArray{s.left(sp), s.mid(sp + 1)});
    }
    model.insert(QStringLiteral("merges"), pairs);
    top.insert(QStringLiteral("model"), model);
    QTemporaryDir tmp;
    mpa::json::writeFile(tmp.filePath(QStringLiteral("tokenizer.json")), QJsonDocument(top));
    const auto pairTok = Tokenizer::load(tmp.path());
    int checked = 0;
    for (const QString &f : QDir(g_folder).entryList({QStringLiteral("encode*.golden.jsonl")}, QDir::Files))
        for (const QJsonObject &o : mpa::json::readLines(QDir(g_folder).filePath(f))) {
            QCOMPARE(pairTok->encode(o.value(QStringLiteral("text")).toString()), idsOf(o.value(QStringLiteral("ids")).toArray()));
            ++checked;
        }
    QVERIFY(checked > 0);
}

// Characters whose category is newer than Qt 6.4's Unicode 14 tables: the pre-tokenizers must
// classify them as the reference does (Unicode 16), e.g. a space before a number stays apart.
void TestTokenizer::charactersNewerThanQtsUnicodeTables()
{
    using mpa::vlm::PreTokenizer;
    const std::u32string kaktovik = U"\U0001D2C0"; // KAKTOVIK NUMERAL ZERO, No, Unicode 15
    const std::u32string garay = U"\U00010D41";    // GARAY DIGIT ONE, Nd, Unicode 16
    const std::u32string kiratRai = U"\U00016D73"; // KIRAT RAI DIGIT THREE, Nd, Unicode 16
    const std::u32string kawi = U"\U00011F04";     // KAWI LETTER A, Lo, Unicode 15
    for (const std::u32string &digit : {kaktovik, garay, kiratRai}) {
        QCOMPARE(PreTokenizer::qwen2Split(U"x " + digit).size(), 3u); // "x", " ", digit
        QCOMPARE(PreTokenizer::digitSplit(U"ab" + digit + U"c").size(), 3u);
        QCOMPARE(PreTokenizer::gpt2Split(U" " + digit + digit).size(), 1u); // " ?\p{N}+"
    }
    QCOMPARE(PreTokenizer::gpt2Split(U"(" + kawi + kawi).size(), 2u);    // "(" + a letter run
    QCOMPARE(PreTokenizer::qwen2Split(U"(" + kawi + kawi).size(), 1u);   // "[^\r\n\p{L}\p{N}]?\p{L}+"
    QCOMPARE(PreTokenizer::gpt2Split(U"a\U00010D50").size(), 1u);        // GARAY CAPITAL LETTER A (Lu, 16) joins the letters
}

int main(int argc, char *argv[])
{
    // Usage: test_tokenizer [FIXTURE_FOLDER] [Qt Test options]
    QStringList args;
    for (int i = 0; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    if (args.size() > 1 && !args.at(1).startsWith(QLatin1Char('-'))) {
        g_folder = args.takeAt(1);
    }
    std::vector<QByteArray> storage;
    std::vector<char *> rest;
    for (const QString &a : args) {
        storage.push_back(a.toLocal8Bit());
    }
    for (auto &s : storage)
        rest.push_back(s.data());
    QCoreApplication app(argc, argv);
    TestTokenizer test;
    return QTest::qExec(&test, static_cast<int>(rest.size()), rest.data());
}

#include "test_tokenizer.moc"
