#include "backends/http_backend.h"

#include "util/error.h"
#include "vlm/image_processor.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>
#include <QUrl>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace mpa::backends {

namespace {

QString endpoint(const HttpBackendOptions &o, const char *path)
{
    QString base = o.baseUrl;
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    return base + QLatin1String(path);
}

QNetworkRequest makeRequest(const HttpBackendOptions &o, const QString &url)
{
    QNetworkRequest r{QUrl(url)};
    r.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    r.setTransferTimeout(o.timeoutMs);
    const QByteArray key = qgetenv(o.apiKeyEnv.toLocal8Bit().constData());
    if (!key.isEmpty())
        r.setRawHeader("Authorization", "Bearer " + key);
    return r;
}

// Data URL of the image: the file's own bytes when it is small enough (no recompression, so
// the server sees exactly the pixels the native backend would), else a JPEG whose longer side
// is maxSide.
QString imageDataUrl(const QString &path, int maxSide)
{
    const vlm::RgbImage img = vlm::loadRgbImage(path);
    if (std::max(img.height, img.width) <= maxSide) {
        QFile f(path);
        if (f.open(QIODevice::ReadOnly)) {
            const QByteArray bytes = f.readAll();
            const char *mime = bytes.startsWith("\x89PNG") ? "image/png" : bytes.startsWith("\xFF\xD8") ? "image/jpeg"
                               : bytes.startsWith("GIF8") ? "image/gif" : bytes.startsWith("RIFF") ? "image/webp" : bytes.startsWith("BM") ? "image/bmp" : nullptr;
            if (mime)
                return QStringLiteral("data:%1;base64,").arg(QLatin1String(mime)) + QString::fromLatin1(bytes.toBase64());
        }
    }
    cv::Mat rgb(img.height, img.width, CV_8UC3, const_cast<std::uint8_t *>(img.pixels.data()));
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    const int side = std::max(img.height, img.width);
    if (side > maxSide) {
        const double s = static_cast<double>(maxSide) / side;
        cv::resize(bgr, bgr, cv::Size(), s, s, cv::INTER_AREA);
    }
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95});
    return QStringLiteral("data:image/jpeg;base64,") + QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(jpeg.data()),
                                                                                       static_cast<qsizetype>(jpeg.size())).toBase64());
}

QString serverMessage(const QByteArray &body)
{
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    const QString m = o.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
    return m.isEmpty() ? QString::fromUtf8(body.left(200)).simplified() : m;
}

class HttpBackend final : public VlmBackend
{
public:
    explicit HttpBackend(const HttpBackendOptions &o)
        : m_o(o)
    {
        if (m_o.model.isEmpty()) {
            const QStringList models = listServedModels(m_o);
            if (models.isEmpty())
                throw Error(QStringLiteral("%1: the server lists no models").arg(endpoint(m_o, "/models")));
            m_o.model = models.first();
        }
    }

    QString name() const override { return m_o.model; }
    int preferredBatchSize() const override { return std::max(1, m_o.concurrency) * 2; }

