// Hostile and broken inputs at every boundary, generated here (no binary blobs): `mpa serve`
// answers each hostile request with a 4xx and keeps serving; decompression bombs, FIFOs and
// garbage are refused by header before any decode; absurd configs, shard paths and budgets are
// refused by name; the CLI runs under a memory limit (ulimit -v) and ends with a clear error,
// never a crash. Bounds: util/input_limits.h.
#include "backends/http_backend.h"
#include "datasets/image_probe.h"
#include "datasets/importer.h"
#include "test_support.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/image_processor.h"
#include "vlm/model_config.h"
#include "vlm/safetensors.h"
#include "vlm/vlm_model.h"

#include <QEventLoop>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QTimer>
#include <QtTest>

#include <QElapsedTimer>
#include <QStandardPaths>
#include <QTcpSocket>

#include <sys/stat.h>
#include <unistd.h>

using namespace mpa;

namespace {

quint32 crc32(const QByteArray &data)
{
    quint32 c = 0xFFFFFFFFu;
    for (unsigned char b : data) {
        c ^= b;
        for (int k = 0; k < 8; ++k)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

QByteArray be32(quint32 v)
{
    return QByteArray(1, char(v >> 24)) + char(v >> 16) + char(v >> 8) + char(v);
}

QByteArray chunk(const QByteArray &type, const QByteArray &data)
{
    return be32(static_cast<quint32>(data.size())) + type + data + be32(crc32(type + data));
}

// A tiny PNG whose header claims width x height (a decompression bomb: the IDAT is a few bytes).
QByteArray pngClaiming(quint32 width, quint32 height)
{
    QByteArray ihdr = be32(width) + be32(height) + QByteArray("\x08\x02\x00\x00\x00", 5);
    return QByteArray("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", qCompress(QByteArray(16, '\0')).mid(4)) + chunk("IEND", {});
}

struct Reply
{
    int status = 0;
    QByteArray body;
};

Reply post(quint16 port, const QByteArray &body, const QByteArray &auth = {})
{
    QNetworkAccessManager nam;
    QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1/v1/chat/completions").arg(port)));
    req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    if (!auth.isEmpty())
        req.setRawHeader("Authorization", auth);
    QNetworkReply *r = nam.post(req, body);
    QEventLoop loop;
    QObject::connect(r, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(120000, &loop, &QEventLoop::quit);
    loop.exec();
    Reply out{r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), r->readAll()};
    delete r;
    return out;
}

QByteArray chatWith(const QJsonArray &content, int maxTokens = 3)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("max_tokens"), maxTokens},
                                     {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), content}}}}})
        .toJson(QJsonDocument::Compact);
}

QJsonObject imagePart(const QByteArray &dataUrl)
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("image_url")}, {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), QString::fromLatin1(dataUrl)}}}};
}

QJsonObject textPart(const QString &text)
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), text}};
}

// Runs the CLI under a virtual-memory limit; returns (exit code, stderr).
std::pair<int, QString> cliLimited(const QStringList &args, int limitMb = 6000)
{
    QProcess p;
    QStringList quoted;
    for (const QString &a : args)
        quoted << QLatin1Char('\'') + QString(a).replace(QLatin1Char('\''), QStringLiteral("'\\''")) + QLatin1Char('\'');
    p.start(QStringLiteral("sh"), {QStringLiteral("-c"), QStringLiteral("ulimit -v %1; exec %2 %3").arg(limitMb * 1024).arg(test::cliPath(), quoted.join(QLatin1Char(' ')))});
    p.waitForFinished(300000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardError())};
}

} // namespace

class TestBadInputs : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void serveSurvivesHostileRequests();
    void imageBombsAndNonFilesAreRefusedBeforeDecoding();
    void importRecordsBadFilesAndGoesOn();
    void absurdConfigsAndPathsAreRefused();
    void importsNeverOverwriteSilently();
    void readOnlyWorkspacesCanBeRead();
    void cliEndsWithAClearErrorUnderAMemoryLimit();
    void promptsAreBoundedByTheModelsContext();
    void commonMistakesGetPlainMessages();

private:
    QTemporaryDir m_tmp;
    QString m_model;
    QProcess m_server;
    quint16 m_port = 0;
};

