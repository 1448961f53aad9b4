// The OpenAI-compatible HTTP backend against the real `mpa serve` (same answers as the native
// backend; survives the server being killed and restarted mid-run), against a scripted
// loopback server (500, 429, malformed JSON, no answer at all), and `mpa serve` against the
// official OpenAI Node SDK as an independent client (when node and the package are present).
#include "backends/http_backend.h"
#include "test_support.h"
#include "util/error.h"
#include "vlm/vlm_model.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTimer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QtTest>

using namespace mpa;

namespace {


// A loopback HTTP server that answers each request with the next scripted behaviour.
class ScriptedServer : public QTcpServer
{
public:
    QStringList script; // "500", "429", "malformed", "silent", "ok"
    int requests = 0;

protected:
    void incomingConnection(qintptr fd) override
    {
        auto *s = new QTcpSocket(this);
        s->setSocketDescriptor(fd);
        auto buffer = std::make_shared<QByteArray>();
        connect(s, &QTcpSocket::readyRead, this, [this, s, buffer] {
            *buffer += s->readAll();
            const qsizetype end = buffer->indexOf("\r\n\r\n");
            if (end < 0)
                return;
            const QByteArray headers = buffer->left(end).toLower();
            const qsizetype cl = headers.indexOf("content-length:");
            const qint64 length = cl < 0 ? 0 : headers.mid(cl + 15, headers.indexOf('\r', cl) - cl - 15).trimmed().toLongLong();
            if (buffer->size() < end + 4 + length)
                return;
            buffer->clear();
            const QString what = requests < script.size() ? script.at(requests) : QStringLiteral("ok");
            ++requests;
            QByteArray body, status = "200 OK";
            if (what == QLatin1String("silent"))
                return;
            if (what == QLatin1String("trickle")) {
                // Headers, then one byte every 200 ms of a body that never completes.
                s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{");
                auto *t = new QTimer(s);
                connect(t, &QTimer::timeout, s, [s] { s->write(" "); });
                t->start(200);
                return;
            }
            QByteArray extraHeaders;
            if (what == QLatin1String("retry-after")) {
                status = "429 Too Many Requests";
                extraHeaders = "Retry-After: 1\r\n";
                body = R"({"error":{"message":"wait a second"}})";
            } else
            if (what == QLatin1String("500")) {
                status = "500 Internal Server Error";
                body = R"({"error":{"message":"boom"}})";
            } else if (what == QLatin1String("429")) {
                status = "429 Too Many Requests";
                body = R"({"error":{"message":"slow down"}})";
            } else if (what == QLatin1String("401")) {
                status = "401 Unauthorized";
                body = R"({"error":{"message":"Incorrect API key provided"}})";
            } else if (what == QLatin1String("malformed")) {
                body = "{\"choices\": [ this is not json";
            } else {
                body = R"({"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"forty two"},)"
                       R"("logprobs":{"content":[{"token":"forty","logprob":-0.5},{"token":" two","logprob":-0.25}]}}]})";
            }
            s->write("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\n" + extraHeaders + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        });
    }
};

} // namespace

class TestHttp : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void sameAnswersAsTheNativeBackend();
    void survivesAServerRestartMidRun();
    void scriptedFailures();
    void officialNodeSdkAsClient();

private:
    quint16 startServer(quint16 port = 0);
    QTemporaryDir m_tmp;
    QString m_model;
    QProcess m_server;
    quint16 m_port = 0;
};

quint16 TestHttp::startServer(quint16 port)
{
    m_server.setProgram(test::cliPath());
    m_server.setArguments({QStringLiteral("serve"), QStringLiteral("--model"), m_model, QStringLiteral("--port"), QString::number(port),
                           QStringLiteral("--min-pixels"), QString::number(56 * 56), QStringLiteral("--max-pixels"), QString::number(112 * 112)});
    m_server.start();
    if (!m_server.waitForReadyRead(60000))
        return 0;
    const QString line = QString::fromUtf8(m_server.readLine()).trimmed(); // "serving NAME on http://127.0.0.1:PORT/v1"
    return static_cast<quint16>(line.section(QLatin1Char(':'), -1).section(QLatin1Char('/'), 0, 0).toUInt());
}

void TestHttp::initTestCase()
{
    if (test::fixturesDir().isEmpty())
        QSKIP("golden fixtures not found (the Qwen2 tokenizer comes from them)");
    m_model = m_tmp.filePath(QStringLiteral("served"));
    vlm::writeRandomModelFolder(m_model, test::tinyQwen2VLConfig(), test::fixture(QStringLiteral("qwen2-tokenizer")), 5);
    for (int i = 0; i < 3; ++i)
        test::writePng(m_tmp.filePath(QStringLiteral("q%1.png").arg(i)), 56 + 14 * i, 56, 20 + i);
    m_port = startServer();
    QVERIFY2(m_port > 0, m_server.readAllStandardError().constData());
}

