// convert-model: a model folder's floating-point weights rewritten in another dtype, for every
// architecture alike (the conversion is the safetensors files', not a model's). Each shard of
// model.safetensors or model.safetensors.index.json is rewritten in place, tensor by tensor
// (only one converted tensor is in memory), with torch's round-to-nearest-even casts: the same
// values as loading the original folder in that dtype. Integer and bool tensors are copied as
// they are.
//
// Every shard is opened and validated before any is written, so a truncated or malformed one
// fails with the folder unchanged. Each shard is replaced atomically (new file + rename); an
// interruption between shards leaves a folder of mixed dtypes that still loads (the loader casts
// every tensor) and that a second run finishes, as shards already in the dtype are skipped.
// config.json's torch_dtype (and a sub-config's, as in Idefics3's text_config) is written last.
#include "vlm/vlm_model.h"

#include "util/error.h"
#include "util/json_file.h"
#include "vlm/model_parameters.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/safetensors.h"

#include <QDir>
#include <QFileInfo>

namespace mpa::vlm {

namespace {

DType storedDType(torch::ScalarType t)
{
    return t == torch::kBFloat16 ? DType::BF16 : t == torch::kFloat16 ? DType::F16 : DType::F32;
}

bool isFloating(DType d)
{
    return d == DType::F64 || d == DType::F32 || d == DType::F16 || d == DType::BF16;
}

std::uint64_t byteSize(DType dtype, const std::vector<std::int64_t> &shape)
{
    std::uint64_t bytes = dtypeSize(dtype);
    for (std::int64_t d : shape)
        bytes *= static_cast<std::uint64_t>(d);
    return bytes;
}

// torch_dtype wherever the config records one: top level and nested sub-configs.
void recordDtype(QJsonObject &o, const QString &label)
{
    if (o.contains(QStringLiteral("torch_dtype")))
        o.insert(QStringLiteral("torch_dtype"), label);
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.value().isObject()) {
            QJsonObject child = it.value().toObject();
            recordDtype(child, label);
            it.value() = child;
        }
    }
}

// Rewrites one shard; returns the bytes of its tensors (the index's total_size counts them).
std::uint64_t convertShard(const QString &path, DType target)
{
    const std::shared_ptr<const SafetensorsFile> file = SafetensorsFile::open(path);
    std::vector<TensorToWrite> tensors;
    std::uint64_t total = 0;
    bool changes = false;
    for (const TensorInfo &t : file->tensors()) {
        TensorToWrite w{t.name, t.dtype, t.shape, file->data(t), {}};
        if (isFloating(t.dtype) && t.dtype != target) {
            changes = true;
            w.dtype = target;
            w.data = nullptr;
            const std::uint8_t *source = file->data(t);
            w.fill = [source, &t, target](void *bytes) {
                const auto from = torch::from_blob(const_cast<std::uint8_t *>(source), t.shape, torch::TensorOptions().dtype(torchType(t.dtype)));
                torch::from_blob(bytes, t.shape, torch::TensorOptions().dtype(torchType(target))).copy_(from);
            };
        }
        total += byteSize(w.dtype, w.shape);
        tensors.push_back(std::move(w));
    }
    if (changes)
        writeSafetensors(path, tensors, file->metadata());
    return total;
}

} // namespace

void convertModelFolderWeights(const QString &dir, const QString &dtype)
{
    const torch::ScalarType type = parseDtype(dtype);
    const DType target = storedDType(type);
    const QDir d(dir);
    const QString configPath = d.filePath(QStringLiteral("config.json"));
    QJsonObject config = json::readFile(configPath).object();
    // Opens and validates every shard (sizes, offsets, duplicate names) before anything is written.
    const QStringList shards = Checkpoint::openFolder(dir).files();
    std::uint64_t total = 0;
    for (const QString &shard : shards) {
        try {
            total += convertShard(shard, target);
        } catch (const Error &e) {
            throw Error(QStringLiteral("%1: converting to %2 stopped at %3: %4 (shards before it are converted; running convert-model "
                                       "again finishes the folder)").arg(dir, dtype, QFileInfo(shard).fileName(), e.message()));
        }
    }
    const QString index = d.filePath(QStringLiteral("model.safetensors.index.json"));
    if (QFileInfo::exists(index)) {
        QJsonObject o = json::readFile(index).object();
        QJsonObject metadata = o.value(QStringLiteral("metadata")).toObject();
        metadata.insert(QStringLiteral("total_size"), static_cast<qint64>(total));
        o.insert(QStringLiteral("metadata"), metadata);
        json::writeFile(index, QJsonDocument(o));
    }
    config.insert(QStringLiteral("torch_dtype"), torchDtypeLabel(type));
    recordDtype(config, torchDtypeLabel(type));
    json::writeFile(configPath, QJsonDocument(config));
}

} // namespace mpa::vlm