void TestBadInputs::initTestCase()
{
    if (test::fixturesDir().isEmpty())
        QSKIP("golden fixtures not found (the Qwen2 tokenizer comes from them)");
    m_model = m_tmp.filePath(QStringLiteral("served"));
    vlm::writeRandomModelFolder(m_model, test::tinyQwen2VLConfig(), test::fixture(QStringLiteral("qwen2-tokenizer")), 5);
    m_server.setProgram(test::cliPath());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("MPA_TEST_KEY"), QStringLiteral("s3cret"));
    m_server.setProcessEnvironment(env);
    m_server.setArguments({QStringLiteral("serve"), QStringLiteral("--model"), m_model, QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--api-key-env"),
                           QStringLiteral("MPA_TEST_KEY"), QStringLiteral("--max-pixels"), QString::number(112 * 112), QStringLiteral("--max-prompt-tokens"),
                           QStringLiteral("512"), QStringLiteral("--idle-timeout"), QStringLiteral("2")});
    m_server.start();
    QVERIFY(m_server.waitForReadyRead(60000));
    const QString line = QString::fromUtf8(m_server.readLine()).trimmed();
    m_port = static_cast<quint16>(line.section(QLatin1Char(':'), -1).section(QLatin1Char('/'), 0, 0).toUInt());
    QVERIFY2(m_port > 0, qPrintable(line));
}

void TestBadInputs::cleanupTestCase()
{
    m_server.kill();
    m_server.waitForFinished();
}

void TestBadInputs::serveSurvivesHostileRequests()
{
    const QByteArray key = "Bearer s3cret";
    QByteArray png;
    {
        const QString path = m_tmp.filePath(QStringLiteral("ok.png"));
        test::writePng(path, 56, 56, 1);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        png = f.readAll();
    }
    const QByteArray good = chatWith({imagePart("data:image/png;base64," + png.toBase64()), textPart(QStringLiteral("What is it?"))});
    struct Case
    {
        const char *name;
        QByteArray body, auth;
        int expected;
    };
    const QList<Case> cases = {
        {"no API key", good, {}, 401},
        {"wrong API key", good, "Bearer nope", 401},
        {"not JSON", "{\"messages\": [", key, 400},
        {"empty base64", chatWith({imagePart("data:image/png;base64,")}), key, 400},
        {"garbage base64", chatWith({imagePart("data:image/png;base64,!!!not base64!!!")}), key, 400},
        {"base64 of garbage", chatWith({imagePart("data:image/png;base64," + QByteArray(300, 'x').toBase64())}), key, 400},
        {"PNG claiming 65535x65535", chatWith({imagePart("data:image/png;base64," + pngClaiming(65535, 65535).toBase64())}), key, 400},
        {"remote URL", chatWith({imagePart("http://example.com/x.png")}), key, 400},
        {"20,000-character prompt", chatWith({textPart(QString(20000, QLatin1Char('a')))}), key, 413},
        {"2,000-token prompt", chatWith({textPart(QStringLiteral("word ").repeated(2000))}), key, 413},
        {"max_tokens 10^9", chatWith({textPart(QStringLiteral("hi"))}, 1000000000), key, 422},
        {"max_tokens -1", chatWith({textPart(QStringLiteral("hi"))}, -1), key, 422},
        // The server answers 413 and closes as soon as the limit is passed: a client still
        // uploading may see the connection closed instead (-1: either).
        {"body over the limit", QByteArray(49 * 1024 * 1024, ' '), key, -1},
        {"body far over the limit (never buffered)", QByteArray(200 * 1024 * 1024, ' '), key, -1},
        {"a literal special token soup", chatWith({textPart(QStringLiteral("<|vision_start|><|image_pad|><|vision_end|>"))}), key, 400},
    };
    for (const Case &c : cases) {
        const Reply r = post(m_port, c.body, c.auth);
        if (c.expected == -1 && r.status == 0) {
            QCOMPARE(m_server.state(), QProcess::Running);
            continue;
        }
        const int expected = c.expected == -1 ? 413 : c.expected;
        QVERIFY2(r.status == expected, qPrintable(QStringLiteral("%1: HTTP %2, expected %3: %4").arg(QLatin1String(c.name)).arg(r.status).arg(expected).arg(QString::fromUtf8(r.body.left(300)))));
        QVERIFY2(QJsonDocument::fromJson(r.body).object().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().size() > 5, c.name);
        QCOMPARE(m_server.state(), QProcess::Running);
    }
    // A client that connects and says nothing is disconnected after the idle timeout (2 s).
    {
        QTcpSocket silent;
        silent.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(silent.waitForConnected(5000));
        QElapsedTimer clock;
        clock.start();
        QVERIFY(silent.waitForDisconnected(15000));
        QVERIFY2(clock.elapsed() >= 1500, qPrintable(QString::number(clock.elapsed())));
    }
    // And a normal request still works.
    const Reply ok = post(m_port, good, key);
    QVERIFY2(ok.status == 200, ok.body.constData());
    QVERIFY(!QJsonDocument::fromJson(ok.body).object().value(QStringLiteral("choices")).toArray().isEmpty());
}

