// libFuzzer target: the safetensors header parser must turn any bytes into either tensor
// descriptions that lie inside the data area or an mpa::Error, never a crash or a hang.
// Build (clang only, not run in CI): sh packaging/build-fuzzers.sh, then
//   build-fuzz/fuzz_safetensors_header -max_total_time=60
#include "util/error.h"
#include "vlm/safetensors.h"

#include <QByteArray>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size < 8)
        return 0;
    // First 8 bytes: the claimed size of the data area; the rest: the header JSON.
    std::uint64_t dataSize = 0;
    for (int i = 7; i >= 0; --i)
        dataSize = (dataSize << 8) | data[i];
    dataSize %= (1u << 20);
    const QByteArray header(reinterpret_cast<const char *>(data + 8), static_cast<qsizetype>(size - 8));
    try {
        const auto tensors = mpa::vlm::SafetensorsFile::parseHeader(header, dataSize, QStringLiteral("fuzz"));
        for (const auto &t : tensors)
            if (t.end > dataSize || t.begin > t.end)
                std::abort(); // an accepted tensor must lie inside the data
    } catch (const mpa::Error &) {
    }
    return 0;
}