void TestHttp::cleanupTestCase()
{
    m_server.kill();
    m_server.waitForFinished();
}

void TestHttp::sameAnswersAsTheNativeBackend()
{
    backends::HttpBackendOptions o;
    o.baseUrl = QStringLiteral("http://127.0.0.1:%1/v1").arg(m_port);
    QCOMPARE(backends::listServedModels(o), QStringList{QStringLiteral("served")});
    auto http = backends::makeHttpBackend(o);
    backends::NativeBackendOptions n;
    n.minPixels = 56 * 56;
    n.maxPixels = 112 * 112;
    auto native = backends::makeNativeBackend(m_model, n);
    std::vector<backends::VlmQuery> queries = {{m_tmp.filePath(QStringLiteral("q0.png")), QStringLiteral("What is it?")},
                                               {m_tmp.filePath(QStringLiteral("q1.png")), QStringLiteral("How many?")},
                                               {QString(), QStringLiteral("No image here")}};
    backends::GenerationOptions g;
    g.maxNewTokens = 5;
    const auto a = http->answer(queries, g);
    const auto b = native->answer(queries, g);
    for (std::size_t i = 0; i < queries.size(); ++i) {
        QVERIFY2(a[i].error.isEmpty(), qPrintable(a[i].error));
        QCOMPARE(a[i].text, b[i].text);
        QVERIFY(a[i].logprob.has_value());
        QVERIFY(std::abs(*a[i].logprob - *b[i].logprob) < 1e-3);
    }
    // An unknown model is a clear 4xx error, not retried.
    o.model = QStringLiteral("nope");
    const auto bad = backends::makeHttpBackend(o)->answer({queries[2]}, g);
    QVERIFY2(bad[0].error.contains(QLatin1String("404")) && bad[0].error.contains(QLatin1String("does not exist")), qPrintable(bad[0].error));
}

void TestHttp::survivesAServerRestartMidRun()
{
    backends::HttpBackendOptions o;
    o.baseUrl = QStringLiteral("http://127.0.0.1:%1/v1").arg(m_port);
    o.model = QStringLiteral("served");
    o.retries = 8;
    o.backoffMs = 200;
    auto http = backends::makeHttpBackend(o);
    m_server.kill();
    m_server.waitForFinished();
    // Restart the server while the client is already retrying.
    QThread *restarter = QThread::create([] { QThread::msleep(400); });
    bool restarted = false;
    connect(restarter, &QThread::finished, this, [&] {
        restarted = startServer(m_port) == m_port;
    });
    restarter->start();
    backends::GenerationOptions g;
    g.maxNewTokens = 3;
    const auto r = http->answer({{m_tmp.filePath(QStringLiteral("q2.png")), QStringLiteral("Again?")}}, g);
    restarter->wait();
    delete restarter;
    QVERIFY(restarted);
    QVERIFY2(r[0].error.isEmpty(), qPrintable(r[0].error));
}

