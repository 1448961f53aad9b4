#include "serve/openai_server.h"

#include "util/error.h"
#include "util/input_limits.h"
#include "vlm/tokenizer.h"
#include "vlm/vlm_model.h"

#include <QDateTime>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QElapsedTimer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUuid>
#include <optional>


namespace mpa::serve {

namespace {

// Accepts connections for QHttpServer with two guards Qt 6.4's server lacks: an idle timeout
// (a client that opens a connection and sends nothing, or a byte a minute, is closed) and a
// bound on open connections.
class GuardedTcpServer : public QTcpServer
{
public:
    GuardedTcpServer(int idleTimeoutMs, int maxConnections)
        : m_idleMs(idleTimeoutMs)
        , m_max(maxConnections)
    {
    }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        if (m_open >= m_max) {
            socket->abort();
            socket->deleteLater();
            return;
        }
        ++m_open;
        connect(socket, &QObject::destroyed, this, [this] { --m_open; });
        auto *idle = new QTimer(socket);
        idle->setSingleShot(true);
        idle->setInterval(m_idleMs);
        connect(idle, &QTimer::timeout, socket, [socket] { socket->abort(); });
        connect(socket, &QTcpSocket::readyRead, idle, qOverload<>(&QTimer::start));
        connect(socket, &QTcpSocket::bytesWritten, idle, qOverload<>(&QTimer::start));
        // QHttpServer buffers a whole request before routing it: bytes beyond the body limit
        // since the last response end the connection before they are buffered. This handler
        // runs before the server's (connected first) and sees each chunk unread.
        auto received = std::make_shared<qint64>(0);
        connect(socket, &QTcpSocket::readyRead, socket, [socket, received] {
            *received += socket->bytesAvailable();
            if (*received > limits::kMaxRequestBytes + 64 * 1024) {
                const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("error"), QJsonObject{
                    {QStringLiteral("message"), QStringLiteral("the request body is over the %1 MB limit").arg(limits::kMaxRequestBytes >> 20)},
                    {QStringLiteral("type"), QStringLiteral("invalid_request_error")}, {QStringLiteral("code"), QJsonValue()}}}}).toJson(QJsonDocument::Compact);
                socket->write("HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
                              + QByteArray::number(body.size()) + "\r\n\r\n" + body);
                socket->flush();
                socket->abort();
            }
        });
        connect(socket, &QTcpSocket::bytesWritten, socket, [received] { *received = 0; });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        idle->start();
        addPendingConnection(socket);
    }

private:
    int m_idleMs;
    int m_max;
    int m_open = 0;
};

QHttpServerResponse errorResponse(QHttpServerResponse::StatusCode code, const QString &message, const char *type = "invalid_request_error")
{
    return QHttpServerResponse(QJsonObject{{QStringLiteral("error"), QJsonObject{{QStringLiteral("message"), message},
                                                                                   {QStringLiteral("type"), QLatin1String(type)},
                                                                                   {QStringLiteral("code"), QJsonValue()}}}},
                               code);
}

vlm::RgbImage decodeDataUrl(const QString &url)
{
    if (!url.startsWith(QLatin1String("data:")))
        throw Error(QStringLiteral("only data: image URLs are accepted (the server does not fetch remote images)"));
    const qsizetype comma = url.indexOf(QLatin1Char(','));
    if (comma < 0 || !url.left(comma).endsWith(QLatin1String(";base64")))
        throw Error(QStringLiteral("image_url must be a base64 data URL"));
    const auto decoded = QByteArray::fromBase64Encoding(url.mid(comma + 1).toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        throw Error(QStringLiteral("image_url: the base64 data is malformed"));
    return vlm::decodeRgbImage(*decoded, QStringLiteral("image_url"));
}

} // namespace

struct OpenAiServer::Impl
{
    std::shared_ptr<vlm::VisionLanguageModel> model;
    QString name;
    ServeOptions options;
    QHttpServer server;

