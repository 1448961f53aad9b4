#include "serve/openai_server.h"

#include "util/error.h"
#include "vlm/tokenizer.h"
#include "vlm/vlm_model.h"

#include <QDateTime>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUuid>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace mpa::serve {

namespace {

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
    const QByteArray bytes = QByteArray::fromBase64(url.mid(comma + 1).toLatin1());
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char *>(bytes.constData()));
    cv::Mat img = cv::imdecode(raw, cv::IMREAD_COLOR);
    if (img.empty())
        throw Error(QStringLiteral("image_url does not hold a decodable image"));
    cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
    return vlm::RgbImage{img.rows, img.cols, std::vector<std::uint8_t>(img.data, img.data + img.total() * 3)};
}

} // namespace

struct OpenAiServer::Impl
{
    std::shared_ptr<vlm::VisionLanguageModel> model;
    QString name;
    QHttpServer server;

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
        vlm::GenerationConfig g = model->generationConfig();
        const QJsonValue maxTokens = body.contains(QStringLiteral("max_completion_tokens")) ? body.value(QStringLiteral("max_completion_tokens"))
                                                                                             : body.value(QStringLiteral("max_tokens"));
        g.maxNewTokens = maxTokens.isDouble() ? maxTokens.toInt() : 512;
        if (body.contains(QStringLiteral("temperature"))) {
            const double t = body.value(QStringLiteral("temperature")).toDouble();
            g.doSample = t > 0;
            if (t > 0)
                g.temperature = t;
        }
        if (body.contains(QStringLiteral("top_p")))
            g.topP = body.value(QStringLiteral("top_p")).toDouble(1.0);
        if (body.contains(QStringLiteral("seed")))
            g.seed = static_cast<std::uint64_t>(body.value(QStringLiteral("seed")).toInteger());
        std::vector<vlm::VlmAnswer> answers;
        try {
            answers = model->answer({req}, g);
        } catch (const Error &e) {
            return errorResponse(QHttpServerResponse::StatusCode::BadRequest, e.message());
        }
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

OpenAiServer::OpenAiServer(std::shared_ptr<vlm::VisionLanguageModel> model, const QString &modelName)
    : d(std::make_unique<Impl>())
{
    d->model = std::move(model);
    d->name = modelName;
    d->server.route(QStringLiteral("/v1/models"), QHttpServerRequest::Method::Get, [this] { return d->models(); });
    d->server.route(QStringLiteral("/v1/chat/completions"), QHttpServerRequest::Method::Post,
                    [this](const QHttpServerRequest &r) { return d->chat(r); });
}

OpenAiServer::~OpenAiServer() = default;

quint16 OpenAiServer::listen(const QHostAddress &address, quint16 port)
{
    const quint16 bound = d->server.listen(address, port);
    if (bound == 0)
        throw Error(QStringLiteral("cannot listen on %1:%2 (port in use or not permitted)").arg(address.toString()).arg(port));
    return bound;
}

} // namespace mpa::serve
