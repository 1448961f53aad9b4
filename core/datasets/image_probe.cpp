#include "datasets/image_probe.h"

#include "util/error.h"
#include "util/input_limits.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>

#include <opencv2/imgcodecs.hpp>

namespace mpa::datasets {

namespace {

using store::ImageStatus;

quint32 be32(const uchar *p) { return (quint32(p[0]) << 24) | (quint32(p[1]) << 16) | (quint32(p[2]) << 8) | p[3]; }
quint16 be16(const uchar *p) { return quint16((p[0] << 8) | p[1]); }
quint16 le16(const uchar *p) { return quint16(p[0] | (p[1] << 8)); }
quint32 le32(const uchar *p) { return quint32(p[0]) | (quint32(p[1]) << 8) | (quint32(p[2]) << 16) | (quint32(p[3]) << 24); }

struct HeaderFacts
{
    QString format;
    int width = 0;
    int height = 0;
    QString error; // non-empty: corrupt
    bool parsed = false;
};

HeaderFacts parseJpeg(const QByteArray &data, const QByteArray &tail)
{
    HeaderFacts f;
    f.format = QStringLiteral("jpeg");
    const auto *p = reinterpret_cast<const uchar *>(data.constData());
    qsizetype i = 2;
    while (i + 9 < data.size()) {
        if (p[i] != 0xFF) {
            f.error = QStringLiteral("bad JPEG marker");
            return f;
        }
        const uchar marker = p[i + 1];
        if (marker == 0xFF) { ++i; continue; }
        const quint16 len = be16(p + i + 2);
        // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
            f.height = be16(p + i + 5);
            f.width = be16(p + i + 7);
            f.parsed = true;
            break;
        }
        if (len < 2) {
            f.error = QStringLiteral("bad JPEG segment length");
            return f;
        }
        i += 2 + len;
    }
    if (!f.parsed) {
        f.error = QStringLiteral("no JPEG frame header found (truncated or not a JPEG)");
        return f;
    }
    // A complete JPEG ends with the EOI marker (some writers pad a few bytes after it).
    if (!tail.contains(QByteArray("\xFF\xD9", 2)))
        f.error = QStringLiteral("truncated JPEG (no end-of-image marker)");
    return f;
}

HeaderFacts parsePng(const QByteArray &data, const QByteArray &tail)
{
    HeaderFacts f;
    f.format = QStringLiteral("png");
    const auto *p = reinterpret_cast<const uchar *>(data.constData());
    if (data.size() < 24 || data.mid(12, 4) != "IHDR") {
        f.error = QStringLiteral("PNG without an IHDR header");
        return f;
    }
    f.width = int(be32(p + 16));
    f.height = int(be32(p + 20));
    f.parsed = true;
    if (!tail.contains("IEND"))
        f.error = QStringLiteral("truncated PNG (no IEND chunk)");
    return f;
}

HeaderFacts parseGif(const QByteArray &data, const QByteArray &tail)
{
    HeaderFacts f;
    f.format = QStringLiteral("gif");
    const auto *p = reinterpret_cast<const uchar *>(data.constData());
    if (data.size() < 10) {
        f.error = QStringLiteral("GIF header too short");
        return f;
    }
    f.width = le16(p + 6);
    f.height = le16(p + 8);
    f.parsed = true;
    if (!tail.endsWith(';'))
        f.error = QStringLiteral("truncated GIF (no trailer)");
    return f;
}

HeaderFacts parseBmp(const QByteArray &data, qint64 fileSize)
{
    HeaderFacts f;
    f.format = QStringLiteral("bmp");
    const auto *p = reinterpret_cast<const uchar *>(data.constData());
    if (data.size() < 26) {
        f.error = QStringLiteral("BMP header too short");
        return f;
    }
    f.width = int(le32(p + 18));
    f.height = std::abs(int(le32(p + 22)));
    f.parsed = true;
    if (le32(p + 2) > quint32(fileSize))
        f.error = QStringLiteral("truncated BMP (file shorter than its header says)");
    return f;
}

HeaderFacts parseWebp(const QByteArray &data, qint64 fileSize)
{
    HeaderFacts f;
    f.format = QStringLiteral("webp");
    const auto *p = reinterpret_cast<const uchar *>(data.constData());
    if (data.size() < 30) {
        f.error = QStringLiteral("WebP header too short");
        return f;
    }
    if (le32(p + 4) + 8 > quint64(fileSize)) {
        f.error = QStringLiteral("truncated WebP (file shorter than its RIFF size)");
        return f;
    }
    const QByteArray chunk = data.mid(12, 4);
    if (chunk == "VP8 ") {
        f.width = le16(p + 26) & 0x3FFF;
        f.height = le16(p + 28) & 0x3FFF;
    } else if (chunk == "VP8L") {
        const quint32 bits = le32(p + 21);
        f.width = int((bits & 0x3FFF) + 1);
        f.height = int(((bits >> 14) & 0x3FFF) + 1);
    } else if (chunk == "VP8X") {
        f.width = int((p[24] | (p[25] << 8) | (p[26] << 16)) + 1);
        f.height = int((p[27] | (p[28] << 8) | (p[29] << 16)) + 1);
    } else {
        f.error = QStringLiteral("unknown WebP chunk");
        return f;
    }
    f.parsed = true;
    return f;
}

// TIFF: ImageWidth (256) and ImageLength (257) of the first IFD, either byte order.
HeaderFacts parseTiff(const QByteArray &data)
{
    HeaderFacts f;
    f.format = QStringLiteral("tiff");
    f.parsed = true;
    const auto *p = reinterpret_cast<const uchar *>(data.constData());
    const bool little = data.startsWith("II");
    auto u16 = [&](qsizetype at) { return little ? le16(p + at) : be16(p + at); };
    auto u32 = [&](qsizetype at) { return little ? le32(p + at) : be32(p + at); };
    if (data.size() < 8) {
        f.error = QStringLiteral("truncated TIFF header");
        return f;
    }
    const quint32 ifd = u32(4);
    if (ifd + 2 > static_cast<quint32>(data.size())) {
        f.error = QStringLiteral("TIFF directory beyond the first 64 KiB (not supported)");
        return f;
    }
    const int entries = u16(ifd);
    for (int e = 0; e < entries && ifd + 2 + 12 * (e + 1) <= static_cast<quint32>(data.size()); ++e) {
        const qsizetype at = ifd + 2 + 12 * e;
        const int tag = u16(at), type = u16(at + 2);
        const quint32 value = type == 3 ? u16(at + 8) : u32(at + 8);
        if (tag == 256)
            f.width = static_cast<int>(std::min<quint32>(value, 1u << 30));
        else if (tag == 257)
            f.height = static_cast<int>(std::min<quint32>(value, 1u << 30));
    }
    if (f.width <= 0 || f.height <= 0)
        f.error = QStringLiteral("TIFF without image dimensions");
    return f;
}

// The header facts of a file whose first bytes are `head` (nullopt facts.parsed: unknown format).
HeaderFacts parseHeader(const QByteArray &head, const QByteArray &tail, qint64 fileSize)
{
    if (head.startsWith("\xFF\xD8\xFF"))
        return parseJpeg(head, tail);
    if (head.startsWith("\x89PNG\r\n\x1a\n"))
        return parsePng(head, tail);
    if (head.startsWith("GIF87a") || head.startsWith("GIF89a"))
        return parseGif(head, tail);
    if (head.startsWith("BM"))
        return parseBmp(head, fileSize);
    if (head.startsWith("RIFF") && head.mid(8, 4) == "WEBP")
        return parseWebp(head, fileSize);
    if (head.startsWith(QByteArray("II*\0", 4)) || head.startsWith(QByteArray("MM\0*", 4)))
        return parseTiff(head);
    return {};
}

QString sizeProblem(int width, int height)
{
    const std::int64_t pixels = static_cast<std::int64_t>(width) * height;
    if (width > limits::kMaxImageSide || height > limits::kMaxImageSide || pixels > limits::kMaxImagePixels)
        return QStringLiteral("%1 x %2 pixels is beyond the limit (%3 megapixels, %4 per side)")
            .arg(width).arg(height).arg(limits::kMaxImagePixels / (1024 * 1024)).arg(limits::kMaxImageSide);
    return {};
}

} // namespace