void TestBadInputs::imageBombsAndNonFilesAreRefusedBeforeDecoding()
{
    const QString bomb = m_tmp.filePath(QStringLiteral("bomb.png"));
    test::writeText(bomb, pngClaiming(65535, 65535));
    try {
        vlm::loadRgbImage(bomb);
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(bomb) && e.message().contains(QLatin1String("65535 x 65535")), qPrintable(e.message()));
    }
    QCOMPARE(datasets::imageHeaderSize(pngClaiming(640, 480)).value(), (std::array<int, 2>{640, 480}));
    const QString fifo = m_tmp.filePath(QStringLiteral("fifo.jpg"));
    QCOMPARE(mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
    QVERIFY_THROWS_EXCEPTION(Error, vlm::loadRgbImage(fifo)); // and does not block
    QVERIFY(datasets::probeImage(fifo).status == store::ImageStatus::Unreadable);
    QVERIFY_THROWS_EXCEPTION(Error, vlm::decodeRgbImage(QByteArray(), QStringLiteral("empty")));
    QVERIFY_THROWS_EXCEPTION(Error, vlm::decodeRgbImage(QByteArray(100, '\x01'), QStringLiteral("noise")));
    QVERIFY_THROWS_EXCEPTION(Error, vlm::SafetensorsFile::open(fifo));
}

void TestBadInputs::importRecordsBadFilesAndGoesOn()
{
    const QString dir = m_tmp.filePath(QStringLiteral("pool"));
    QDir().mkpath(dir);
    test::writePng(dir + QStringLiteral("/good.png"), 40, 30, 2);
    test::writeText(dir + QStringLiteral("/bomb.png"), pngClaiming(60000, 60000));
    test::writeText(dir + QStringLiteral("/garbage.jpg"), QByteArray(64, 'g'));
    QCOMPARE(mkfifo(QFile::encodeName(dir + QStringLiteral("/pipe.jpg")).constData(), 0600), 0);
    store::Workspace ws = store::Workspace::create(m_tmp.filePath(QStringLiteral("ws")));
    datasets::Importer(ws).importImageFolder(dir);
    QCOMPARE(test::countRows(ws, QStringLiteral("images"), QStringLiteral("status = 'ok'")), 1);
    QCOMPARE(test::countRows(ws, QStringLiteral("images"), QStringLiteral("status != 'ok'")), 3);
}

void TestBadInputs::absurdConfigsAndPathsAreRefused()
{
    QJsonObject config = json::readFile(m_model + QStringLiteral("/config.json")).object();
    const QString dir = m_tmp.filePath(QStringLiteral("absurd"));
    QDir().mkpath(dir);
    config.insert(QStringLiteral("num_hidden_layers"), 1e9);
    json::writeFile(dir + QStringLiteral("/config.json"), QJsonDocument(config));
    try {
        vlm::Qwen2VLConfig::load(dir);
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("num_hidden_layers")) && e.message().contains(QLatin1String("beyond")), qPrintable(e.message()));
    }
    // A sharded index pointing outside the folder.
    const QString sharded = m_tmp.filePath(QStringLiteral("sharded"));
    QDir().mkpath(sharded);
    json::writeFile(sharded + QStringLiteral("/model.safetensors.index.json"),
                    QJsonDocument(QJsonObject{{QStringLiteral("weight_map"), QJsonObject{{QStringLiteral("lm_head.weight"), QStringLiteral("../served/model.safetensors")}}}}));
    try {
        vlm::Checkpoint::openFolder(sharded);
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("not a file name inside the model folder")), qPrintable(e.message()));
    }
    QVERIFY_THROWS_EXCEPTION(Error, vlm::checkPixelBudget(1, 1000000000000LL, QStringLiteral("--max-pixels")));
    QVERIFY_THROWS_EXCEPTION(Error, vlm::checkPixelBudget(5000, 100, QStringLiteral("--min-pixels")));
}

