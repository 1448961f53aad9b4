#include "vlm/safetensors.h"

#include "util/error.h"
#include "util/json_file.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <algorithm>
#include <limits>

namespace mpa::vlm {

namespace {

// Headers of real checkpoints are a few hundred KiB; anything above this is a lie.
constexpr std::uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

std::optional<DType> dtypeFromName(const QString &s)
{
    static const QMap<QString, DType> names = {
        {QStringLiteral("F64"), DType::F64}, {QStringLiteral("F32"), DType::F32}, {QStringLiteral("F16"), DType::F16},
        {QStringLiteral("BF16"), DType::BF16}, {QStringLiteral("I64"), DType::I64}, {QStringLiteral("I32"), DType::I32},
        {QStringLiteral("I16"), DType::I16}, {QStringLiteral("I8"), DType::I8}, {QStringLiteral("U8"), DType::U8},
        {QStringLiteral("BOOL"), DType::Bool}};
    auto it = names.constFind(s);
    return it == names.cend() ? std::nullopt : std::optional<DType>(*it);
}

} // namespace

QString dtypeName(DType d)
{
    switch (d) {
    case DType::F64: return QStringLiteral("F64");
    case DType::F32: return QStringLiteral("F32");
    case DType::F16: return QStringLiteral("F16");
    case DType::BF16: return QStringLiteral("BF16");
    case DType::I64: return QStringLiteral("I64");
    case DType::I32: return QStringLiteral("I32");
    case DType::I16: return QStringLiteral("I16");
    case DType::I8: return QStringLiteral("I8");
    case DType::U8: return QStringLiteral("U8");
    case DType::Bool: return QStringLiteral("BOOL");
    }
    return {};
}

std::size_t dtypeSize(DType d)
{
    switch (d) {
    case DType::F64: case DType::I64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::I8: case DType::U8: case DType::Bool: return 1;
    }
    return 1;
}

std::int64_t TensorInfo::numel() const
{
    std::int64_t n = 1;
    for (std::int64_t d : shape)
        n *= d;
    return n;
}

std::vector<TensorInfo> SafetensorsFile::parseHeader(const QByteArray &json, std::uint64_t dataSize, const QString &where,
                                                     QMap<QString, QString> *metadata)
{
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        throw Error(QStringLiteral("%1: the safetensors header is not valid JSON (%2 at byte %3)").arg(where, error.errorString()).arg(error.offset));
    if (!doc.isObject())
        throw Error(QStringLiteral("%1: the safetensors header must be a JSON object").arg(where));
    const QJsonObject top = doc.object();
    std::vector<TensorInfo> tensors;
    tensors.reserve(static_cast<std::size_t>(top.size()));
    for (auto it = top.begin(); it != top.end(); ++it) {
        const QString name = it.key();
        if (name == QLatin1String("__metadata__")) {
            if (!it.value().isObject())
                throw Error(QStringLiteral("%1: __metadata__ must be an object of strings").arg(where));
            const QJsonObject m = it.value().toObject();
            for (auto m2 = m.begin(); m2 != m.end(); ++m2) {
                if (!m2.value().isString())
                    throw Error(QStringLiteral("%1: __metadata__ value \"%2\" is not a string").arg(where, m2.key()));
                if (metadata)
                    metadata->insert(m2.key(), m2.value().toString());
            }
            continue;
        }
        const QString ctx = QStringLiteral("%1: tensor \"%2\"").arg(where, name);
        if (!it.value().isObject())
            throw Error(ctx + QStringLiteral(": entry is not an object"));
        const QJsonObject o = it.value().toObject();
        TensorInfo t;
        t.name = name;
        const auto dtype = dtypeFromName(o.value(QStringLiteral("dtype")).toString());
        if (!dtype)
            throw Error(ctx + QStringLiteral(": unknown dtype \"%1\"").arg(o.value(QStringLiteral("dtype")).toVariant().toString()));
        t.dtype = *dtype;
        const QJsonValue shape = o.value(QStringLiteral("shape"));
        if (!shape.isArray())
            throw Error(ctx + QStringLiteral(": \"shape\" must be an array"));
        // Element count with overflow checks: a header may claim absurd shapes.
        unsigned __int128 elements = 1;
        for (const QJsonValue &d : shape.toArray()) {
            const double v = d.toDouble(-1);
            if (!d.isDouble() || v < 0 || v != static_cast<double>(static_cast<std::int64_t>(v)) || v > 9.0e15)
                throw Error(ctx + QStringLiteral(": shape entries must be non-negative integers"));
            t.shape.push_back(static_cast<std::int64_t>(v));
            elements *= static_cast<unsigned __int128>(v);
            if (elements > (static_cast<unsigned __int128>(1) << 62))
                throw Error(ctx + QStringLiteral(": shape is too large"));
        }
        const QJsonValue offsets = o.value(QStringLiteral("data_offsets"));
        const QJsonArray off = offsets.toArray();
        if (!offsets.isArray() || off.size() != 2 || !off[0].isDouble() || !off[1].isDouble() || off[0].toDouble() < 0
            || off[1].toDouble() < off[0].toDouble())
            throw Error(ctx + QStringLiteral(": \"data_offsets\" must be [begin, end] with 0 <= begin <= end"));
        t.begin = static_cast<std::uint64_t>(off[0].toDouble());
        t.end = static_cast<std::uint64_t>(off[1].toDouble());
        if (t.end > dataSize)
            throw Error(ctx + QStringLiteral(": data [%1, %2) runs past the end of the file (data area %3 bytes; truncated file?)")
                                  .arg(t.begin).arg(t.end).arg(dataSize));
        const unsigned __int128 bytes = elements * dtypeSize(t.dtype);
        if (bytes != t.end - t.begin)
            throw Error(ctx + QStringLiteral(": %1 bytes for shape %2 x %3 but data_offsets span %4 bytes")
                                  .arg(static_cast<qulonglong>(bytes)).arg(t.numel()).arg(dtypeName(t.dtype)).arg(t.end - t.begin));
        tensors.push_back(std::move(t));
    }
    // No two tensors may share bytes.
    std::vector<const TensorInfo *> sorted;
    for (const auto &t : tensors)
        if (t.end > t.begin)
            sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](auto *a, auto *b) { return a->begin < b->begin; });
    for (std::size_t i = 1; i < sorted.size(); ++i)
        if (sorted[i]->begin < sorted[i - 1]->end)
            throw Error(QStringLiteral("%1: tensors \"%2\" and \"%3\" overlap").arg(where, sorted[i - 1]->name, sorted[i]->name));
    return tensors;
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::open(const QString &path)
{
    const QString lower = path.toLower();
    if (lower.endsWith(QLatin1String(".bin")) || lower.endsWith(QLatin1String(".pt")) || lower.endsWith(QLatin1String(".pth")))
        throw Error(QStringLiteral("%1: pickled PyTorch weights are not loaded (they can run code); convert them to safetensors "
                                   "first, e.g. with transformers' save_pretrained(..., safe_serialization=True)").arg(path));
    std::shared_ptr<SafetensorsFile> f(new SafetensorsFile);
    f->m_path = path;
    f->m_file = std::make_unique<QFile>(path);
    if (!f->m_file->exists())
        throw Error(QStringLiteral("%1: file not found").arg(path));
    if (!QFileInfo(path).isFile()) // a FIFO would block forever
        throw Error(QStringLiteral("%1: not a regular file").arg(path));
    if (!f->m_file->open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("%1: cannot read: %2").arg(path, f->m_file->errorString()));
    const std::uint64_t size = static_cast<std::uint64_t>(f->m_file->size());
    if (size < 8)
        throw Error(QStringLiteral("%1: too short for a safetensors file (%2 bytes)").arg(path).arg(size));
    // Copy-on-write: inference uses weights in place (WeightMemory::MapWhenPossible), and a write
    // to them, should one happen, stays private instead of faulting or reaching the file.
    uchar *map = size > 0 ? f->m_file->map(0, static_cast<qint64>(size), QFileDevice::MapPrivateOption) : nullptr;
    if (!map)
        throw Error(QStringLiteral("%1: cannot memory-map: %2").arg(path, f->m_file->errorString()));
    std::uint64_t headerLen = 0;
    for (int i = 7; i >= 0; --i)
        headerLen = (headerLen << 8) | map[i];
    if (headerLen > kMaxHeaderBytes || headerLen > size - 8)
        throw Error(QStringLiteral("%1: header length %2 is impossible for a %3-byte file (truncated or not safetensors)")
                        .arg(path).arg(headerLen).arg(size));
    const QByteArray header(reinterpret_cast<const char *>(map + 8), static_cast<qsizetype>(headerLen));
    f->m_data = map + 8 + headerLen;
    f->m_tensors = parseHeader(header, size - 8 - headerLen, path, &f->m_metadata);
    return f;
}

