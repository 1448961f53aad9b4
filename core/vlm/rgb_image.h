#pragma once
// An 8-bit RGB image in memory (HWC), what every image processor takes.
#include <QByteArray>
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
// Regular files only, the header checked against util/input_limits.h before decoding.
RgbImage loadRgbImage(const QString &path);
// The same for an image held in memory (an HTTP request's data URL); `what` names it in errors.
RgbImage decodeRgbImage(const QByteArray &bytes, const QString &what);

} // namespace mpa::vlm
