#pragma once
// What the libtorch backend runs on. Only this header is public; torch stays inside the .cpp
// (Qt's keywords and libtorch headers do not mix, see design.md).
#include <QString>

namespace mpa::backends {

struct TorchRuntimeInfo
{
    QString torchVersion;
    bool cudaAvailable = false;
    int cudaDevices = 0;
    int threads = 0;
};

// Sets libtorch's intra-op threads: MPA_THREADS if set, else the hardware concurrency
// (Debian's libtorch starts with 1 thread on some machines). Idempotent.
void initialiseTorchThreads();
TorchRuntimeInfo torchRuntimeInfo();
QString describeTorchRuntime();

} // namespace mpa::backends
