#pragma once
// Idefics3's image processor and prompt expansion (SmolVLM; transformers 4.47.1
// Idefics3ImageProcessor / Idefics3Processor), torch-free:
//  1. longest-edge resize to size.longest_edge, also upscaling (odd sides +1, cap 4096);
//  2. resize_for_vision_encoder: sides up to multiples of the tile size;
//  3. split into rows x cols tiles plus the global image (the whole image squashed to one
//     tile), or a single tile when the image is not larger than one;
//  4. (u8 / 255 - mean) / std in float32, channels first.
// Every resize is Pillow's LANCZOS (vlm/pil_resize.h).
#include "vlm/rgb_image.h"

#include <QString>
#include <array>
#include <vector>

namespace mpa::vlm {

struct Idefics3ProcessorConfig
{
    int longestEdge = 2048;  // preprocessor_config.json size.longest_edge
    int tileSize = 512;      // max_image_size.longest_edge (the vision encoder's image_size)
    bool doResize = true;
    bool doImageSplitting = true;
    int imageSeqLen = 64;    // processor_config.json: <image> tokens per tile
    std::array<float, 3> mean{0.5f, 0.5f, 0.5f};
    std::array<float, 3> std{0.5f, 0.5f, 0.5f};
    double rescaleFactor = 1.0 / 255.0;

    // preprocessor_config.json and processor_config.json of a model folder; values outside
    // sane bounds (tile not a positive size up to 4096, longest edge below the tile) are refused.
    static Idefics3ProcessorConfig load(const QString &dir);
};

struct Idefics3Sizes
{
    int stage1Height = 0, stage1Width = 0; // after the longest-edge resize
    int stage2Height = 0, stage2Width = 0; // after resize_for_vision_encoder
    int rows = 0, cols = 0;                // 0 x 0: not split
    int tiles() const { return rows * cols + 1; }
};

// The sizes an image of height x width goes through (no pixels touched: prompts and budgets).
Idefics3Sizes idefics3Sizes(int height, int width, const Idefics3ProcessorConfig &config);

struct Idefics3Image
{
    Idefics3Sizes sizes;
    RgbImage stage1, stage2;
    std::vector<RgbImage> tiles; // row-major crops, then the global image (or the single tile)
};

Idefics3Image splitIdefics3Image(const RgbImage &image, const Idefics3ProcessorConfig &config);

// Normalised tiles, [tiles, 3, T, T] row-major, appended to `out`.
void appendTilePixels(const std::vector<RgbImage> &tiles, const Idefics3ProcessorConfig &config, std::vector<float> &out);

// What one <image> in the prompt becomes for an image of rows x cols tiles.
QString idefics3ImagePrompt(int rows, int cols, int imageSeqLen);

} // namespace mpa::vlm
