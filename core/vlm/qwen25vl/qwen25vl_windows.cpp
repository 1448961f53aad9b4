#include "vlm/qwen25vl/qwen25vl_windows.h"

#include <algorithm>

namespace mpa::vlm {

VisionWindows visionWindows(const std::vector<std::array<std::int64_t, 3>> &grids, const Qwen2VLVisionConfig &vision)
{
    // transformers pads the grid to whole windows with -100 and drops the padding (and the
    // empty windows, via unique_consecutive on the cumulative lengths); visiting only the
    // tokens that exist gives the same order and lengths.
    VisionWindows w;
    const std::int64_t merge = vision.spatialMergeSize, unit = merge * merge, side = vision.windowMergedTokens();
    std::int64_t base = 0;
    for (const auto &g : grids) {
        const std::int64_t t = g[0], lh = g[1] / merge, lw = g[2] / merge;
        for (std::int64_t ti = 0; ti < t; ++ti) {
            w.slicePatches.push_back(g[1] * g[2]);
            for (std::int64_t r0 = 0; r0 < lh; r0 += side)
                for (std::int64_t c0 = 0; c0 < lw; c0 += side) {
                    const std::int64_t r1 = std::min(lh, r0 + side), c1 = std::min(lw, c0 + side);
                    for (std::int64_t r = r0; r < r1; ++r)
                        for (std::int64_t c = c0; c < c1; ++c)
                            w.order.push_back(base + ti * lh * lw + r * lw + c);
                    w.windowPatches.push_back((r1 - r0) * (c1 - c0) * unit);
                }
        }
        base += t * lh * lw;
    }
    return w;
}

} // namespace mpa::vlm
