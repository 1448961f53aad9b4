#pragma once
// `mpa serve`: an OpenAI-compatible HTTP server over the native runtime (GET /v1/models,
// POST /v1/chat/completions with image_url data URLs), bound to loopback by default. Requests
// are answered one at a time on the server's thread (one model, one forward pass at a time).
#include <QHostAddress>
#include <QObject>
#include <memory>

namespace mpa::vlm {
class VisionLanguageModel;
}

namespace mpa::serve {

class OpenAiServer
{
public:
    OpenAiServer(std::shared_ptr<vlm::VisionLanguageModel> model, const QString &modelName);
    ~OpenAiServer();
    // Returns the port actually bound (pass 0 for any free port), or throws.
    quint16 listen(const QHostAddress &address, quint16 port);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace mpa::serve
