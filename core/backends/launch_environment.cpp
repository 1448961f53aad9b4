#include "backends/launch_environment.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

namespace mpa::backends {

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
    setenv("MPA_LAUNCH_ENV_APPLIED", "1", 1);
    if (changed)
        execv("/proc/self/exe", argv); // returns only on failure: then run with what we have
}

} // namespace mpa::backends
