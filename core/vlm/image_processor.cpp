#include "vlm/image_processor.h"

#include "vlm/pil_resize.h"

#include "util/error.h"
#include "util/json_file.h"
#include "util/input_limits.h"
#include "datasets/image_probe.h"

#include <QFile>
#include <QFileInfo>
#include <QDir>
#include <QJsonArray>
#include <QJsonObject>
#include <cfenv>
#include <cmath>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace mpa::vlm {

RgbImage decodeRgbImage(const QByteArray &bytes, const QString &what)
{
    // The header is checked before OpenCV allocates anything: a few bytes may claim gigapixels.
    datasets::checkImageBytes(bytes, what);
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char *>(bytes.constData()));
    cv::Mat img;
    try {
        img = cv::imdecode(raw, cv::IMREAD_COLOR);
        if (!img.empty())
            cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
    } catch (const cv::Exception &e) {
        throw Error(QStringLiteral("%1: not a decodable image (%2)").arg(what, QString::fromStdString(e.err)));
    } catch (const std::bad_alloc &) {
        throw Error(QStringLiteral("%1: out of memory while decoding the image").arg(what));
    }
    if (img.empty())
        throw Error(QStringLiteral("%1: not a decodable image (corrupt, truncated or unsupported format)").arg(what));
    RgbImage out;
    out.height = img.rows;
    out.width = img.cols;
    out.pixels.assign(img.data, img.data + static_cast<std::size_t>(img.total()) * 3);
    return out;
}

RgbImage loadRgbImage(const QString &path)
{
    const QFileInfo info(path);
    if (!info.exists())
        throw Error(QStringLiteral("%1: image not found").arg(path));
    if (!info.isFile()) // a FIFO or device would block the job forever
        throw Error(QStringLiteral("%1: not a regular file").arg(path));
    if (info.size() > limits::kMaxImageFileBytes)
        throw Error(QStringLiteral("%1: %2 MB is beyond the %3 MB image file limit").arg(path).arg(info.size() >> 20).arg(limits::kMaxImageFileBytes >> 20));
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("%1: cannot read: %2").arg(path, f.errorString()));
    // Decoding from memory keeps non-ASCII file names working on every platform.
    return decodeRgbImage(f.readAll(), path);
}

void checkPixelBudget(std::int64_t minPixels, std::int64_t maxPixels, const QString &what)
{
    if (minPixels < 1 || maxPixels < 1 || minPixels > limits::kMaxBudgetPixels || maxPixels > limits::kMaxBudgetPixels)
        throw Error(QStringLiteral("%1: image budget min %2 / max %3 pixels is outside 1..%4").arg(what).arg(minPixels).arg(maxPixels).arg(limits::kMaxBudgetPixels));
    if (minPixels > maxPixels)
        throw Error(QStringLiteral("%1: min_pixels %2 is above max_pixels %3").arg(what).arg(minPixels).arg(maxPixels));
}

ImageProcessorConfig ImageProcessorConfig::load(const QString &pathIn)
{
    const QString path = QFileInfo(pathIn).isDir() ? QDir(pathIn).filePath(QStringLiteral("preprocessor_config.json")) : pathIn;
    const QJsonObject o = json::readFile(path).object();
    ImageProcessorConfig c;
    auto number = [&](const QJsonObject &obj, const char *key, std::int64_t &target) {
        const QJsonValue v = obj.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            return;
        if (!v.isDouble() || v.toDouble() <= 0)
            throw Error(QStringLiteral("%1: \"%2\" must be a positive number").arg(path, QLatin1String(key)));
        target = static_cast<std::int64_t>(v.toDouble());
    };
    const QJsonObject size = o.value(QStringLiteral("size")).toObject();
    number(size, "shortest_edge", c.minPixels);
    number(size, "longest_edge", c.maxPixels);
    number(size, "min_pixels", c.minPixels);
    number(size, "max_pixels", c.maxPixels);
    number(o, "min_pixels", c.minPixels);
    number(o, "max_pixels", c.maxPixels);
    std::int64_t v = 0;
    if ((v = 0, number(o, "patch_size", v), v))
        c.patchSize = static_cast<int>(v);
    if ((v = 0, number(o, "temporal_patch_size", v), v))
        c.temporalPatchSize = static_cast<int>(v);
    if ((v = 0, number(o, "merge_size", v), v))
        c.mergeSize = static_cast<int>(v);
    for (const char *key : {"image_mean", "image_std"}) {
        const QJsonArray a = o.value(QLatin1String(key)).toArray();
        if (a.isEmpty())
            continue;
        if (a.size() != 3)
            throw Error(QStringLiteral("%1: \"%2\" must have 3 values").arg(path, QLatin1String(key)));
        auto &target = QLatin1String(key) == QLatin1String("image_mean") ? c.mean : c.std;
        for (int i = 0; i < 3; ++i)
            target[static_cast<std::size_t>(i)] = static_cast<float>(a.at(i).toDouble());
    }
    if (o.contains(QStringLiteral("rescale_factor")))
        c.rescaleFactor = o.value(QStringLiteral("rescale_factor")).toDouble();
    checkPixelBudget(c.minPixels, c.maxPixels, path);
    if (c.patchSize < 1 || c.patchSize > 1024 || c.mergeSize < 1 || c.mergeSize > 16 || c.temporalPatchSize < 1 || c.temporalPatchSize > 16)
        throw Error(QStringLiteral("%1: patch_size, merge_size and temporal_patch_size must be small positive integers").arg(path));
    return c;
}