    std::vector<VlmReply> answer(const std::vector<VlmQuery> &queries, const GenerationOptions &g, const std::function<bool()> &cancelled) override
    {
        std::vector<VlmReply> replies(queries.size());
        if (circuitOpen()) {
            for (VlmReply &r : replies)
                r.error = QStringLiteral("%1: endpoint down (%2 requests in a row failed); not sent").arg(endpoint(m_o, "/chat/completions")).arg(m_consecutiveFailures);
            return replies;
        }
        std::vector<QByteArray> bodies(queries.size());
        for (std::size_t i = 0; i < queries.size(); ++i) {
            try {
                QJsonArray content;
                if (!queries[i].imagePath.isEmpty())
                    content.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("image_url")},
                                               {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), imageDataUrl(queries[i].imagePath, m_o.maxImageSide)}}}});
                content.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), queries[i].prompt}});
                QJsonObject req{{QStringLiteral("model"), m_o.model},
                                {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), content}}}},
                                {QStringLiteral("max_tokens"), g.maxNewTokens}};
                if (!g.useModelDefaults) {
                    req.insert(QStringLiteral("temperature"), g.greedy ? 0.0 : g.temperature);
                    if (!g.greedy && g.topP < 1.0)
                        req.insert(QStringLiteral("top_p"), g.topP);
                    req.insert(QStringLiteral("seed"), static_cast<qint64>(g.seed));
                }
                if (m_o.requestLogprobs)
                    req.insert(QStringLiteral("logprobs"), true);
                bodies[i] = QJsonDocument(req).toJson(QJsonDocument::Compact);
            } catch (const Error &e) {
                replies[i].error = e.message();
            }
        }

        // Run the requests on a private event loop (the caller may be any worker thread).
        QNetworkAccessManager net;
        QEventLoop loop;
        const std::size_t total = queries.size();
        std::size_t next = 0, running = 0, finished = 0;
        std::vector<int> attempts(total, 0);
        std::vector<QElapsedTimer> clocks(total);
        const std::size_t limit = static_cast<std::size_t>(std::max(1, m_o.concurrency));
        std::function<void(std::size_t)> send;
        std::function<void()> pump = [&] {
            const bool stop = cancelled && cancelled();
            while (!stop && running < limit && next < total) {
                const std::size_t k = next++;
                if (!replies[k].error.isEmpty()) {
                    ++finished; // failed while preparing (e.g. an unreadable image)
                    continue;
                }
                ++running;
                send(k);
            }
            if (finished == total || (running == 0 && (stop || next >= total)))
                loop.quit();
        };
        auto complete = [&] {
            ++finished;
            --running;
            pump();
        };
        send = [&](std::size_t i) {
            if (attempts[i] == 0)
                clocks[i].start();
            ++attempts[i];
            if (circuitOpen()) {
                replies[i].error = QStringLiteral("%1: endpoint down (%2 requests in a row failed); not sent").arg(endpoint(m_o, "/chat/completions")).arg(m_consecutiveFailures);
                complete();
                return;
            }
            QNetworkReply *reply = net.post(makeRequest(m_o, endpoint(m_o, "/chat/completions")), bodies[i]);
            // Connect and total deadlines (the transfer timeout alone is reset by every byte, so a
            // server trickling a byte every few seconds would never time out).
            auto *deadline = new QTimer(reply);
            deadline->setSingleShot(true);
            QObject::connect(deadline, &QTimer::timeout, reply, [this, reply] {
                reply->setProperty("mpaTimeout", QStringLiteral("no complete answer within %1 s").arg(m_o.totalTimeoutMs / 1000));
                reply->abort();
            });
            deadline->start(m_o.totalTimeoutMs);
            auto *connectDeadline = new QTimer(reply);
            connectDeadline->setSingleShot(true);
            QObject::connect(connectDeadline, &QTimer::timeout, reply, [this, reply] {
                reply->setProperty("mpaTimeout", QStringLiteral("no connection within %1 s").arg(m_o.connectTimeoutMs / 1000));
                reply->abort();
            });
            QObject::connect(reply, &QNetworkReply::metaDataChanged, connectDeadline, &QTimer::stop);
            QObject::connect(reply, &QNetworkReply::uploadProgress, connectDeadline, [connectDeadline](qint64 sent, qint64) {
                if (sent > 0)
                    connectDeadline->stop();
            });
            connectDeadline->start(m_o.connectTimeoutMs);
            QObject::connect(reply, &QNetworkReply::finished, &loop, [&, reply, i] {
                reply->deleteLater();
                const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                const QByteArray body = reply->readAll();
                // A hung or trickling server will most likely hang again: one retry, not four
                // (four 2-minute waits per item made a dead endpoint cost 10 minutes an item).
                const bool timedOut = !reply->property("mpaTimeout").isNull() || reply->error() == QNetworkReply::TimeoutError
                                      || reply->error() == QNetworkReply::OperationCanceledError;
                // Aborted after the headers arrived (a trickle) is a network failure too.
                const bool networkFailed = reply->error() != QNetworkReply::NoError && (status == 0 || timedOut);
                const bool transient = status == 429 || status >= 500 || networkFailed;
                const int allowedRetries = timedOut ? std::min(1, m_o.retries) : m_o.retries;
                if (transient && attempts[i] <= allowedRetries) {
                    int delay = m_o.backoffMs * (1 << (attempts[i] - 1));
                    bool numeric = false;
                    const int retryAfter = reply->rawHeader("Retry-After").trimmed().toInt(&numeric);
                    if (numeric && retryAfter >= 0)
                        delay = std::min(60000, std::max(delay, retryAfter * 1000));
                    QTimer::singleShot(delay, &loop, [&, i] { send(i); });
                    return;
                }
                // The endpoint itself failing (not a request it refused) counts toward the circuit.
                if (transient)
                    ++m_consecutiveFailures;
                else
                    m_consecutiveFailures = 0;
                VlmReply &r = replies[i];
                r.latencyMs = clocks[i].nsecsElapsed() / 1e6;
                if (networkFailed) {
                    const QString why = reply->property("mpaTimeout").toString();
                    r.error = QStringLiteral("%1: %2 (after %3 attempts)").arg(endpoint(m_o, "/chat/completions"), why.isEmpty() ? reply->errorString() : why).arg(attempts[i]);
                } else if (status != 200) {
                    r.error = QStringLiteral("%1: HTTP %2: %3").arg(endpoint(m_o, "/chat/completions")).arg(status).arg(serverMessage(body));
                } else {
                    QJsonParseError pe{};
                    const QJsonObject o = QJsonDocument::fromJson(body, &pe).object();
                    const QJsonArray choices = o.value(QStringLiteral("choices")).toArray();
                    if (pe.error != QJsonParseError::NoError || choices.isEmpty()) {
                        r.error = QStringLiteral("%1: malformed response (%2)").arg(endpoint(m_o, "/chat/completions"),
                                                                                     pe.error != QJsonParseError::NoError ? pe.errorString() : QStringLiteral("no choices"));
                    } else {
                        const QJsonObject choice = choices.first().toObject();
                        r.text = choice.value(QStringLiteral("message")).toObject().value(QStringLiteral("content")).toString();
                        const QJsonArray lp = choice.value(QStringLiteral("logprobs")).toObject().value(QStringLiteral("content")).toArray();
                        if (!lp.isEmpty()) {
                            double sum = 0;
                            for (const QJsonValue &t : lp)
                                sum += t.toObject().value(QStringLiteral("logprob")).toDouble();
                            r.logprob = sum;
                        }
                    }
                }
                complete();
            });
        };
        QTimer::singleShot(0, &loop, pump);
        loop.exec();
        for (std::size_t i = next; i < total; ++i)
            if (replies[i].error.isEmpty())
                replies[i].error = QStringLiteral("cancelled");
        return replies;
    }

