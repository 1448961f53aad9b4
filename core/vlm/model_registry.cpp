#include "vlm/model_registry.h"

#include "util/error.h"
#include "util/json_file.h"
#include "vlm/idefics3/idefics3_runtime.h"
#include "vlm/idefics3/idefics3_trainable.h"
#include "vlm/qwen2vl/qwen2vl_runtime.h"
#include "vlm/qwen2vl/qwen2vl_trainable.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonObject>

namespace mpa::vlm {

const std::vector<Architecture> &architectures()
{
    static const std::vector<Architecture> list = {
        {QStringLiteral("qwen2_vl"), QStringLiteral("Qwen2-VL (Qwen2VLForConditionalGeneration)"), loadQwen2VL, inspectQwen2VLFolder,
         openQwen2VLTrainable},
        // Qwen2-VL's language model and processor with a windowed vision tower (vlm/qwen25vl/).
        {QStringLiteral("qwen2_5_vl"), QStringLiteral("Qwen2.5-VL (Qwen2_5_VLForConditionalGeneration)"), loadQwen2VL, inspectQwen2VLFolder,
         openQwen2VLTrainable},
        // SmolVLM: SigLIP encoder over image tiles, pixel-shuffle connector, Llama (vlm/idefics3/).
        {QStringLiteral("idefics3"), QStringLiteral("Idefics3 / SmolVLM (Idefics3ForConditionalGeneration)"), loadIdefics3, inspectIdefics3Folder,
         openIdefics3Trainable},
    };
    return list;
}

QStringList supportedModelTypes()
{
    QStringList types;
    for (const Architecture &a : architectures())
        types << a.modelType;
    return types;
}

const Architecture &architectureForFolder(const QString &dir)
{
    const QString path = QFileInfo(dir).isDir() ? QDir(dir).filePath(QStringLiteral("config.json")) : dir;
    if (!QFileInfo(dir).exists())
        throw Error(QStringLiteral("%1: model folder not found").arg(dir));
    const QString type = json::readFile(path).object().value(QStringLiteral("model_type")).toString();
    for (const Architecture &a : architectures())
        if (a.modelType == type)
            return a;
    throw Error(QStringLiteral("%1: model_type \"%2\" is not supported (supported: %3)")
                    .arg(path, type.isEmpty() ? QStringLiteral("(none)") : type, supportedModelTypes().join(QStringLiteral(", "))));
}

std::unique_ptr<VisionLanguageModel> VisionLanguageModel::load(const QString &dir, const ModelLoadOptions &options)
{
    return architectureForFolder(dir).load(dir, options);
}

QString ModelInspection::toText() const
{
    QString out;
    out += QStringLiteral("model folder: %1\n").arg(dir);
    out += QStringLiteral("architecture: %1 (model_type %2)\n").arg(architecture, modelType);
    out += QStringLiteral("parameters: %1 (%2 expected from config.json)\n").arg(parameters).arg(expectedParameters);
    out += QStringLiteral("stored dtype: %1, %2 MB of weights\n").arg(storedDtypes.join(QStringLiteral(", "))).arg(weightBytes / 1e6, 0, 'f', 1);
    out += QStringLiteral("memory to run: %1 MB in f32, %2 MB in bf16 (weights only; add the KV cache and activations)\n")
               .arg(parameters * 4 / 1e6, 0, 'f', 1).arg(parameters * 2 / 1e6, 0, 'f', 1);
    out += QStringLiteral("files found: %1\n").arg(filesFound.join(QStringLiteral(", ")));
    out += QStringLiteral("files missing: %1\n").arg(filesMissing.isEmpty() ? QStringLiteral("none") : filesMissing.join(QStringLiteral(", ")));
    out += QStringLiteral("chat template: %1\n").arg(chatTemplate);
    out += QStringLiteral("weights: %1\n").arg(weightProblems.isEmpty() ? QStringLiteral("all names and shapes match") : weightProblems);
    return out;
}

ModelInspection inspectModelFolder(const QString &dir)
{
    return architectureForFolder(dir).inspect(dir);
}

} // namespace mpa::vlm