std::optional<std::array<int, 2>> imageHeaderSize(const QByteArray &bytes)
{
    const HeaderFacts f = parseHeader(bytes.left(64 * 1024), bytes.right(64), bytes.size());
    if (f.format.isEmpty() || f.width <= 0 || f.height <= 0)
        return std::nullopt;
    return std::array<int, 2>{f.width, f.height};
}

void checkImageBytes(const QByteArray &bytes, const QString &what)
{
    if (bytes.isEmpty())
        throw Error(QStringLiteral("%1: empty image").arg(what));
    if (bytes.size() > limits::kMaxImageFileBytes)
        throw Error(QStringLiteral("%1: %2 MB is beyond the %3 MB image file limit").arg(what).arg(bytes.size() >> 20).arg(limits::kMaxImageFileBytes >> 20));
    if (const auto size = imageHeaderSize(bytes))
        if (const QString problem = sizeProblem((*size)[0], (*size)[1]); !problem.isEmpty())
            throw Error(QStringLiteral("%1: %2").arg(what, problem));
}

bool hasImageExtension(const QString &fileName)
{
    static const QStringList extensions = {QStringLiteral("jpg"), QStringLiteral("jpeg"), QStringLiteral("png"),
                                           QStringLiteral("bmp"), QStringLiteral("gif"), QStringLiteral("webp"),
                                           QStringLiteral("tif"), QStringLiteral("tiff")};
    const qsizetype dot = fileName.lastIndexOf(QLatin1Char('.'));
    return dot >= 0 && extensions.contains(fileName.mid(dot + 1).toLower());
}