void TestHttp::scriptedFailures()
{
    ScriptedServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    backends::HttpBackendOptions o;
    o.baseUrl = QStringLiteral("http://127.0.0.1:%1/v1").arg(server.serverPort());
    o.model = QStringLiteral("scripted");
    o.retries = 2;
    o.backoffMs = 50;
    o.timeoutMs = 500;
    o.concurrency = 1;
    auto http = backends::makeHttpBackend(o);
    backends::GenerationOptions g;
    const backends::VlmQuery q{QString(), QStringLiteral("Q?")};

    server.script = {QStringLiteral("500"), QStringLiteral("429"), QStringLiteral("ok")};
    server.requests = 0;
    auto r = http->answer({q}, g);
    QVERIFY2(r[0].error.isEmpty(), qPrintable(r[0].error));
    QCOMPARE(r[0].text, QStringLiteral("forty two"));
    QCOMPARE(*r[0].logprob, -0.75);
    QCOMPARE(server.requests, 3);

    server.script = {QStringLiteral("500"), QStringLiteral("500"), QStringLiteral("500")};
    server.requests = 0;
    r = http->answer({q}, g);
    QVERIFY2(r[0].error.contains(QLatin1String("HTTP 500: boom")), qPrintable(r[0].error));
    QCOMPARE(server.requests, 3); // 1 + 2 retries

    server.script = {QStringLiteral("401")};
    server.requests = 0;
    r = http->answer({q}, g);
    QVERIFY2(r[0].error.contains(QLatin1String("401")) && r[0].error.contains(QLatin1String("Incorrect API key")), qPrintable(r[0].error));
    QCOMPARE(server.requests, 1); // a client error is not retried

    server.script = {QStringLiteral("malformed")};
    server.requests = 0;
    r = http->answer({q}, g);
    QVERIFY2(r[0].error.contains(QLatin1String("malformed response")), qPrintable(r[0].error));

    server.script = QStringList(6, QStringLiteral("silent")); // two queries x (1 try + 2 retries)
    server.requests = 0;
    r = http->answer({q, q}, g);
    QVERIFY2(!r[0].error.isEmpty(), "a server that never answers times out");
    QVERIFY(!r[1].error.isEmpty());

    // Retry-After is honoured (1 s here, beyond the 50 ms back-off).
    server.script = {QStringLiteral("retry-after"), QStringLiteral("ok")};
    server.requests = 0;
    QElapsedTimer clock;
    clock.start();
    r = http->answer({q}, g);
    QVERIFY2(r[0].error.isEmpty(), qPrintable(r[0].error));
    QVERIFY2(clock.elapsed() >= 900, qPrintable(QString::number(clock.elapsed())));

    // A server trickling a byte every 200 ms never trips the idle timeout: the total one ends it.
    {
        backends::HttpBackendOptions t = o;
        t.totalTimeoutMs = 1500;
        t.retries = 0;
        auto trickled = backends::makeHttpBackend(t);
        server.script = {QStringLiteral("trickle")};
        server.requests = 0;
        clock.restart();
        r = trickled->answer({q}, g);
        QVERIFY2(r[0].error.contains(QLatin1String("no complete answer within 1 s")), qPrintable(r[0].error));
        QVERIFY(clock.elapsed() < 10000);
    }

    // An endpoint that is down: after circuitBreakerFailures failures in a row nothing more is sent.
    {
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
        backends::HttpBackendOptions down = o;
        down.baseUrl = QStringLiteral("http://127.0.0.1:%1/v1").arg(closed.serverPort());
        closed.close();
        down.retries = 0;
        down.circuitBreakerFailures = 2;
        auto dead = backends::makeHttpBackend(down);
        r = dead->answer({q, q, q, q, q}, g);
        int notSent = 0;
        for (const auto &reply : r) {
            QVERIFY(!reply.error.isEmpty());
            notSent += reply.error.contains(QLatin1String("endpoint down")) ? 1 : 0;
        }
        QCOMPARE(notSent, 3);
        QVERIFY(dead->answer({q}, g)[0].error.contains(QLatin1String("endpoint down"))); // and it stays open for the job
    }

    // An unreadable image fails that item only.
    server.script = {};
    server.requests = 0;
    r = http->answer({{m_tmp.filePath(QStringLiteral("missing.png")), QStringLiteral("?")}, q}, g);
    QVERIFY(r[0].error.contains(QLatin1String("missing.png")));
    QVERIFY(r[1].error.isEmpty());
}

void TestHttp::officialNodeSdkAsClient()
{
    const QString modules = qEnvironmentVariable("MPA_NODE_MODULES");
    if (modules.isEmpty() || !QFileInfo::exists(modules + QStringLiteral("/openai/package.json")) || QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty())
        QSKIP("node or the npm package `openai` not available (packaging/run-tests.sh installs it into build/node-test)");
    QProcess node;
    node.start(QStringLiteral("node"), {QStringLiteral(MPA_SOURCE_DIR "/tests/openai_sdk_client.mjs"), QStringLiteral("http://127.0.0.1:%1/v1").arg(m_port),
                                         m_tmp.filePath(QStringLiteral("q0.png"))});
    QVERIFY(node.waitForFinished(60000));
    const QByteArray out = node.readAllStandardOutput();
    QVERIFY2(node.exitCode() == 0, node.readAllStandardError().constData());
    const QJsonObject r = QJsonDocument::fromJson(out).object();
    QCOMPARE(r.value(QStringLiteral("id")).toString(), QStringLiteral("served"));
    QCOMPARE(r.value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion"));
    QVERIFY(r.value(QStringLiteral("logprobs")).toInt() >= 1);
    QCOMPARE(r.value(QStringLiteral("notFound")).toString(), QStringLiteral("404"));
}

QTEST_GUILESS_MAIN(TestHttp)
#include "test_http.moc"
