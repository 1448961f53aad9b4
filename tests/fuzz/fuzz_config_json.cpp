// libFuzzer target: any config.json is either a Qwen2-VL family or Idefics3 configuration
// within the bounds of util/input_limits.h or an mpa::Error; the tensor layout of an accepted
// one is computed without running out of memory (num_hidden_layers 1e9 used to grow until the
// kernel killed the process).
#include "fuzz_input_file.h"
#include "util/error.h"
#include "vlm/idefics3/idefics3_config.h"
#include "vlm/model_config.h"
#include "vlm/qwen2vl/qwen2vl_weights.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QString path = fuzzInputFile(data, size, "config.json");
    try {
        const auto c = mpa::vlm::Qwen2VLConfig::load(path);
        if (c.numLayers > 1024 || c.vision.depth > 1024)
            std::abort();
        (void)c.parameterCount();
        if (c.numLayers <= 64 && c.vision.depth <= 64)
            (void)mpa::vlm::qwen2vlExpectedShapes(c);
    } catch (const mpa::Error &) {
    }
    try {
        const auto c = mpa::vlm::Idefics3Config::load(path);
        if (c.numLayers > 1024 || c.vision.numLayers > 1024)
            std::abort();
        if (c.numLayers <= 64 && c.vision.numLayers <= 64)
            (void)c.parameterCount();
    } catch (const mpa::Error &) {
    }
    return 0;
}
