#pragma once
// An OpenAI-compatible chat-completions client as a VlmBackend (vLLM, SGLang, Ollama, LM
// Studio, llama.cpp server, hosted APIs, `mpa serve`). Images travel as base64 data URLs,
// downscaled to maxImageSide; up to `concurrency` requests are in flight; 429, 5xx, network
// errors and timeouts are retried with exponential back-off; other 4xx errors (unknown model,
// bad key) fail the item at once with the server's message. The API key is read from an
// environment variable at request time and never stored or logged.
#include "backends/vlm_backend.h"

#include <QStringList>

namespace mpa::backends {

struct HttpBackendOptions
{
    QString baseUrl = QStringLiteral("http://127.0.0.1:8000/v1");
    QString model;                                    // empty: the first one /v1/models lists
    QString apiKeyEnv = QStringLiteral("OPENAI_API_KEY"); // the variable's name, not the key
    int maxImageSide = 1280;
    int concurrency = 4;
    int connectTimeoutMs = 15000;  // no connection within this: a failed attempt
    int timeoutMs = 120000;        // idle: no byte for this long (QNetworkRequest's transfer timeout)
    int totalTimeoutMs = 600000;   // the whole request, however slowly the server trickles
    int retries = 4;
    int backoffMs = 500; // doubles on each retry; a server's Retry-After (seconds) wins, up to 60 s
    // After this many requests in a row failed on the endpoint itself (connection refused,
    // timeouts, 5xx after retries), every further item fails at once ("circuit open"): a job
    // over a dead endpoint ends in seconds, not hours, and resumes later where it stopped.
    int circuitBreakerFailures = 8;
    bool requestLogprobs = true;
};

std::unique_ptr<VlmBackend> makeHttpBackend(const HttpBackendOptions &options);

// GET /v1/models: the served model ids (the "test connection" of the Models view).
QStringList listServedModels(const HttpBackendOptions &options);
// Throws a plain-language error unless `url` is an http(s):// address with a host ("localhost
// 8000" used to fail deep in Qt with 'Protocol "" is unknown').
void checkEndpointUrl(const QString &url);

} // namespace mpa::backends
