#pragma once
// An 8-bit RGB image in memory (HWC), what every image processor takes.
#include <QString>
#include <cstdint>
#include <vector>

namespace mpa::vlm {

struct RgbImage
{
    int height = 0;
    int width = 0;
    std::vector<std::uint8_t> pixels; // HWC, RGB
};

// Loads any format OpenCV decodes, converted to 8-bit RGB (alpha dropped as PIL's
// convert("RGB") does). Missing or undecodable files raise mpa::Error naming the file.
RgbImage loadRgbImage(const QString &path);

} // namespace mpa::vlm