    // nullopt when the request may proceed, else the 401.
    std::optional<QHttpServerResponse> unauthorised(const QHttpServerRequest &request) const
    {
        if (options.apiKey.isEmpty())
            return std::nullopt;
        const QByteArray auth = request.value(QByteArrayLiteral("Authorization"));
        if (auth == QByteArrayLiteral("Bearer ") + options.apiKey.toUtf8())
            return std::nullopt;
        return errorResponse(QHttpServerResponse::StatusCode::Unauthorized, QStringLiteral("missing or wrong API key (Authorization: Bearer ...)"),
                             "authentication_error");
    }

    // The route's entry: nothing may escape into Qt's event loop (it would end the process).
    QHttpServerResponse guardedChat(const QHttpServerRequest &request)
    {
        if (auto denied = unauthorised(request))
            return std::move(*denied);
        if (request.body().size() > limits::kMaxRequestBytes)
            return errorResponse(QHttpServerResponse::StatusCode::PayloadTooLarge,
                                 QStringLiteral("the request body is %1 MB; at most %2 MB are accepted").arg(request.body().size() >> 20).arg(limits::kMaxRequestBytes >> 20));
        try {
            return chat(request);
        } catch (const Error &e) {
            return errorResponse(QHttpServerResponse::StatusCode::BadRequest, e.message());
        } catch (const std::bad_alloc &) {
            return errorResponse(QHttpServerResponse::StatusCode::InternalServerError, QStringLiteral("out of memory answering this request"), "server_error");
        } catch (const std::exception &e) {
            return errorResponse(QHttpServerResponse::StatusCode::InternalServerError, QStringLiteral("the model failed: %1").arg(QString::fromLocal8Bit(e.what()).left(500)),
                                 "server_error");
        }
    }