private:
    bool circuitOpen() const { return m_o.circuitBreakerFailures > 0 && m_consecutiveFailures >= m_o.circuitBreakerFailures; }

    HttpBackendOptions m_o;
    int m_consecutiveFailures = 0;
};

} // namespace

void checkEndpointUrl(const QString &url)
{
    const QUrl u(url.trimmed(), QUrl::StrictMode);
    const QString scheme = u.scheme().toLower();
    if (!u.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https")) || u.host().isEmpty())
        throw Error(QStringLiteral("\"%1\" is not an endpoint address: write it as http://host:port/v1 (for example http://localhost:8000/v1)").arg(url));
}

QStringList listServedModels(const HttpBackendOptions &o)
{
    checkEndpointUrl(o.baseUrl);
    QNetworkAccessManager net;
    QEventLoop loop;
    QNetworkReply *reply = net.get(makeRequest(o, endpoint(o, "/models")));
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->error() != QNetworkReply::NoError && status == 0)
        throw Error(QStringLiteral("%1: %2").arg(endpoint(o, "/models"), reply->errorString()));
    const QByteArray body = reply->readAll();
    if (status != 200)
        throw Error(QStringLiteral("%1: HTTP %2: %3").arg(endpoint(o, "/models")).arg(status).arg(serverMessage(body)));
    QStringList ids;
    for (const QJsonValue &m : QJsonDocument::fromJson(body).object().value(QStringLiteral("data")).toArray())
        ids << m.toObject().value(QStringLiteral("id")).toString();
    return ids;
}

std::unique_ptr<VlmBackend> makeHttpBackend(const HttpBackendOptions &options)
{
    checkEndpointUrl(options.baseUrl);
    return std::make_unique<HttpBackend>(options);
}

} // namespace mpa::backends
