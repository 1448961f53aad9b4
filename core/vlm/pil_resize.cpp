#include "vlm/pil_resize.h"

#include <algorithm>
#include <cmath>

namespace mpa::vlm {

namespace {

// Keys cubic with a = -0.5, as Pillow's bicubic_filter (support 2).
double bicubic(double x)
{
    constexpr double a = -0.5;
    x = std::abs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

double sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x *= M_PI;
    return std::sin(x) / x;
}

// Pillow's lanczos_filter (support 3): sinc(x) * sinc(x / 3) on [-3, 3).
double lanczos(double x)
{
    return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3.0) : 0.0;
}

struct Coefficients
{
    std::vector<int> start, count;
    std::vector<std::int32_t> weights; // maxTaps per output
    int maxTaps = 0;
};

// precompute_coeffs + normalize_coeffs_8bpc (PRECISION_BITS = 22).
Coefficients coefficients(int inSize, int outSize, PilFilter filter)
{
    const double scale = static_cast<double>(inSize) / outSize;
    const double filterScale = std::max(scale, 1.0); // downscaling widens the kernel (antialiasing)
    const double support = (filter == PilFilter::Lanczos ? 3.0 : 2.0) * filterScale;
    const double ss = 1.0 / filterScale;
    Coefficients c;
    c.maxTaps = static_cast<int>(std::ceil(support)) * 2 + 1;
    c.start.resize(static_cast<std::size_t>(outSize));
    c.count.resize(static_cast<std::size_t>(outSize));
    c.weights.assign(static_cast<std::size_t>(outSize) * static_cast<std::size_t>(c.maxTaps), 0);
    std::vector<double> k(static_cast<std::size_t>(c.maxTaps));
    for (int o = 0; o < outSize; ++o) {
        const double centre = (o + 0.5) * scale;
        const int xmin = std::max(static_cast<int>(centre - support + 0.5), 0);
        const int xmax = std::min(static_cast<int>(centre + support + 0.5), inSize) - xmin;
        double sum = 0.0;
        for (int x = 0; x < xmax; ++x) {
            const double t = (x + xmin - centre + 0.5) * ss;
            const double w = filter == PilFilter::Lanczos ? lanczos(t) : bicubic(t);
            k[static_cast<std::size_t>(x)] = w;
            sum += w;
        }
        for (int x = 0; x < xmax; ++x) {
            const double w = sum != 0.0 ? k[static_cast<std::size_t>(x)] / sum : k[static_cast<std::size_t>(x)];
            const double scaled = w * (1 << 22);
            c.weights[static_cast<std::size_t>(o) * static_cast<std::size_t>(c.maxTaps) + static_cast<std::size_t>(x)] =
                static_cast<std::int32_t>(w < 0 ? scaled - 0.5 : scaled + 0.5);
        }
        c.start[static_cast<std::size_t>(o)] = xmin;
        c.count[static_cast<std::size_t>(o)] = std::max(xmax, 0);
    }
    return c;
}

std::uint8_t clip8(std::int64_t v)
{
    v >>= 22;
    return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

} // namespace

RgbImage resizePil(const RgbImage &in, int outH, int outW, PilFilter filter)
{
    RgbImage cur = in;
    if (outW != in.width) {
        const Coefficients c = coefficients(in.width, outW, filter);
        RgbImage h{in.height, outW, std::vector<std::uint8_t>(static_cast<std::size_t>(in.height) * outW * 3)};
        for (int y = 0; y < in.height; ++y) {
            const std::uint8_t *row = &cur.pixels[static_cast<std::size_t>(y) * in.width * 3];
            for (int x = 0; x < outW; ++x) {
                const std::int32_t *w = &c.weights[static_cast<std::size_t>(x) * static_cast<std::size_t>(c.maxTaps)];
                const int s = c.start[static_cast<std::size_t>(x)];
                for (int ch = 0; ch < 3; ++ch) {
                    std::int64_t acc = 1 << 21;
                    for (int t = 0; t < c.count[static_cast<std::size_t>(x)]; ++t)
                        acc += static_cast<std::int64_t>(row[(s + t) * 3 + ch]) * w[t];
                    h.pixels[(static_cast<std::size_t>(y) * outW + x) * 3 + ch] = clip8(acc);
                }
            }
        }
        cur = std::move(h);
    }
    if (outH != in.height) {
        const Coefficients c = coefficients(in.height, outH, filter);
        RgbImage v{outH, cur.width, std::vector<std::uint8_t>(static_cast<std::size_t>(outH) * cur.width * 3)};
        for (int y = 0; y < outH; ++y) {
            const std::int32_t *w = &c.weights[static_cast<std::size_t>(y) * static_cast<std::size_t>(c.maxTaps)];
            const int s = c.start[static_cast<std::size_t>(y)];
            for (int x = 0; x < cur.width * 3; ++x) {
                std::int64_t acc = 1 << 21;
                for (int t = 0; t < c.count[static_cast<std::size_t>(y)]; ++t)
                    acc += static_cast<std::int64_t>(cur.pixels[static_cast<std::size_t>(s + t) * cur.width * 3 + x]) * w[t];
                v.pixels[static_cast<std::size_t>(y) * cur.width * 3 + x] = clip8(acc);
            }
        }
        cur = std::move(v);
    }
    return cur;
}

} // namespace mpa::vlm
