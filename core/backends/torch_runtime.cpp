#include "backends/torch_runtime.h"

#include <QThread>
#include <QtGlobal>

#include <torch/torch.h>
#include <torch/version.h>

namespace mpa::backends {

void initialiseTorchThreads()
{
    bool ok = false;
    int threads = qEnvironmentVariableIntValue("MPA_THREADS", &ok);
    if (!ok || threads <= 0)
        threads = std::max(1, QThread::idealThreadCount());
    if (torch::get_num_threads() != threads)
        torch::set_num_threads(threads);
}

TorchRuntimeInfo torchRuntimeInfo()
{
    TorchRuntimeInfo info;
    info.torchVersion = QString::fromLatin1(TORCH_VERSION);
    info.cudaAvailable = torch::cuda::is_available();
    info.cudaDevices = info.cudaAvailable ? static_cast<int>(torch::cuda::device_count()) : 0;
    info.threads = torch::get_num_threads();
    return info;
}

QString describeTorchRuntime()
{
    const TorchRuntimeInfo i = torchRuntimeInfo();
    const QByteArray blasCore = qgetenv("OPENBLAS_CORETYPE");
    return QStringLiteral("libtorch %1, %2, %3 CPU threads, OpenBLAS core %4")
        .arg(i.torchVersion,
             i.cudaAvailable ? QStringLiteral("CUDA (%1 device%2)").arg(i.cudaDevices).arg(i.cudaDevices == 1 ? "" : "s")
                             : QStringLiteral("CPU only"))
        .arg(i.threads)
        .arg(blasCore.isEmpty() ? QStringLiteral("as detected (OPENBLAS_CORETYPE unset)") : QString::fromLatin1(blasCore));
}

} // namespace mpa::backends
