#include "backends/launch_environment.h"

#include "util/input_limits.h"

#include <fstream>
#include <string>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

namespace mpa::backends {

const char *openBlasCoreForThisCpu()
{
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line, flags, vendor;
    while (std::getline(cpuinfo, line)) {
        if (vendor.empty() && line.rfind("vendor_id", 0) == 0)
            vendor = line;
        if (line.rfind("flags", 0) == 0) {
            flags = " " + line.substr(line.find(':') + 1) + " ";
            break;
        }
    }
    auto has = [&](const char *f) { return flags.find(std::string(" ") + f + " ") != std::string::npos; };
    // Only Intel AVX-512 parts are misdetected; AMD (Zen) is recognised and keeps its choice.
    if (vendor.find("GenuineIntel") == std::string::npos || !has("avx512f") || !has("avx512bw") || !has("avx512vl"))
        return nullptr;
    return has("avx512_bf16") ? "Cooperlake" : "SkylakeX";
}

void ensureLaunchEnvironment(int argc, char *argv[])
{
    (void)argc;
    if (std::getenv("MPA_LAUNCH_ENV_APPLIED") || std::getenv("MPA_NO_REEXEC"))
        return;
    bool changed = false;
    if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT")) {
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        changed = true;
    }
    const char *tunables = std::getenv("GLIBC_TUNABLES");
    if (!tunables || !std::strstr(tunables, "glibc.malloc.hugetlb")) {
        std::string value = tunables && *tunables ? std::string(tunables) + ":glibc.malloc.hugetlb=1" : "glibc.malloc.hugetlb=1";
        setenv("GLIBC_TUNABLES", value.c_str(), 1);
        changed = true;
    }
    // OpenBLAS 0.3.21 (Debian 12) does not recognise AVX-512 Xeons newer than it and falls back
    // to its generic kernels: fp32 2048^3 matmul 44 GFLOP/s instead of ~300 (design.md).
    if (!std::getenv("OPENBLAS_CORETYPE")) {
        if (const char *core = openBlasCoreForThisCpu()) {
            setenv("OPENBLAS_CORETYPE", core, 1);
            changed = true;
        }
    }
    // OpenBLAS's pthread workers spin for 2^28 cycles (~0.1 s) after each product before they
    // sleep, and on 2 cores they take the cores from libtorch's OpenMP threads running the
    // elementwise ops in between: the minimum (2^4) made a 4-block vision tower 8% faster.
    if (!std::getenv("OPENBLAS_THREAD_TIMEOUT")) {
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
        changed = true;
    }
    // OpenCV's own decode bound, for formats whose header MPA Studio does not parse itself.
    if (!std::getenv("OPENCV_IO_MAX_IMAGE_PIXELS")) {
        setenv("OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(limits::kMaxImagePixels).c_str(), 1);
        changed = true;
    }
    setenv("MPA_LAUNCH_ENV_APPLIED", "1", 1);
    if (changed)
        execv("/proc/self/exe", argv); // returns only on failure: then run with what we have
}

} // namespace mpa::backends
