// Idefics3 (SmolVLM) as a pipeline::TrainableVlm: SmolVLM's chat format
// ("<|im_start|>User:<image>Q<end_of_utterance>\nAssistant: A<end_of_utterance>\n"), answer-only
// labels, right-padded micro-batches; parts: vision encoder, connector, Llama.
#include "vlm/idefics3/idefics3_trainable.h"

#include "pipeline/trainable_vlm.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/idefics3/idefics3_model.h"
#include "vlm/idefics3/idefics3_processor.h"
#include "vlm/idefics3/idefics3_runtime.h"
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
    if (name.rfind("model.connector.", 0) == 0)
        return ModelPart::Connector;
    if (name.rfind("model.vision_model.", 0) == 0)
        return ModelPart::Vision;
    return ModelPart::Llm;
}

class Idefics3Trainable : public pipeline::TrainableVlm
{
public:
    Idefics3Trainable(const QString &baseDir, const QString &weightsDir, const pipeline::TrainableOptions &o)
        : m_baseDir(baseDir)
        , m_config(Idefics3Config::load(baseDir))
        , m_tokenizer(Tokenizer::load(baseDir))
        , m_processor(Idefics3ProcessorConfig::load(baseDir))
        , m_dtype(o.dtype)
        , m_model(m_config, Checkpoint::openFolder(weightsDir), o.device, o.dtype)
    {
        if (const int edge = idefics3LongestEdgeForBudget(o.maxPixels, m_processor.tileSize))
            m_processor.longestEdge = edge;
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

    pipeline::TrainingExample example(const pipeline::TrainingSample &s) const override
    {
        pipeline::TrainingExample ex;
        const Idefics3Image split = splitIdefics3Image(loadRgbImage(s.imagePath), m_processor);
        appendTilePixels(split.tiles, m_processor, ex.pixels);
        ex.rows = static_cast<std::int64_t>(split.tiles.size());
        const QString prompt = QStringLiteral("<|im_start|>User:") + idefics3ImagePrompt(split.sizes.rows, split.sizes.cols, m_processor.imageSeqLen)
                               + s.question + QStringLiteral("<end_of_utterance>\nAssistant:");
        for (std::int32_t id : m_tokenizer->encode(prompt)) {
            ex.ids.push_back(id);
            ex.labels.push_back(-100);
        }
        for (std::int32_t id : m_tokenizer->encode(QLatin1Char(' ') + s.answer + QStringLiteral("<end_of_utterance>\n"))) {
            ex.ids.push_back(id);
            ex.labels.push_back(id);
        }
        return ex;
    }

    torch::Tensor loss(const std::vector<const pipeline::TrainingExample *> &batch, std::int64_t *tokens) override
    {
        std::size_t longest = 0;
        std::int64_t tiles = 0;
        for (auto *e : batch) {
            longest = std::max(longest, e->ids.size());
            tiles += e->rows;
        }
        const std::int64_t B = static_cast<std::int64_t>(batch.size()), L = static_cast<std::int64_t>(longest);
        auto ids = torch::full({B, L}, m_config.padTokenId.value_or(0), torch::kInt64), labels = torch::full({B, L}, -100, torch::kInt64),
             mask = torch::zeros({B, L}, torch::kInt64);
        std::vector<float> pixels;
        for (std::int64_t b = 0; b < B; ++b) {
            const pipeline::TrainingExample &e = *batch[static_cast<std::size_t>(b)];
            for (std::size_t i = 0; i < e.ids.size(); ++i) {
                ids[b][static_cast<std::int64_t>(i)] = e.ids[i];
                labels[b][static_cast<std::int64_t>(i)] = e.labels[i];
                mask[b][static_cast<std::int64_t>(i)] = 1;
            }
            pixels.insert(pixels.end(), e.pixels.begin(), e.pixels.end());
        }
        const std::int64_t T = m_processor.tileSize;
        const auto px = torch::from_blob(pixels.data(), {tiles, 3, T, T}, torch::kFloat32).clone();
        *tokens += mask.sum().item<std::int64_t>();
        return Qwen2VLModel::causalLmLoss(m_model.forward(ids, mask, px).logits, labels);
    }

    void setTraining(bool training) override { m_model.setTraining(training); }
    void setGradientCheckpointing(bool on) override { m_model.setGradientCheckpointing(on); }

    void saveModelFolder(const QString &dir) const override
    {
        QDir().mkpath(dir);
        QJsonObject config = json::readFile(QDir(m_baseDir).filePath(QStringLiteral("config.json"))).object();
        config.insert(QStringLiteral("torch_dtype"), m_dtype == torch::kBFloat16 ? QStringLiteral("bfloat16")
                                                     : m_dtype == torch::kFloat16 ? QStringLiteral("float16") : QStringLiteral("float32"));
        json::writeFile(QDir(dir).filePath(QStringLiteral("config.json")), QJsonDocument(config));
        for (const char *f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.json", "preprocessor_config.json",
                              "processor_config.json", "vocab.json", "merges.txt", "special_tokens_map.json", "added_tokens.json"}) {
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
        Idefics3Model merged(m_config, Checkpoint::openFolder(m_baseDir), torch::kCPU, m_dtype);
        for (const auto &[name, a] : m_model.loraAdapters())
            merged.loraAdapters()[name] = LoraAdapter{a.a.detach().to(torch::kCPU), a.b.detach().to(torch::kCPU), a.scale, 0.0};
        merged.mergeLora();
        merged.save(dir);
    }

private:
    QString m_baseDir;
    Idefics3Config m_config;
    std::shared_ptr<const Tokenizer> m_tokenizer;
    Idefics3ProcessorConfig m_processor;
    torch::ScalarType m_dtype;
    Idefics3Model m_model;
};

} // namespace

std::unique_ptr<pipeline::TrainableVlm> openIdefics3Trainable(const QString &baseDir, const QString &weightsDir, const pipeline::TrainableOptions &options)
{
    return std::make_unique<Idefics3Trainable>(baseDir, weightsDir, options);
}

} // namespace mpa::vlm