// Two files with the same name in different folders keep their own samples; ids repeated
// inside one file keep the first record and are named in the summary.
void TestBadInputs::importsNeverOverwriteSilently()
{
    const QString images = m_tmp.filePath(QStringLiteral("llava-images"));
    test::writePng(images + QStringLiteral("/a.png"), 40, 30, 3);
    const QByteArray pairs = R"([
        {"id":"1","image":"a.png","conversations":[{"from":"human","value":"<image>\nQ one"},{"from":"gpt","value":"A one"}]},
        {"id":"1","image":"a.png","conversations":[{"from":"human","value":"<image>\nQ dup"},{"from":"gpt","value":"A dup"}]},
        {"id":"2","image":"a.png","conversations":[{"from":"human","value":"<image>\nQ two"},{"from":"gpt","value":"A two"}]}])";
    test::writeText(m_tmp.filePath(QStringLiteral("x/pairs.json")), pairs);
    test::writeText(m_tmp.filePath(QStringLiteral("y/pairs.json")), QByteArray(pairs).replace("Q one", "Q other"));
    store::Workspace ws = store::Workspace::create(m_tmp.filePath(QStringLiteral("ws-import")));
    const datasets::ImportReport first = datasets::Importer(ws).importConversations(m_tmp.filePath(QStringLiteral("x/pairs.json")), images, QStringLiteral("chart"));
    QCOMPARE(first.samples, 2);
    QCOMPARE(first.duplicates, 1);
    QVERIFY2(first.summary().contains(QLatin1String("repeats an earlier one")) && first.summary().contains(QLatin1String(": 1")), qPrintable(first.summary()));
    datasets::Importer(ws).importConversations(m_tmp.filePath(QStringLiteral("y/pairs.json")), images, QStringLiteral("chart"));
    QCOMPARE(test::countRows(ws, QStringLiteral("samples")), 4);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("question = 'Q one'")), 1);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("question = 'Q other'")), 1);
    // A data file's relative image path may not leave its root.
    test::writeText(m_tmp.filePath(QStringLiteral("z/pairs.json")),
                    R"([{"id":"9","image":"../../../../etc/passwd","conversations":[{"from":"human","value":"<image>\nQ"},{"from":"gpt","value":"A"}]}])");
    try {
        datasets::Importer(ws).importConversations(m_tmp.filePath(QStringLiteral("z/pairs.json")), images, QStringLiteral("chart"));
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("leads outside")), qPrintable(e.message()));
    }
    QCOMPARE(test::countRows(ws, QStringLiteral("images"), QStringLiteral("path LIKE '%passwd%'")), 0);
    // Re-importing the same file changes nothing.
    datasets::Importer(ws).importConversations(m_tmp.filePath(QStringLiteral("x/pairs.json")), images, QStringLiteral("chart"));
    QCOMPARE(test::countRows(ws, QStringLiteral("samples")), 4);
}

