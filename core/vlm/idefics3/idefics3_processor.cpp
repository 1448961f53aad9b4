#include "vlm/idefics3/idefics3_processor.h"

#include "util/error.h"
#include "util/json_file.h"
#include "vlm/pil_resize.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <algorithm>
#include <cmath>

namespace mpa::vlm {

namespace {

int ceilTo(int v, int multiple)
{
    return static_cast<int>(std::ceil(static_cast<double>(v) / multiple)) * multiple;
}

// get_resize_output_image_size: _resize_output_size_rescale_to_max_len, then
// _resize_output_size_scale_below_upper_bound(4096). Python's int() truncates the doubles.
std::array<int, 2> longestEdgeSize(int height, int width, int longest)
{
    const double aspect = static_cast<double>(width) / height;
    int h = height, w = width;
    if (width >= height) {
        w = longest;
        h = static_cast<int>(w / aspect);
        if (h % 2 != 0)
            ++h;
    } else {
        h = longest;
        w = static_cast<int>(h * aspect);
        if (w % 2 != 0)
            ++w;
    }
    h = std::max(h, 1);
    w = std::max(w, 1);
    const double aspect2 = static_cast<double>(w) / h;
    if (w >= h && w > 4096) {
        w = 4096;
        h = static_cast<int>(w / aspect2);
    } else if (h > w && h > 4096) {
        h = 4096;
        w = static_cast<int>(h * aspect2);
    }
    return {std::max(h, 1), std::max(w, 1)};
}

// resize_for_vision_encoder: int(W2 / ar) uses the stage-1 ratio.
std::array<int, 2> visionEncoderSize(int height, int width, int tile)
{
    const double aspect = static_cast<double>(width) / height;
    if (width >= height) {
        const int w = ceilTo(width, tile);
        return {ceilTo(static_cast<int>(w / aspect), tile), w};
    }
    const int h = ceilTo(height, tile);
    return {h, ceilTo(static_cast<int>(h * aspect), tile)};
}

RgbImage resized(const RgbImage &image, int height, int width)
{
    return (height == image.height && width == image.width) ? image : resizePil(image, height, width, PilFilter::Lanczos);
}

RgbImage crop(const RgbImage &image, int y, int x, int h, int w)
{
    RgbImage out{h, w, std::vector<std::uint8_t>(static_cast<std::size_t>(h) * w * 3)};
    for (int r = 0; r < h; ++r)
        std::copy_n(&image.pixels[(static_cast<std::size_t>(y + r) * image.width + x) * 3], static_cast<std::size_t>(w) * 3,
                    &out.pixels[static_cast<std::size_t>(r) * w * 3]);
    return out;
}

} // namespace

Idefics3ProcessorConfig Idefics3ProcessorConfig::load(const QString &dir)
{
    Idefics3ProcessorConfig c;
    const QString pre = QDir(dir).filePath(QStringLiteral("preprocessor_config.json"));
    if (QFileInfo::exists(pre)) {
        const QJsonObject o = json::readFile(pre).object();
        auto edge = [&](const char *key, int &target) {
            const QJsonValue v = o.value(QLatin1String(key)).toObject().value(QStringLiteral("longest_edge"));
            if (v.isUndefined())
                return;
            if (!v.isDouble() || v.toDouble() < 1 || v.toDouble() > 8192 || v.toDouble() != std::floor(v.toDouble()))
                throw Error(QStringLiteral("%1: \"%2\".longest_edge must be an integer between 1 and 8192").arg(pre, QLatin1String(key)));
            target = v.toInt();
        };
        edge("size", c.longestEdge);
        edge("max_image_size", c.tileSize);
        c.doResize = o.value(QStringLiteral("do_resize")).toBool(true);
        c.doImageSplitting = o.value(QStringLiteral("do_image_splitting")).toBool(true);
        if (o.value(QStringLiteral("resample")).toInt(1) != 1)
            throw Error(QStringLiteral("%1: resample %2 is not supported (1 = LANCZOS, what Idefics3 uses)").arg(pre).arg(o.value(QStringLiteral("resample")).toInt()));
        auto triple = [&](const char *key, std::array<float, 3> &target) {
            const QJsonArray a = o.value(QLatin1String(key)).toArray();
            if (a.size() == 3)
                for (int i = 0; i < 3; ++i)
                    target[static_cast<std::size_t>(i)] = static_cast<float>(a.at(i).toDouble());
        };
        triple("image_mean", c.mean);
        triple("image_std", c.std);
        c.rescaleFactor = o.value(QStringLiteral("rescale_factor")).toDouble(c.rescaleFactor);
        for (float s : c.std)
            if (!(s > 0))
                throw Error(QStringLiteral("%1: image_std must be positive").arg(pre));
    }
    const QString proc = QDir(dir).filePath(QStringLiteral("processor_config.json"));
    if (QFileInfo::exists(proc)) {
        const QJsonValue v = json::readFile(proc).object().value(QStringLiteral("image_seq_len"));
        if (!v.isUndefined() && (!v.isDouble() || v.toInt() < 1 || v.toInt() > 65536))
            throw Error(QStringLiteral("%1: image_seq_len must be an integer between 1 and 65536").arg(proc));
        if (!v.isUndefined())
            c.imageSeqLen = v.toInt();
    }
    return c;
}

Idefics3Sizes idefics3Sizes(int height, int width, const Idefics3ProcessorConfig &c)
{
    Idefics3Sizes s;
    if (height < 1 || width < 1)
        throw Error(QStringLiteral("image of %1 x %2 pixels has no area").arg(height).arg(width));
    auto [h1, w1] = c.doResize ? longestEdgeSize(height, width, c.longestEdge) : std::array<int, 2>{height, width};
    s.stage1Height = h1;
    s.stage1Width = w1;
    if (!c.doImageSplitting) {
        s.stage2Height = s.stage2Width = c.tileSize;
        return s;
    }
    const auto [h2, w2] = visionEncoderSize(h1, w1, c.tileSize);
    s.stage2Height = h2;
    s.stage2Width = w2;
    if (h2 > c.tileSize || w2 > c.tileSize) {
        s.rows = (h2 + c.tileSize - 1) / c.tileSize;
        s.cols = (w2 + c.tileSize - 1) / c.tileSize;
    }
    return s;
}

Idefics3Image splitIdefics3Image(const RgbImage &image, const Idefics3ProcessorConfig &c)
{
    Idefics3Image out;
    out.sizes = idefics3Sizes(image.height, image.width, c);
    const Idefics3Sizes &s = out.sizes;
    out.stage1 = resized(image, s.stage1Height, s.stage1Width);
    out.stage2 = resized(out.stage1, s.stage2Height, s.stage2Width);
    if (s.rows == 0) {
        out.tiles.push_back(out.stage2);
        return out;
    }
    // split_image: ceil-sized crops (the stage-2 sides are multiples of the tile, so exact).
    const int th = (s.stage2Height + s.rows - 1) / s.rows, tw = (s.stage2Width + s.cols - 1) / s.cols;
    for (int r = 0; r < s.rows; ++r)
        for (int col = 0; col < s.cols; ++col) {
            const int y = r * th, x = col * tw;
            out.tiles.push_back(crop(out.stage2, y, x, std::min(th, s.stage2Height - y), std::min(tw, s.stage2Width - x)));
        }
    out.tiles.push_back(resized(out.stage2, c.tileSize, c.tileSize));
    return out;
}

void appendTilePixels(const std::vector<RgbImage> &tiles, const Idefics3ProcessorConfig &c, std::vector<float> &out)
{
    for (const RgbImage &t : tiles) {
        if (t.height != c.tileSize || t.width != c.tileSize)
            throw Error(QStringLiteral("internal: a %1 x %2 tile is not %3 x %3").arg(t.height).arg(t.width).arg(c.tileSize));
        const std::size_t plane = static_cast<std::size_t>(t.height) * t.width, base = out.size();
        out.resize(base + 3 * plane);
        for (std::size_t i = 0; i < plane; ++i)
            for (int ch = 0; ch < 3; ++ch) {
                // The product in double (numpy's rescale), the rest in float32.
                const float scaled = static_cast<float>(t.pixels[i * 3 + static_cast<std::size_t>(ch)] * c.rescaleFactor);
                out[base + static_cast<std::size_t>(ch) * plane + i] = (scaled - c.mean[static_cast<std::size_t>(ch)]) / c.std[static_cast<std::size_t>(ch)];
            }
    }
}

QString idefics3ImagePrompt(int rows, int cols, int imageSeqLen)
{
    const QString image = QStringLiteral("<image>").repeated(imageSeqLen);
    const QString fake = QStringLiteral("<fake_token_around_image>");
    if (rows == 0 || cols == 0)
        return fake + QStringLiteral("<global-img>") + image + fake;
    QString out;
    for (int r = 1; r <= rows; ++r) {
        for (int c = 1; c <= cols; ++c)
            out += fake + QStringLiteral("<row_%1_col_%2>").arg(r).arg(c) + image;
        out += QLatin1Char('\n');
    }
    return out + QLatin1Char('\n') + fake + QStringLiteral("<global-img>") + image + fake;
}

} // namespace mpa::vlm
