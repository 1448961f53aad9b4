// Idefics3 (SmolVLM) as a pipeline::TrainableVlm: SmolVLM's chat format
// ("<|im_start|>User:<image>Q<end_of_utterance>\nAssistant: A<end_of_utterance>\n"), answer-only
// labels, right-padded micro-batches; parts: vision encoder, connector, Llama.
#include "vlm/idefics3/idefics3_trainable.h"

#include "pipeline/trainable_vlm.h"
#include "util/error.h"
#include "vlm/idefics3/idefics3_model.h"
#include "vlm/idefics3/idefics3_processor.h"
#include "vlm/idefics3/idefics3_runtime.h"
#include "vlm/safetensors.h"
#include "vlm/tokenizer.h"
#include "vlm/trainable_common.h"

#include <QDir>
#include <QFileInfo>

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

    std::vector<NamedParameter> parameters() override { return namedParameters(m_model.parameters(), partOf); }

    std::vector<NamedParameter> attachLora(const pipeline::LoraSpec &spec) override
    {
        return attachLoraAdapters(m_model.parameters(), m_model.loraAdapters(), spec, partOf);
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
        PaddedBatch p = rightPadded(batch, m_config.padTokenId.value_or(0));
        const std::int64_t T = m_processor.tileSize;
        const auto tiles = torch::from_blob(p.pixels.data(), {p.rows, 3, T, T}, torch::kFloat32).clone();
        *tokens += p.tokens;
        return Qwen2VLModel::causalLmLoss(m_model.forward(p.ids, p.mask, tiles).logits, p.labels);
    }

    void setTraining(bool training) override { m_model.setTraining(training); }
    void setGradientCheckpointing(bool on) override { m_model.setGradientCheckpointing(on); }

    void saveModelFolder(const QString &dir) const override
    {
        writeModelFolderFiles(m_baseDir, dir, m_dtype);
        saveTrainedWeights(m_model, m_config, m_baseDir, m_dtype, dir);
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
