#pragma once
// Pillow's Image.resize on 8-bit RGB images, ported rule for rule (Pillow 9.4 Resample.c:
// precompute_coeffs, normalize_coeffs_8bpc with 22-bit fixed point, horizontal pass first and
// rounded to uint8, then vertical; a pass is skipped when its size does not change), so the
// processors' pixel values match the reference's exactly. Qwen2-VL's processor uses BICUBIC,
// Idefics3's (SmolVLM) LANCZOS. OpenCV's and torchvision's filters differ and would not match.
#include "vlm/rgb_image.h"

namespace mpa::vlm {

enum class PilFilter { Bicubic, Lanczos };

RgbImage resizePil(const RgbImage &image, int height, int width, PilFilter filter);
inline RgbImage resizeBicubicPil(const RgbImage &image, int height, int width) { return resizePil(image, height, width, PilFilter::Bicubic); }

} // namespace mpa::vlm