// A workspace on read-only media (or in a folder owned by someone else) is browsed, not
// refused: stats and export read it although SQLite cannot create its -shm file there.
void TestBadInputs::readOnlyWorkspacesCanBeRead()
{
    const QString parent = QStringLiteral("/tmp/mpa-readonly-%1").arg(QCoreApplication::applicationPid());
    QDir(parent).removeRecursively();
    QDir().mkpath(parent);
    const QString path = parent + QStringLiteral("/frozen.mpaw");
    {
        test::writePng(m_tmp.filePath(QStringLiteral("ro-images/a.png")), 30, 20, 4);
        store::Workspace ws = store::Workspace::create(path);
        datasets::Importer(ws).importImageFolder(m_tmp.filePath(QStringLiteral("ro-images")));
    } // closed: SQLite removes the -wal and -shm files
    QVERIFY(!QFileInfo::exists(path + QStringLiteral("/workspace.sqlite-wal")));
    for (const QString &f : QDir(path).entryList(QDir::Files))
        QFile::setPermissions(path + QLatin1Char('/') + f, QFileDevice::ReadOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther);
    for (const QString &d : QDir(path).entryList(QDir::Dirs | QDir::NoDotAndDotDot))
        QFile::setPermissions(path + QLatin1Char('/') + d, QFileDevice::ReadOwner | QFileDevice::ExeOwner | QFileDevice::ReadOther | QFileDevice::ExeOther);
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::ExeOwner | QFileDevice::ReadOther | QFileDevice::ExeOther);
    QFile::setPermissions(parent, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner | QFileDevice::ReadOther | QFileDevice::ExeOther);
    // root ignores permissions: read as "nobody" then, as a user of shared media would.
    QStringList command{test::cliPath(), QStringLiteral("stats"), path};
    if (geteuid() == 0) {
        if (QStandardPaths::findExecutable(QStringLiteral("setpriv")).isEmpty())
            QSKIP("running as root without setpriv: cannot read as another user");
        command = QStringList{QStringLiteral("--reuid=65534"), QStringLiteral("--regid=65534"), QStringLiteral("--clear-groups")} + command;
        command.prepend(QStringLiteral("setpriv"));
    }
    QProcess p;
    p.start(command.takeFirst(), command);
    p.waitForFinished(60000);
    const QString out = QString::fromUtf8(p.readAllStandardOutput()), err = QString::fromUtf8(p.readAllStandardError());
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    QVERIFY2(p.exitCode() == 0, qPrintable(out + err));
    QVERIFY2(out.contains(QLatin1String("images")), qPrintable(out));
    QVERIFY(!QFileInfo::exists(path + QStringLiteral("/workspace.sqlite-shm")));
    QDir(parent).removeRecursively();
}

void TestBadInputs::cliEndsWithAClearErrorUnderAMemoryLimit()
{
    const QString bomb = m_tmp.filePath(QStringLiteral("cli-bomb.png"));
    test::writeText(bomb, pngClaiming(65535, 65535));
    auto [code, err] = cliLimited({QStringLiteral("generate"), QStringLiteral("--model"), m_model, QStringLiteral("--image"), bomb, QStringLiteral("--prompt"), QStringLiteral("hi")});
    QVERIFY2(code != 0 && code != -1 && err.contains(QLatin1String("beyond the limit")), qPrintable(err));
    std::tie(code, err) = cliLimited({QStringLiteral("generate"), QStringLiteral("--model"), m_model, QStringLiteral("--image"), m_tmp.filePath(QStringLiteral("ok.png")),
                                      QStringLiteral("--prompt"), QStringLiteral("hi"), QStringLiteral("--max-pixels"), QStringLiteral("1000000000000")});
    QVERIFY2(code != 0 && code != -1 && err.contains(QLatin1String("image budget")), qPrintable(err));
    std::tie(code, err) = cliLimited({QStringLiteral("inspect-model"), m_tmp.filePath(QStringLiteral("absurd"))});
    QVERIFY2(code != 0 && code != -1 && err.contains(QLatin1String("num_hidden_layers")), qPrintable(err));
    std::tie(code, err) = cliLimited({QStringLiteral("create-random-model"), m_model, QStringLiteral("--tokenizer"), test::fixture(QStringLiteral("qwen2-tokenizer"))});
    QVERIFY2(code != 0 && code != -1 && err.contains(QLatin1String("--force")), qPrintable(err));
    // A job over images that all turn bad after import: every item fails with its reason, the
    // job goes on to the end and its exit status (3) says so.
    const QString pool = m_tmp.filePath(QStringLiteral("turned-bad"));
    for (int i = 0; i < 3; ++i)
        test::writePng(pool + QStringLiteral("/p%1.png").arg(i), 40, 40, i);
    const QString wsPath = m_tmp.filePath(QStringLiteral("ws-turned-bad"));
    {
        store::Workspace ws = store::Workspace::create(wsPath);
        datasets::Importer(ws).importImageFolder(pool);
    }
    test::writeText(pool + QStringLiteral("/p0.png"), pngClaiming(65535, 65535));
    test::writeText(pool + QStringLiteral("/p1.png"), QByteArray("\x89PNG\r\n\x1a\n garbage", 17));
    QFile::remove(pool + QStringLiteral("/p2.png"));
    QCOMPARE(mkfifo(QFile::encodeName(pool + QStringLiteral("/p2.png")).constData(), 0600), 0);
    std::tie(code, err) = cliLimited({QStringLiteral("annotate"), wsPath, QStringLiteral("--model"), m_model, QStringLiteral("--task"), QStringLiteral("chart"),
                                      QStringLiteral("--max-new-tokens"), QStringLiteral("2")});
    QVERIFY2(code == 3 && err.contains(QLatin1String("every item failed")), qPrintable(QStringLiteral("exit %1: %2").arg(code).arg(err)));
    {
        store::Workspace ws = store::Workspace::open(wsPath, store::OpenMode::ReadOnly);
        QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("raw_text LIKE '[error]%beyond the limit%'")), 1);
        QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("raw_text LIKE '[error]%not a regular file%'")), 1);
        QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("raw_text LIKE '[error]%'")), 3);
    }
}

