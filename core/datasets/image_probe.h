#pragma once
// Fast facts about one image file without decoding its pixels: format and dimensions from
// the header, and a truncation check from the trailer (JPEG EOI, PNG IEND, GIF trailer).
// Decoding every pixel of 100,000 images would take minutes; a header and trailer read is
// two small reads per file. Formats without a parsed header fall back to OpenCV.
#include "store/records.h"

#include <QByteArray>
#include <QString>
#include <array>
#include <optional>

namespace mpa::datasets {

// Fills everything but `path`'s canonicalisation: status, format, size, dimensions,
// sha256 of the content (when hashContent), mtime, and an error text for bad files.
store::ImageRecord probeImage(const QString &path, bool hashContent = true);

bool hasImageExtension(const QString &fileName);

// Width and height from the header of an image held in memory (JPEG, PNG, GIF, BMP, WebP,
// TIFF) without decoding it; nullopt for other formats.
std::optional<std::array<int, 2>> imageHeaderSize(const QByteArray &bytes);
// Refuses (mpa::Error naming `what`) empty data, files beyond limits::kMaxImageFileBytes and
// headers claiming more than limits::kMaxImagePixels, before any pixel is decoded.
void checkImageBytes(const QByteArray &bytes, const QString &what);

} // namespace mpa::datasets