SafetensorsFile::~SafetensorsFile() = default;

const TensorInfo *SafetensorsFile::find(const QString &name) const
{
    for (const auto &t : m_tensors)
        if (t.name == name)
            return &t;
    return nullptr;
}

Checkpoint Checkpoint::openFolder(const QString &dir)
{
    const QDir d(dir);
    if (!d.exists())
        throw Error(QStringLiteral("%1: model folder not found").arg(dir));
    Checkpoint c;
    QStringList shardFiles;
    const QString index = d.filePath(QStringLiteral("model.safetensors.index.json"));
    if (QFileInfo::exists(index)) {
        const QJsonDocument doc = json::readFile(index);
        const QJsonObject map = doc.object().value(QStringLiteral("weight_map")).toObject();
        if (map.isEmpty())
            throw Error(QStringLiteral("%1: no \"weight_map\"").arg(index));
        for (auto it = map.begin(); it != map.end(); ++it) {
            // Shards are file names inside the model folder: "../x" or "/etc/passwd" is refused.
            const QString shard = it.value().toString();
            if (shard.isEmpty() || shard.contains(QLatin1Char('/')) || shard.contains(QLatin1Char('\\')) || shard == QLatin1String("..") || shard == QLatin1String("."))
                throw Error(QStringLiteral("%1: shard \"%2\" for tensor \"%3\" is not a file name inside the model folder").arg(index, shard, it.key()));
            if (!shardFiles.contains(shard))
                shardFiles << shard;
        }
    } else if (QFileInfo::exists(d.filePath(QStringLiteral("model.safetensors")))) {
        shardFiles << QStringLiteral("model.safetensors");
    } else {
        for (const char *pickled : {"pytorch_model.bin", "model.bin", "model.pt", "pytorch_model.bin.index.json"})
            if (QFileInfo::exists(d.filePath(QLatin1String(pickled))))
                throw Error(QStringLiteral("%1: only pickled weights (%2) found; convert them to safetensors first (they can run "
                                           "code when loaded, MPA Studio never loads them)").arg(dir, QLatin1String(pickled)));
        throw Error(QStringLiteral("%1: no model.safetensors or model.safetensors.index.json").arg(dir));
    }
    for (const QString &shard : shardFiles) {
        auto file = SafetensorsFile::open(d.filePath(shard));
        c.m_files.push_back(file);
        for (const TensorInfo &t : file->tensors()) {
            if (c.m_entries.contains(t.name))
                throw Error(QStringLiteral("%1: tensor \"%2\" appears in two shards").arg(dir, t.name));
            c.m_entries.insert(t.name, Entry{file, &t});
        }
    }
    return c;
}

