#pragma once
// `mpa serve`: an OpenAI-compatible HTTP server over the native runtime (GET /v1/models,
// POST /v1/chat/completions with image_url data URLs), bound to loopback by default. Requests
// are answered one at a time on the server's thread (one model, one forward pass at a time).
#include <QHostAddress>
#include <QObject>
#include <QString>
#include <memory>

namespace mpa::vlm {
class VisionLanguageModel;
}

namespace mpa::serve {

struct ServeOptions
{
    QString apiKey;          // non-empty: every request needs "Authorization: Bearer <key>"
    int maxPromptTokens = 0; // 0: limits::kDefaultMaxPromptTokens
    int idleTimeoutMs = 30000;      // a connection silent this long is closed
    int maxConnections = 64;        // further connections are closed at once
    int requestTimeoutMs = 600000;  // generation stops after this (504)
};

// Every request is answered: malformed, oversized or hostile ones with a 4xx naming the
// problem (bounds in util/input_limits.h), failures inside the model with a 500; nothing a
// client sends ends the process.
class OpenAiServer
{
public:
    OpenAiServer(std::shared_ptr<vlm::VisionLanguageModel> model, const QString &modelName, const ServeOptions &options = {});
    ~OpenAiServer();
    // Returns the port actually bound (pass 0 for any free port), or throws.
    quint16 listen(const QHostAddress &address, quint16 port);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace mpa::serve
