#pragma once
// safetensors: 8-byte little-endian header length N, N bytes of JSON
// {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}}, then
// the raw little-endian tensor bytes (offsets relative to the data area). Files are
// memory-mapped and never trusted: every offset and size is checked before use, and a bad
// file raises mpa::Error naming the file and the tensor. Torch-free on purpose (the tensor
// views live in torch_tensors.h) so the parser can be fuzzed and tested quickly.
#include <QFile>
#include <QMap>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace mpa::vlm {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };
QString dtypeName(DType dtype);
std::size_t dtypeSize(DType dtype);

struct TensorInfo
{
    QString name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0; // byte offsets inside the data area
    std::uint64_t end = 0;
    std::int64_t numel() const;
};

class SafetensorsFile
{
public:
    // Maps and validates `path`.
    static std::shared_ptr<const SafetensorsFile> open(const QString &path);
    // Validates a header held in memory (the fuzz target's entry point): `fileSize` is the
    // size of the whole file the header claims to describe.
    static std::vector<TensorInfo> parseHeader(const QByteArray &json, std::uint64_t dataSize, const QString &where,
                                               QMap<QString, QString> *metadata = nullptr);

    const QString &path() const { return m_path; }
    const std::vector<TensorInfo> &tensors() const { return m_tensors; }
    const TensorInfo *find(const QString &name) const;
    const QMap<QString, QString> &metadata() const { return m_metadata; }
    // The tensor's bytes inside the mapping (valid while this object lives).
    const std::uint8_t *data(const TensorInfo &info) const { return m_data + info.begin; }

    ~SafetensorsFile();

private:
    SafetensorsFile() = default;
    QString m_path;
    std::unique_ptr<QFile> m_file;
    const std::uint8_t *m_data = nullptr;
    std::vector<TensorInfo> m_tensors;
    QMap<QString, QString> m_metadata;
};

// A model folder's weights: model.safetensors, or the shards listed by
// model.safetensors.index.json. Pickled .bin/.pt weights are refused.
class Checkpoint
{
public:
    static Checkpoint openFolder(const QString &dir);
    struct Entry
    {
        std::shared_ptr<const SafetensorsFile> file;
        const TensorInfo *info = nullptr;
    };
    const Entry *find(const QString &name) const;
    QStringList names() const;
    QStringList files() const;

private:
    std::vector<std::shared_ptr<const SafetensorsFile>> m_files;
    QMap<QString, Entry> m_entries;
};

struct TensorToWrite
{
    QString name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    const void *data = nullptr; // numel * dtypeSize bytes, little-endian
    // Instead of `data`: writes the bytes into a buffer of that size when the writer reaches the
    // tensor, so a whole checkpoint is never converted in memory at once (convert-model).
    std::function<void(void *bytes)> fill = nullptr;
};

// Writes atomically (temporary file + rename). Tensors are laid out in the given order,
// each aligned to 8 bytes as the reference writer does.
void writeSafetensors(const QString &path, const std::vector<TensorToWrite> &tensors, const QMap<QString, QString> &metadata = {});

} // namespace mpa::vlm
