// Qwen2-VL as a pipeline::TrainableVlm: Qwen2-VL-Finetune's recipe (right-padded micro-batches,
// answer-only labels, image rows expanded in the prompt).
#include "vlm/qwen2vl/qwen2vl_trainable.h"

#include "pipeline/trainable_vlm.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/safetensors.h"
#include "vlm/tokenizer.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace mpa::vlm {

namespace {

using pipeline::ModelPart;
using pipeline::NamedParameter;

ModelPart partOf(const std::string &name)
{
    if (name.rfind("visual.merger.", 0) == 0)
        return ModelPart::Connector;
    if (name.rfind("visual.", 0) == 0)
        return ModelPart::Vision;
    return ModelPart::Llm;
}

QString dtypeLabel(torch::ScalarType t)
{
    return t == torch::kBFloat16 ? QStringLiteral("bfloat16") : t == torch::kFloat16 ? QStringLiteral("float16") : QStringLiteral("float32");
}

class Qwen2VLTrainable : public pipeline::TrainableVlm
{
public:
    Qwen2VLTrainable(const QString &baseDir, const QString &weightsDir, const pipeline::TrainableOptions &o)
        : m_baseDir(baseDir)
        , m_config(Qwen2VLConfig::load(baseDir))
        , m_tokenizer(Tokenizer::load(baseDir))
        , m_images(QFileInfo::exists(QDir(baseDir).filePath(QStringLiteral("preprocessor_config.json"))) ? ImageProcessorConfig::load(baseDir)
                                                                                                         : ImageProcessorConfig{})
        , m_dtype(o.dtype)
        , m_model(m_config, Checkpoint::openFolder(weightsDir), o.device, o.dtype)
    {
        if (o.minPixels > 0)
            m_images.minPixels = o.minPixels;
        if (o.maxPixels > 0)
            m_images.maxPixels = o.maxPixels;
        checkPixelBudget(m_images.minPixels, m_images.maxPixels, QStringLiteral("--min-pixels / --max-pixels"));
    }

    std::vector<NamedParameter> parameters() override
    {
        std::vector<NamedParameter> out;
        for (auto &[name, t] : m_model.parameters())
            out.push_back({name, &t, partOf(name)});
        return out;
    }

    std::vector<NamedParameter> attachLora(const pipeline::LoraSpec &spec) override
    {
        torch::manual_seed(spec.seed);
        for (auto &[name, t] : m_model.parameters()) {
            const ModelPart part = partOf(name);
            if (std::find(spec.frozen.begin(), spec.frozen.end(), part) != spec.frozen.end() || t.dim() != 2
                || name.find("embed_tokens") != std::string::npos)
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
            m_model.loraAdapters()[name] = a;
        }
        if (m_model.loraAdapters().empty())
            throw Error(QStringLiteral("no weight matches the LoRA targets %1").arg(spec.targets.join(QStringLiteral(", "))));
        std::vector<NamedParameter> out;
        for (auto &[name, a] : m_model.loraAdapters()) {
            out.push_back({name + ".lora_A", &a.a, partOf(name)});
            out.push_back({name + ".lora_B", &a.b, partOf(name)});
        }
        return out;
    }

    pipeline::TrainingExample example(const pipeline::TrainingSample &sample) const override
    {
        return pipeline::buildTrainingExample(sample, *m_tokenizer, m_images, m_config.imageTokenId);
    }

    // Right-padded micro-batch (as Qwen2-VL-Finetune's collator).
    torch::Tensor loss(const std::vector<const pipeline::TrainingExample *> &batch, std::int64_t *tokens) override
    {
        std::size_t longest = 0;
        std::int64_t rows = 0;
        for (auto *e : batch) {
            longest = std::max(longest, e->ids.size());
            rows += e->rows;
        }
        const std::int64_t B = static_cast<std::int64_t>(batch.size()), L = static_cast<std::int64_t>(longest);
        const std::int64_t pad = m_config.bosTokenId.value_or(0);
        auto ids = torch::full({B, L}, pad, torch::kInt64), labels = torch::full({B, L}, -100, torch::kInt64), mask = torch::zeros({B, L}, torch::kInt64);
        VisionInput vision;
        std::vector<float> pixels;
        for (std::int64_t b = 0; b < B; ++b) {
            const pipeline::TrainingExample &e = *batch[static_cast<std::size_t>(b)];
            for (std::size_t i = 0; i < e.ids.size(); ++i) {
                ids[b][static_cast<std::int64_t>(i)] = e.ids[i];
                labels[b][static_cast<std::int64_t>(i)] = e.labels[i];
                mask[b][static_cast<std::int64_t>(i)] = 1;
            }
            pixels.insert(pixels.end(), e.pixels.begin(), e.pixels.end());
            vision.grids.push_back(e.grid);
        }
        vision.pixelValues = torch::from_blob(pixels.data(), {rows, static_cast<std::int64_t>(m_images.rowSize())}, torch::kFloat32).clone();
        *tokens += mask.sum().item<std::int64_t>();
        auto logits = m_model.forward(ids, mask, &vision, nullptr).logits;
        return Qwen2VLModel::causalLmLoss(logits, labels);
    }

    void setTraining(bool training) override { m_model.setTraining(training); }
    void setGradientCheckpointing(bool on) override { m_model.setGradientCheckpointing(on); }

    void saveModelFolder(const QString &dir) const override
    {
        QDir().mkpath(dir);
        QJsonObject config = json::readFile(QDir(m_baseDir).filePath(QStringLiteral("config.json"))).object();
        // The weights are written in the dtype the model trained in.
        config.insert(QStringLiteral("torch_dtype"), dtypeLabel(m_dtype));
        json::writeFile(QDir(dir).filePath(QStringLiteral("config.json")), QJsonDocument(config));
        for (const char *f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.json", "preprocessor_config.json",
                              "vocab.json", "merges.txt", "special_tokens_map.json"}) {
            const QString from = QDir(m_baseDir).filePath(QLatin1String(f)), to = QDir(dir).filePath(QLatin1String(f));
            if (QFileInfo::exists(from)) {
                QFile::remove(to);
                QFile::copy(from, to);
            }
        }
        if (m_model.loraAdapters().empty()) {
            m_model.save(dir);
            return;
        }
        // LoRA: the base weights with the adapters folded in (what transformers and vLLM load).
        Qwen2VLModel merged(m_config, Checkpoint::openFolder(m_baseDir), torch::kCPU, m_dtype);
        for (const auto &[name, a] : m_model.loraAdapters())
            merged.loraAdapters()[name] = LoraAdapter{a.a.detach().to(torch::kCPU), a.b.detach().to(torch::kCPU), a.scale, 0.0};
        merged.mergeLora();
        merged.save(dir);
    }

private:
    QString m_baseDir;
    Qwen2VLConfig m_config;
    std::shared_ptr<const Tokenizer> m_tokenizer;
    ImageProcessorConfig m_images;
    torch::ScalarType m_dtype;
    Qwen2VLModel m_model;
};

} // namespace

std::unique_ptr<pipeline::TrainableVlm> openQwen2VLTrainable(const QString &baseDir, const QString &weightsDir,
                                                             const pipeline::TrainableOptions &options)
{
    return std::make_unique<Qwen2VLTrainable>(baseDir, weightsDir, options);
}

} // namespace mpa::vlm