void TestBadInputs::promptsAreBoundedByTheModelsContext()
{
    // A model whose context (max_position_embeddings) is 48 tokens: a longer prompt is refused
    // by name, a shorter one answers up to where the context ends, never past it.
    vlm::Qwen2VLConfig config = test::tinyQwen2VLConfig();
    config.maxPositionEmbeddings = 48;
    const QString dir = m_tmp.filePath(QStringLiteral("short-context"));
    vlm::writeRandomModelFolder(dir, config, test::fixture(QStringLiteral("qwen2-tokenizer")), 7);
    QCOMPARE(json::readFile(dir + QStringLiteral("/config.json")).object().value(QStringLiteral("max_position_embeddings")).toInt(), 48);
    const auto model = vlm::VisionLanguageModel::load(dir);
    QCOMPARE(model->info().contextLength, 48);
    vlm::GenerationConfig g = model->generationConfig();
    g.maxNewTokens = 100;
    g.eosTokenIds.clear(); // random weights: run to the limit
    vlm::VlmRequest longRequest{{}, QStringLiteral("word ").repeated(60)};
    try {
        model->answer({longRequest}, g);
        QFAIL("expected the prompt to be refused");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("max_position_embeddings")) && e.message().contains(QLatin1String("48")), qPrintable(e.message()));
    }
    const vlm::VlmRequest shortRequest{{}, QStringLiteral("hi")};
    const std::int64_t promptTokens = static_cast<std::int64_t>(model->promptIds(shortRequest).size());
    QVERIFY(promptTokens < 48);
    const auto answers = model->answer({shortRequest}, g);
    QCOMPARE(static_cast<std::int64_t>(answers.front().ids.size()), 48 - promptTokens);
    QVERIFY(!answers.front().finished);
}

void TestBadInputs::commonMistakesGetPlainMessages()
{
    // An ordinary folder: named as chosen (not "pics.mpaw"), with what to do instead.
    const QString pics = m_tmp.filePath(QStringLiteral("pics"));
    QDir().mkpath(pics);
    try {
        store::Workspace::open(pics);
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("ordinary folder")) && !e.message().contains(QLatin1String("pics.mpaw")), qPrintable(e.message()));
    }
    // A .mpaw whose database file is something else: no raw "file is not a database" alone.
    const QString fake = m_tmp.filePath(QStringLiteral("fake.mpaw"));
    test::writeText(fake + QStringLiteral("/workspace.sqlite"), QByteArray(4096, 'x'));
    try {
        store::Workspace::open(fake);
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("not a usable workspace")) && e.message().contains(QLatin1String("Nothing was changed")), qPrintable(e.message()));
    }
    // An endpoint typed as "localhost 8000".
    try {
        backends::checkEndpointUrl(QStringLiteral("localhost 8000"));
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("http://localhost:8000/v1")), qPrintable(e.message()));
    }
    backends::checkEndpointUrl(QStringLiteral("http://127.0.0.1:8000/v1"));
}

QTEST_GUILESS_MAIN(TestBadInputs)
#include "test_bad_inputs.moc"
