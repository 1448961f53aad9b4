#pragma once
// The Qwen2-VL image processor: RGB, smart_resize (Python's round-half-to-even), Pillow's
// BICUBIC resampling of the uint8 image (ported rule for rule, so pixel values match the
// reference's slow processor), rescale + CLIP normalisation in float32, and patchify into
// rows of (channel, temporal 2, 14, 14) ordered by 2x2 merge windows. Torch-free.
#include "vlm/pil_resize.h"
#include "vlm/rgb_image.h"

#include <QString>
#include <array>
#include <cstdint>
#include <vector>

namespace mpa::vlm {

struct ImageProcessorConfig
{
    // Class defaults of Qwen2VLImageProcessor (a preprocessor_config.json overrides them).
    std::int64_t minPixels = 56 * 56;
    std::int64_t maxPixels = 28 * 28 * 1280;
    int patchSize = 14;
    int temporalPatchSize = 2;
    int mergeSize = 2;
    std::array<float, 3> mean{0.48145466f, 0.4578275f, 0.40821073f};
    std::array<float, 3> std{0.26862954f, 0.26130258f, 0.27577711f};
    double rescaleFactor = 1.0 / 255.0;

    // preprocessor_config.json from a model folder (or the file itself); min/max pixels are
    // read from "min_pixels"/"max_pixels", "size": {"shortest_edge", "longest_edge"} (pixel
    // counts despite the names) or "size": {"min_pixels", "max_pixels"}.
    static ImageProcessorConfig load(const QString &path);
    int factor() const { return patchSize * mergeSize; }
    int rowSize() const { return 3 * temporalPatchSize * patchSize * patchSize; }
};

// Refuses budgets outside [1, limits::kMaxBudgetPixels] or with min above max; `what` names
// where they came from (an option, a preprocessor_config.json).
void checkPixelBudget(std::int64_t minPixels, std::int64_t maxPixels, const QString &what);

// Target (height, width) for an image: multiples of factor within [minPixels, maxPixels].
std::array<int, 2> smartResize(int height, int width, const ImageProcessorConfig &config);


struct PatchedPixels
{
    std::vector<float> values; // rows x rowSize, row-major
    std::int64_t rows = 0;
    std::vector<std::array<std::int64_t, 3>> grids; // (t, h, w) per image / video
};

// One call for several images: their rows are concatenated in order.
PatchedPixels processImages(const std::vector<RgbImage> &images, const ImageProcessorConfig &config);
// Video frames (all the same size) -> one grid with t = ceil(frames / temporal patch).
PatchedPixels processVideo(const std::vector<RgbImage> &frames, const ImageProcessorConfig &config);

} // namespace mpa::vlm
