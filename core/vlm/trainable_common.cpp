#include "vlm/trainable_common.h"

#include "util/error.h"
#include "util/json_file.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>

namespace mpa::vlm {

std::vector<pipeline::NamedParameter> attachLoraAdapters(ParameterMap &parameters, LoraMap &lora, const pipeline::LoraSpec &spec,
                                                         pipeline::ModelPart (*partOf)(const std::string &name))
{
    torch::manual_seed(spec.seed);
    for (auto &[name, t] : parameters) {
        const pipeline::ModelPart part = partOf(name);
        if (std::find(spec.frozen.begin(), spec.frozen.end(), part) != spec.frozen.end() || t.dim() != 2 || name.find("embed") != std::string::npos)
            continue;
        bool target = false;
        for (const QString &tgt : spec.targets)
            target = target || name.find("." + tgt.toStdString() + ".weight") != std::string::npos;
        if (!target)
            continue;
        LoraAdapter a;
        a.a = (torch::randn({spec.rank, t.size(1)}) / std::sqrt(static_cast<double>(t.size(1)))).to(t.device(), t.scalar_type()).set_requires_grad(true);
        a.b = torch::zeros({t.size(0), spec.rank}).to(t.device(), t.scalar_type()).set_requires_grad(true);
        a.scale = spec.alpha / spec.rank;
        a.dropout = spec.dropout;
        lora[name] = a;
    }
    if (lora.empty())
        throw Error(QStringLiteral("no weight matches the LoRA targets %1").arg(spec.targets.join(QStringLiteral(", "))));
    std::vector<pipeline::NamedParameter> out;
    for (auto &[name, a] : lora) {
        out.push_back({name + ".lora_A", &a.a, partOf(name)});
        out.push_back({name + ".lora_B", &a.b, partOf(name)});
    }
    return out;
}

PaddedBatch rightPadded(const std::vector<const pipeline::TrainingExample *> &batch, std::int64_t pad)
{
    std::size_t longest = 0;
    PaddedBatch p;
    for (auto *e : batch) {
        longest = std::max(longest, e->ids.size());
        p.rows += e->rows;
    }
    const std::int64_t B = static_cast<std::int64_t>(batch.size()), L = static_cast<std::int64_t>(longest);
    p.ids = torch::full({B, L}, pad, torch::kInt64);
    p.labels = torch::full({B, L}, -100, torch::kInt64);
    p.mask = torch::zeros({B, L}, torch::kInt64);
    auto I = p.ids.accessor<std::int64_t, 2>(), Y = p.labels.accessor<std::int64_t, 2>(), M = p.mask.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < B; ++b) {
        const pipeline::TrainingExample &e = *batch[static_cast<std::size_t>(b)];
        for (std::size_t i = 0; i < e.ids.size(); ++i) {
            I[b][static_cast<std::int64_t>(i)] = e.ids[i];
            Y[b][static_cast<std::int64_t>(i)] = e.labels[i];
            M[b][static_cast<std::int64_t>(i)] = 1;
        }
        p.tokens += static_cast<std::int64_t>(e.ids.size());
        p.pixels.insert(p.pixels.end(), e.pixels.begin(), e.pixels.end());
    }
    return p;
}

std::vector<pipeline::NamedParameter> namedParameters(ParameterMap &parameters, pipeline::ModelPart (*partOf)(const std::string &name))
{
    std::vector<pipeline::NamedParameter> out;
    for (auto &[name, t] : parameters)
        out.push_back({name, &t, partOf(name)});
    return out;
}

void writeModelFolderFiles(const QString &baseDir, const QString &dir, torch::ScalarType dtype)
{
    QDir().mkpath(dir);
    QJsonObject config = json::readFile(QDir(baseDir).filePath(QStringLiteral("config.json"))).object();
    // The weights are written in the dtype the model trained in.
    config.insert(QStringLiteral("torch_dtype"), torchDtypeLabel(dtype));
    json::writeFile(QDir(dir).filePath(QStringLiteral("config.json")), QJsonDocument(config));
    for (const char *f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.json", "preprocessor_config.json",
                          "processor_config.json", "vocab.json", "merges.txt", "special_tokens_map.json", "added_tokens.json"}) {
        const QString from = QDir(baseDir).filePath(QLatin1String(f)), to = QDir(dir).filePath(QLatin1String(f));
        if (QFileInfo::exists(from)) {
            QFile::remove(to);
            QFile::copy(from, to);
        }
    }
}

} // namespace mpa::vlm
