#pragma once
// Qwen2.5-VL's attention windows (get_window_index): the order in which the vision blocks see
// the merged tokens, and the windows' lengths. Torch-free, so it is checked on its own.
#include "vlm/model_config.h"

#include <array>
#include <cstdint>
#include <vector>

namespace mpa::vlm {

struct VisionWindows
{
    // Merged-token (spatial_merge x spatial_merge patch group) indices in window order: per
    // image and temporal slice, windows of windowMergedTokens() x windowMergedTokens() tokens
    // tile the grid from the top-left (the last row and column of windows may be partial),
    // visited row-major, tokens row-major inside each; indices continue across images.
    std::vector<std::int64_t> order;
    std::vector<std::int64_t> windowPatches; // patches per window, in order (never 0)
    std::vector<std::int64_t> slicePatches;  // patches per image / temporal slice (full attention)
};

VisionWindows visionWindows(const std::vector<std::array<std::int64_t, 3>> &grids, const Qwen2VLVisionConfig &vision);

} // namespace mpa::vlm
