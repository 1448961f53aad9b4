#pragma once
// A backend for a model location: a folder (the native runtime) or an http(s):// endpoint of
// an OpenAI-compatible server.
#include "backends/http_backend.h"
#include "backends/vlm_backend.h"

namespace mpa::backends {

std::unique_ptr<VlmBackend> makeBackendFor(const QString &location, const NativeBackendOptions &native,
                                           const HttpBackendOptions &http = {});

} // namespace mpa::backends