const Checkpoint::Entry *Checkpoint::find(const QString &name) const
{
    auto it = m_entries.constFind(name);
    return it == m_entries.cend() ? nullptr : &*it;
}

QStringList Checkpoint::names() const
{
    return m_entries.keys();
}

QStringList Checkpoint::files() const
{
    QStringList out;
    for (const auto &f : m_files)
        out << f->path();
    return out;
}

void writeSafetensors(const QString &path, const std::vector<TensorToWrite> &tensors, const QMap<QString, QString> &metadata)
{
    QJsonObject header;
    if (!metadata.isEmpty()) {
        QJsonObject m;
        for (auto it = metadata.begin(); it != metadata.end(); ++it)
            m.insert(it.key(), it.value());
        header.insert(QStringLiteral("__metadata__"), m);
    }
    std::uint64_t offset = 0;
    std::vector<std::uint64_t> begins;
    for (const TensorToWrite &t : tensors) {
        std::uint64_t bytes = dtypeSize(t.dtype);
        QJsonArray shape;
        for (std::int64_t d : t.shape) {
            bytes *= static_cast<std::uint64_t>(d);
            shape.append(static_cast<qint64>(d));
        }
        offset = (offset + 7) & ~std::uint64_t(7);
        begins.push_back(offset);
        header.insert(t.name, QJsonObject{{QStringLiteral("dtype"), dtypeName(t.dtype)}, {QStringLiteral("shape"), shape},
                                          {QStringLiteral("data_offsets"), QJsonArray{static_cast<qint64>(offset), static_cast<qint64>(offset + bytes)}}});
        offset += bytes;
    }
    QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
    while ((json.size() + 8) % 8 != 0)
        json.append(' '); // the data area starts 8-byte aligned
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        throw Error(QStringLiteral("%1: cannot write: %2").arg(path, out.errorString()));
    char len[8];
    std::uint64_t n = static_cast<std::uint64_t>(json.size());
    for (int i = 0; i < 8; ++i)
        len[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
    bool ok = out.write(len, 8) == 8 && out.write(json) == json.size();
    std::uint64_t written = 0;
    const QByteArray zeros(8, '\0');
    std::vector<std::uint8_t> scratch; // for tensors produced by `fill`, reused
    for (std::size_t i = 0; i < tensors.size() && ok; ++i) {
        if (begins[i] > written) {
            ok = out.write(zeros.constData(), static_cast<qint64>(begins[i] - written)) == static_cast<qint64>(begins[i] - written);
            written = begins[i];
        }
        std::uint64_t bytes = dtypeSize(tensors[i].dtype);
        for (std::int64_t d : tensors[i].shape)
            bytes *= static_cast<std::uint64_t>(d);
        const void *data = tensors[i].data;
        if (!data && tensors[i].fill) {
            scratch.resize(bytes);
            tensors[i].fill(scratch.data());
            data = scratch.data();
        }
        ok = ok && out.write(static_cast<const char *>(data), static_cast<qint64>(bytes)) == static_cast<qint64>(bytes);
        written += bytes;
    }
    if (!ok || !out.commit())
        throw Error(QStringLiteral("%1: write failed: %2 (disk full?)").arg(path, out.errorString()));
}

} // namespace mpa::vlm