std::array<int, 2> smartResize(int height, int width, const ImageProcessorConfig &c)
{
    const int factor = c.factor();
    if (height < factor || width < factor)
        throw Error(QStringLiteral("image of %1x%2 pixels is smaller than %3 pixels on a side").arg(width).arg(height).arg(factor));
    if (std::max(height, width) / static_cast<double>(std::min(height, width)) > 200)
        throw Error(QStringLiteral("image of %1x%2 pixels: aspect ratio above 200").arg(width).arg(height));
    // Python's round() is half-to-even: nearbyint under the default rounding mode.
    std::fesetround(FE_TONEAREST);
    int h = static_cast<int>(std::nearbyint(height / static_cast<double>(factor))) * factor;
    int w = static_cast<int>(std::nearbyint(width / static_cast<double>(factor))) * factor;
    if (static_cast<std::int64_t>(h) * w > c.maxPixels) {
        const double beta = std::sqrt(static_cast<double>(height) * width / static_cast<double>(c.maxPixels));
        h = std::max(factor, static_cast<int>(std::floor(height / beta / factor)) * factor);
        w = std::max(factor, static_cast<int>(std::floor(width / beta / factor)) * factor);
    } else if (static_cast<std::int64_t>(h) * w < c.minPixels) {
        const double beta = std::sqrt(static_cast<double>(c.minPixels) / (static_cast<double>(height) * width));
        h = static_cast<int>(std::ceil(height * beta / factor)) * factor;
        w = static_cast<int>(std::ceil(width * beta / factor)) * factor;
    }
    return {h, w};
}

namespace {

// Appends the rows of one (t, h, w) grid made from `frames` (already resized, T a multiple
// of the temporal patch size).
void patchify(const std::vector<const RgbImage *> &frames, const ImageProcessorConfig &c, PatchedPixels &out)
{
    const int P = c.patchSize, M = c.mergeSize, T = c.temporalPatchSize;
    const int H = frames.front()->height, W = frames.front()->width;
    const int gt = static_cast<int>(frames.size()) / T, gh = H / P, gw = W / P;
    // Normalised planes per frame: x = (float32(u8 * (1/255)) - mean) / std, in float32.
    std::vector<std::vector<float>> planes;
    for (const RgbImage *f : frames) {
        std::vector<float> p(static_cast<std::size_t>(3) * H * W);
        for (int y = 0; y < H; ++y)
            for (int x = 0; x < W; ++x)
                for (int ch = 0; ch < 3; ++ch) {
                    const float scaled = static_cast<float>(f->pixels[(static_cast<std::size_t>(y) * W + x) * 3 + ch] * c.rescaleFactor);
                    p[(static_cast<std::size_t>(ch) * H + y) * W + x] = (scaled - c.mean[static_cast<std::size_t>(ch)]) / c.std[static_cast<std::size_t>(ch)];
                }
        planes.push_back(std::move(p));
    }
    const int rowSize = c.rowSize();
    const std::size_t base = out.values.size();
    out.values.resize(base + static_cast<std::size_t>(gt) * gh * gw * rowSize);
    float *dst = out.values.data() + base;
    for (int t = 0; t < gt; ++t)
        for (int bh = 0; bh < gh / M; ++bh)
            for (int bw = 0; bw < gw / M; ++bw)
                for (int ih = 0; ih < M; ++ih)
                    for (int iw = 0; iw < M; ++iw) {
                        const int py = (bh * M + ih) * P, px = (bw * M + iw) * P;
                        for (int ch = 0; ch < 3; ++ch)
                            for (int tt = 0; tt < T; ++tt) {
                                const std::vector<float> &plane = planes[static_cast<std::size_t>(t * T + tt)];
                                for (int y = 0; y < P; ++y) {
                                    const float *src = &plane[(static_cast<std::size_t>(ch) * H + py + y) * W + px];
                                    std::copy(src, src + P, dst);
                                    dst += P;
                                }
                            }
                    }
    out.rows += static_cast<std::int64_t>(gt) * gh * gw;
    out.grids.push_back({gt, gh, gw});
}

RgbImage toTargetSize(const RgbImage &img, const ImageProcessorConfig &c)
{
    const auto [h, w] = smartResize(img.height, img.width, c);
    return (h == img.height && w == img.width) ? img : resizeBicubicPil(img, h, w);
}

} // namespace

PatchedPixels processImages(const std::vector<RgbImage> &images, const ImageProcessorConfig &c)
{
    PatchedPixels out;
    for (const RgbImage &img : images) {
        const RgbImage resized = toTargetSize(img, c);
        // A single image is repeated to fill the temporal patch.
        std::vector<const RgbImage *> frames(static_cast<std::size_t>(c.temporalPatchSize), &resized);
        patchify(frames, c, out);
    }
    return out;
}

PatchedPixels processVideo(const std::vector<RgbImage> &frames, const ImageProcessorConfig &c)
{
    if (frames.empty())
        throw Error(QStringLiteral("a video needs at least one frame"));
    std::vector<RgbImage> resized;
    for (const RgbImage &f : frames) {
        if (f.height != frames.front().height || f.width != frames.front().width)
            throw Error(QStringLiteral("video frames differ in size"));
        resized.push_back(toTargetSize(f, c));
    }
    std::vector<const RgbImage *> ptrs;
    for (const RgbImage &f : resized)
        ptrs.push_back(&f);
    while (ptrs.size() % static_cast<std::size_t>(c.temporalPatchSize) != 0)
        ptrs.push_back(ptrs.back()); // pad by repeating the last frame
    PatchedPixels out;
    patchify(ptrs, c, out);
    return out;
}

} // namespace mpa::vlm
