#pragma once
// Fast facts about one image file without decoding its pixels: format and dimensions from
// the header, and a truncation check from the trailer (JPEG EOI, PNG IEND, GIF trailer).
// Decoding every pixel of 100,000 images would take minutes; a header and trailer read is
// two small reads per file. Formats without a parsed header fall back to OpenCV.
#include "store/records.h"

#include <QString>

namespace mpa::datasets {

// Fills everything but `path`'s canonicalisation: status, format, size, dimensions,
// sha256 of the content (when hashContent), mtime, and an error text for bad files.
store::ImageRecord probeImage(const QString &path, bool hashContent = true);

bool hasImageExtension(const QString &fileName);

} // namespace mpa::datasets