store::ImageRecord probeImage(const QString &path, bool hashContent)
{
    store::ImageRecord r;
    r.path = path;
    const QFileInfo info(path);
    if (!info.exists()) {
        r.status = ImageStatus::Missing;
        r.error = QStringLiteral("file not found");
        return r;
    }
    if (!info.isFile()) {
        // A FIFO, socket or device named like an image would block the import or never end.
        r.status = ImageStatus::Unreadable;
        r.error = QStringLiteral("not a regular file");
        return r;
    }
    r.fileSize = info.size();
    r.mtimeMs = info.lastModified().toMSecsSinceEpoch();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        r.status = ImageStatus::Unreadable;
        r.error = file.errorString();
        return r;
    }
    if (r.fileSize == 0) {
        r.status = ImageStatus::Corrupt;
        r.error = QStringLiteral("empty file");
        return r;
    }
    const QByteArray head = file.read(64 * 1024);
    QByteArray tail;
    if (r.fileSize > head.size()) {
        file.seek(std::max<qint64>(0, r.fileSize - 64));
        tail = file.read(64);
    } else {
        tail = head.right(64);
    }

    HeaderFacts facts = parseHeader(head, tail, r.fileSize);
    if (facts.format.isEmpty()) {
        // Anything else: let OpenCV decode it (rare in VQA datasets), under its pixel bound.
        cv::Mat img;
        try {
            img = cv::imread(QFile::encodeName(path).toStdString(), cv::IMREAD_UNCHANGED);
        } catch (const cv::Exception &e) {
            r.status = ImageStatus::Corrupt;
            r.error = QStringLiteral("not decodable: %1").arg(QString::fromStdString(e.err));
            return r;
        }
        if (img.empty()) {
            r.status = ImageStatus::Corrupt;
            r.error = QStringLiteral("not a decodable image");
            return r;
        }
        facts.format = QStringLiteral("other");
        facts.width = img.cols;
        facts.height = img.rows;
        facts.parsed = true;
    }
    r.format = facts.format;
    r.width = facts.width;
    r.height = facts.height;
    if (!facts.error.isEmpty() || facts.width <= 0 || facts.height <= 0) {
        r.status = ImageStatus::Corrupt;
        r.error = facts.error.isEmpty() ? QStringLiteral("invalid dimensions %1x%2").arg(facts.width).arg(facts.height) : facts.error;
    } else if (const QString problem = sizeProblem(facts.width, facts.height); !problem.isEmpty()) {
        r.status = ImageStatus::Corrupt; // a decompression bomb is not an image to train on
        r.error = problem;
    }
    if (hashContent) {
        QCryptographicHash hash(QCryptographicHash::Sha256);
        file.seek(0);
        if (!hash.addData(&file)) {
            r.status = ImageStatus::Unreadable;
            r.error = QStringLiteral("read error: %1").arg(file.errorString());
            return r;
        }
        r.sha256 = QString::fromLatin1(hash.result().toHex());
    }
    return r;
}

} // namespace mpa::datasets