    QHttpServerResponse models() const
    {
        return QHttpServerResponse(QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                                               {QStringLiteral("data"), QJsonArray{QJsonObject{{QStringLiteral("id"), name},
                                                                                               {QStringLiteral("object"), QStringLiteral("model")},
                                                                                               {QStringLiteral("created"), 0},
                                                                                               {QStringLiteral("owned_by"), QStringLiteral("mpa-studio")}}}}});
    }

    QHttpServerResponse chat(const QHttpServerRequest &request)
    {
        QJsonParseError pe{};
        const QJsonObject body = QJsonDocument::fromJson(request.body(), &pe).object();
        if (pe.error != QJsonParseError::NoError)
            return errorResponse(QHttpServerResponse::StatusCode::BadRequest, QStringLiteral("the body is not JSON: %1").arg(pe.errorString()));
        const QString requested = body.value(QStringLiteral("model")).toString();
        if (!requested.isEmpty() && requested != name)
            return errorResponse(QHttpServerResponse::StatusCode::NotFound, QStringLiteral("The model `%1` does not exist (this server serves `%2`)").arg(requested, name), "model_not_found");
        const QJsonArray messages = body.value(QStringLiteral("messages")).toArray();
        vlm::VlmRequest req;
        int users = 0;
        try {
            for (const QJsonValue &mv : messages) {
                const QJsonObject m = mv.toObject();
                const QString role = m.value(QStringLiteral("role")).toString();
                if (role == QLatin1String("system"))
                    continue; // the template's default system turn is used
                if (role != QLatin1String("user"))
                    throw Error(QStringLiteral("multi-turn conversations are not supported yet (role \"%1\")").arg(role));
                if (++users > 1)
                    throw Error(QStringLiteral("multi-turn conversations are not supported yet (one user message)"));
                const QJsonValue content = m.value(QStringLiteral("content"));
                if (content.isString()) {
                    req.prompt = content.toString();
                    continue;
                }
                for (const QJsonValue &pv : content.toArray()) {
                    const QJsonObject part = pv.toObject();
                    const QString type = part.value(QStringLiteral("type")).toString();
                    if (type == QLatin1String("text"))
                        req.prompt += part.value(QStringLiteral("text")).toString();
                    else if (type == QLatin1String("image_url"))
                        req.images.push_back(decodeDataUrl(part.value(QStringLiteral("image_url")).toObject().value(QStringLiteral("url")).toString()));
                    else
                        throw Error(QStringLiteral("unsupported content part \"%1\"").arg(type));
                }
            }
            if (users == 0)
                throw Error(QStringLiteral("no user message"));
        } catch (const Error &e) {
            return errorResponse(QHttpServerResponse::StatusCode::BadRequest, e.message());
        }
        // The prompt's length is bounded before any forward pass: attention memory grows with
        // its square (a 20,000-character prompt asked for 19 GB).
        const int promptLimit = options.maxPromptTokens > 0 ? options.maxPromptTokens : limits::kDefaultMaxPromptTokens;
        if (req.prompt.size() > 16 * promptLimit)
            return errorResponse(QHttpServerResponse::StatusCode::PayloadTooLarge,
                                 QStringLiteral("the prompt has %1 characters; at most %2 prompt tokens are accepted").arg(req.prompt.size()).arg(promptLimit));
        const std::size_t promptTokens = model->promptIds(req).size();
        if (promptTokens > static_cast<std::size_t>(promptLimit))
            return errorResponse(QHttpServerResponse::StatusCode::PayloadTooLarge,
                                 QStringLiteral("the prompt is %1 tokens (images included); at most %2 are accepted (mpa serve --max-prompt-tokens)").arg(promptTokens).arg(promptLimit));
        // The model's own context bounds the prompt too, leaving room for at least one new token.
        const std::int64_t context = model->info().contextLength;
        if (context > 0 && static_cast<std::int64_t>(promptTokens) >= context)
            return errorResponse(QHttpServerResponse::StatusCode::PayloadTooLarge,
                                 QStringLiteral("the prompt is %1 tokens (images included); the model's context (max_position_embeddings) is %2").arg(promptTokens).arg(context));
        vlm::GenerationConfig g = model->generationConfig();
        const QJsonValue maxTokens = body.contains(QStringLiteral("max_completion_tokens")) ? body.value(QStringLiteral("max_completion_tokens"))
                                                                                             : body.value(QStringLiteral("max_tokens"));
        if (!maxTokens.isUndefined() && !maxTokens.isNull() && (!maxTokens.isDouble() || maxTokens.toDouble() < 1 || maxTokens.toDouble() > limits::kMaxNewTokens))
            return errorResponse(QHttpServerResponse::StatusCode::UnprocessableEntity, QStringLiteral("max_tokens must be an integer between 1 and %1").arg(limits::kMaxNewTokens));
        g.maxNewTokens = maxTokens.isDouble() ? maxTokens.toInt() : 512;
        if (body.contains(QStringLiteral("temperature"))) {
            const double t = body.value(QStringLiteral("temperature")).toDouble();
            g.doSample = t > 0;
            if (t > 0)
                g.temperature = t;
        }
        if (body.contains(QStringLiteral("temperature")) && (!body.value(QStringLiteral("temperature")).isDouble() || body.value(QStringLiteral("temperature")).toDouble() < 0
                                                             || body.value(QStringLiteral("temperature")).toDouble() > 100))
            return errorResponse(QHttpServerResponse::StatusCode::UnprocessableEntity, QStringLiteral("temperature must be a number between 0 and 100"));
        if (body.contains(QStringLiteral("top_p"))) {
            g.topP = body.value(QStringLiteral("top_p")).toDouble(-1);
            if (!(g.topP > 0 && g.topP <= 1))
                return errorResponse(QHttpServerResponse::StatusCode::UnprocessableEntity, QStringLiteral("top_p must be in (0, 1]"));
        }
        if (body.contains(QStringLiteral("seed")))
            g.seed = static_cast<std::uint64_t>(body.value(QStringLiteral("seed")).toInteger());
        std::vector<vlm::VlmAnswer> answers;
        QElapsedTimer clock;
        clock.start();
        bool timedOut = false;
        try {
            answers = model->answer({req}, g, [&] {
                timedOut = clock.elapsed() > options.requestTimeoutMs;
                return timedOut;
            });
        } catch (const Error &e) {
            return errorResponse(QHttpServerResponse::StatusCode::BadRequest, e.message());
        }
        if (timedOut)
            return errorResponse(QHttpServerResponse::StatusCode::GatewayTimeout,
                                 QStringLiteral("generation took longer than %1 s (mpa serve --request-timeout)").arg(options.requestTimeoutMs / 1000), "server_error");
        const vlm::VlmAnswer &a = answers.front();
        QJsonObject choice{{QStringLiteral("index"), 0},
                           {QStringLiteral("message"), QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")}, {QStringLiteral("content"), a.text}}},
                           {QStringLiteral("finish_reason"), a.finished ? QStringLiteral("stop") : QStringLiteral("length")}};
        if (body.value(QStringLiteral("logprobs")).toBool()) {
            QJsonArray content;
            const auto tok = model->tokenizer();
            for (std::size_t i = 0; i < a.ids.size(); ++i) {
                const std::string bytes = tok->tokenBytes(a.ids[i]);
                QJsonArray raw;
                for (unsigned char c : bytes)
                    raw.append(static_cast<int>(c));
                content.append(QJsonObject{{QStringLiteral("token"), tok->decode({a.ids[i]})}, {QStringLiteral("logprob"), a.logprobs[i]},
                                           {QStringLiteral("bytes"), raw}, {QStringLiteral("top_logprobs"), QJsonArray()}});
            }
            choice.insert(QStringLiteral("logprobs"), QJsonObject{{QStringLiteral("content"), content}});
        } else {
            choice.insert(QStringLiteral("logprobs"), QJsonValue());
        }
        const qint64 completion = static_cast<qint64>(a.ids.size());
        return QHttpServerResponse(QJsonObject{
            {QStringLiteral("id"), QString(QStringLiteral("chatcmpl-") + QUuid::createUuid().toString(QUuid::Id128))},
            {QStringLiteral("object"), QStringLiteral("chat.completion")},
            {QStringLiteral("created"), QDateTime::currentSecsSinceEpoch()},
            {QStringLiteral("model"), name},
            {QStringLiteral("choices"), QJsonArray{choice}},
            {QStringLiteral("usage"), QJsonObject{{QStringLiteral("prompt_tokens"), static_cast<qint64>(a.promptTokens)}, {QStringLiteral("completion_tokens"), completion},
                                                  {QStringLiteral("total_tokens"), static_cast<qint64>(a.promptTokens) + completion}}}});
    }
};

OpenAiServer::OpenAiServer(std::shared_ptr<vlm::VisionLanguageModel> model, const QString &modelName, const ServeOptions &options)
    : d(std::make_unique<Impl>())
{
    d->model = std::move(model);
    d->name = modelName;
    d->options = options;
    d->server.route(QStringLiteral("/v1/models"), QHttpServerRequest::Method::Get, [this](const QHttpServerRequest &r) {
        if (auto denied = d->unauthorised(r))
            return std::move(*denied);
        return d->models();
    });
    d->server.route(QStringLiteral("/v1/chat/completions"), QHttpServerRequest::Method::Post,
                    [this](const QHttpServerRequest &r) { return d->guardedChat(r); });
}

OpenAiServer::~OpenAiServer() = default;

quint16 OpenAiServer::listen(const QHostAddress &address, quint16 port)
{
    auto *tcp = new GuardedTcpServer(d->options.idleTimeoutMs, d->options.maxConnections);
    if (!tcp->listen(address, port)) {
        delete tcp;
        throw Error(QStringLiteral("cannot listen on %1:%2 (port in use or not permitted)").arg(address.toString()).arg(port));
    }
    d->server.bind(tcp); // the server takes ownership
    return tcp->serverPort();
}

} // namespace mpa::serve
