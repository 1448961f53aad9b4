#include "backends/backend_factory.h"

namespace mpa::backends {

std::unique_ptr<VlmBackend> makeBackendFor(const QString &location, const NativeBackendOptions &native, const HttpBackendOptions &http)
{
    if (location.startsWith(QLatin1String("http://")) || location.startsWith(QLatin1String("https://"))) {
        HttpBackendOptions o = http;
        o.baseUrl = location;
        return makeHttpBackend(o);
    }
    return makeNativeBackend(location, native);
}

} // namespace mpa::backends
