// Qwen2-VL as a pipeline::TrainableVlm: Qwen2-VL-Finetune's recipe (right-padded micro-batches,
// answer-only labels, image rows expanded in the prompt).
#include "vlm/qwen2vl/qwen2vl_trainable.h"

#include "pipeline/trainable_vlm.h"
#include "util/error.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
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
    if (name.rfind("visual.merger.", 0) == 0)
        return ModelPart::Connector;
    if (name.rfind("visual.", 0) == 0)
        return ModelPart::Vision;
    return ModelPart::Llm;
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

    std::vector<NamedParameter> parameters() override { return namedParameters(m_model.parameters(), partOf); }

    std::vector<NamedParameter> attachLora(const pipeline::LoraSpec &spec) override
    {
        return attachLoraAdapters(m_model.parameters(), m_model.loraAdapters(), spec, partOf);
    }

    pipeline::TrainingExample example(const pipeline::TrainingSample &sample) const override
    {
        return pipeline::buildTrainingExample(sample, *m_tokenizer, m_images, m_config.imageTokenId);
    }

    // Right-padded micro-batch (as Qwen2-VL-Finetune's collator).
    torch::Tensor loss(const std::vector<const pipeline::TrainingExample *> &batch, std::int64_t *tokens) override
    {
        PaddedBatch p = rightPadded(batch, m_config.bosTokenId.value_or(0));
        VisionInput vision;
        for (auto *e : batch)
            vision.grids.push_back(e->grid);
        vision.pixelValues = torch::from_blob(p.pixels.data(), {p.rows, static_cast<std::int64_t>(m_images.rowSize())}, torch::kFloat32).clone();
        *tokens += p.tokens;
        return Qwen2VLModel::causalLmLoss(m_model.forward(p.ids, p.mask, &vision, nullptr).logits, p.labels);
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
