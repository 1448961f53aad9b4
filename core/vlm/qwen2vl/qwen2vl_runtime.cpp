#include "vlm/qwen2vl/qwen2vl_runtime.h"

#include "backends/torch_runtime.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/chat_template.h"
#include "vlm/generation.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/qwen2vl/qwen2vl_weights.h"
#include "vlm/tokenizer.h"

#include <QDir>
#include <QFileInfo>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace mpa::vlm {

VisionLanguageModel::~VisionLanguageModel() = default;

namespace {

// The Qwen2-VL family's implementation of VisionLanguageModel.
class Qwen2VLRuntime final : public VisionLanguageModel
{
public:
    ModelInfo info() const override { return {config.modelType, config.hiddenSize, config.imageTokenId, config.parameterCount(), config.maxPositionEmbeddings}; }
    const GenerationConfig &generationConfig() const override { return generation; }
    std::int64_t imageTokens(int height, int width) const override
    {
        const auto [h, w] = smartResize(height, width, imageConfigValue);
        return static_cast<std::int64_t>(h / imageConfigValue.factor()) * (w / imageConfigValue.factor());
    }
    std::shared_ptr<const Tokenizer> tokenizer() const override { return tokenizerValue; }
    QString deviceName() const override { return QString::fromStdString(model->device().str()); }
    std::vector<std::int32_t> promptIds(const VlmRequest &request, std::vector<std::array<std::int64_t, 3>> *grids = nullptr) const override;
    std::vector<VlmAnswer> answer(const std::vector<VlmRequest> &requests, const GenerationConfig &generation,
                                  const std::function<bool()> &cancelled, VlmTiming *timing) const override;

    Qwen2VLConfig config;
    GenerationConfig generation;
    ImageProcessorConfig imageConfigValue;
    std::shared_ptr<const Tokenizer> tokenizerValue;
    std::unique_ptr<ChatTemplate> chat;
    std::unique_ptr<Qwen2VLModel> model;
    std::int32_t imagePad = -1;
};

} // namespace

std::unique_ptr<VisionLanguageModel> loadQwen2VL(const QString &dir, const ModelLoadOptions &options)
{
    backends::initialiseTorchThreads();
    auto m = std::make_unique<Qwen2VLRuntime>();
    Qwen2VLRuntime &d = *m;
    d.config = Qwen2VLConfig::load(dir);
    d.generation = GenerationConfig::load(dir, d.config);
    d.imageConfigValue = QFileInfo::exists(QDir(dir).filePath(QStringLiteral("preprocessor_config.json")))
                             ? ImageProcessorConfig::load(dir)
                             : ImageProcessorConfig{};
    if (options.minPixels)
        d.imageConfigValue.minPixels = *options.minPixels;
    if (options.maxPixels)
        d.imageConfigValue.maxPixels = *options.maxPixels;
    checkPixelBudget(d.imageConfigValue.minPixels, d.imageConfigValue.maxPixels, QStringLiteral("--min-pixels / --max-pixels"));
    d.tokenizerValue = Tokenizer::load(dir);
    d.chat = std::make_unique<ChatTemplate>(ChatTemplate::fromModelFolder(dir, options.allowChatMLFallback));
    d.imagePad = static_cast<std::int32_t>(d.config.imageTokenId);
    if (d.tokenizerValue->tokenId(QStringLiteral("<|image_pad|>")) != d.imagePad)
        throw Error(QStringLiteral("%1: the tokenizer's <|image_pad|> id differs from config.json's image_token_id %2").arg(dir).arg(d.imagePad));
    const torch::Device device = parseDevice(options.device);
    const torch::ScalarType dtype = parseDtype(options.dtype);
    try {
        d.model = std::make_unique<Qwen2VLModel>(d.config, Checkpoint::openFolder(dir), device, dtype, WeightMemory::MapWhenPossible);
    } catch (const c10::Error &e) {
        // Out of memory and device errors from torch, reported with the folder.
        throw Error(QStringLiteral("%1: loading the weights failed: %2").arg(dir, QString::fromStdString(e.what_without_backtrace())));
    }
    return m;
}

std::vector<std::int32_t> Qwen2VLRuntime::promptIds(const VlmRequest &r, std::vector<std::array<std::int64_t, 3>> *gridsOut) const
{
    QList<ChatPart> parts;
    std::vector<std::array<std::int64_t, 3>> grids;
    for (const RgbImage &img : r.images) {
        parts << ChatPart{ChatPart::Kind::Image, {}};
        const auto [h, w] = smartResize(img.height, img.width, imageConfigValue);
        grids.push_back({1, h / imageConfigValue.patchSize, w / imageConfigValue.patchSize});
    }
    parts << ChatPart{ChatPart::Kind::Text, r.prompt};
    const QString text = chat->render({ChatMessage::withParts(QStringLiteral("user"), parts)});
    const std::vector<std::int32_t> raw = tokenizerValue->encode(text);
    // Each <|image_pad|> becomes t*h*w/merge^2 copies, one per merged vision feature.
    std::vector<std::int32_t> ids;
    std::size_t image = 0;
    const int merge2 = imageConfigValue.mergeSize * imageConfigValue.mergeSize;
    const auto pads = static_cast<std::size_t>(std::count(raw.begin(), raw.end(), imagePad));
    if (pads != grids.size())
        throw Error(QStringLiteral("the prompt holds %1 image placeholders (<|image_pad|>) for %2 images; write no special tokens in the text").arg(pads).arg(grids.size()));
    for (std::int32_t id : raw) {
        if (id != imagePad) {
            ids.push_back(id);
            continue;
        }
        const auto &g = grids.at(image++);
        ids.insert(ids.end(), static_cast<std::size_t>(g[0] * g[1] * g[2] / merge2), id);
    }
    if (gridsOut)
        *gridsOut = grids;
    return ids;
}

std::vector<VlmAnswer> Qwen2VLRuntime::answer(const std::vector<VlmRequest> &requests, const GenerationConfig &generation,
                                                   const std::function<bool()> &cancelled, VlmTiming *timing) const
{
    if (requests.empty())
        return {};
    std::vector<std::vector<std::int32_t>> prompts;
    std::vector<RgbImage> images;
    for (const VlmRequest &r : requests) {
        prompts.push_back(promptIds(r));
        images.insert(images.end(), r.images.begin(), r.images.end());
    }
    const std::int64_t pad = generation.padTokenId.value_or(this->generation.padTokenId.value_or(
        generation.eosTokenIds.empty() ? 0 : generation.eosTokenIds.front()));
    VisionInput vision;
    if (!images.empty()) {
        const PatchedPixels px = processImages(images, imageConfigValue);
        vision.pixelValues = torch::from_blob(const_cast<float *>(px.values.data()), {px.rows, static_cast<std::int64_t>(imageConfigValue.rowSize())},
                                              torch::kFloat32).clone();
        vision.grids = px.grids;
    }
    return answerPrompts(decodingSteps(*model, images.empty() ? nullptr : &vision), prompts, pad, generation, cancelled, *tokenizerValue, false, timing);
}

ModelInspection inspectQwen2VLFolder(const QString &dir)
{
    ModelInspection r;
    r.dir = QDir(dir).absolutePath();
    const QDir d(dir);
    if (!d.exists())
        throw Error(QStringLiteral("%1: model folder not found").arg(dir));
    for (const char *f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.json",
                          "preprocessor_config.json", "model.safetensors", "model.safetensors.index.json"}) {
        (QFileInfo::exists(d.filePath(QLatin1String(f))) ? r.filesFound : r.filesMissing) << QLatin1String(f);
    }
    // One of the two weight layouts is enough; only one of the template files is needed.
    if (r.filesFound.contains(QStringLiteral("model.safetensors")) || r.filesFound.contains(QStringLiteral("model.safetensors.index.json"))) {
        r.filesMissing.removeAll(QStringLiteral("model.safetensors"));
        r.filesMissing.removeAll(QStringLiteral("model.safetensors.index.json"));
    }
    if (r.filesFound.contains(QStringLiteral("chat_template.json")) || r.filesFound.contains(QStringLiteral("tokenizer_config.json"))) {
        r.filesMissing.removeAll(QStringLiteral("chat_template.json"));
        r.filesMissing.removeAll(QStringLiteral("tokenizer_config.json"));
    }
    const Qwen2VLConfig config = Qwen2VLConfig::load(dir);
    const QJsonObject raw = json::readFile(d.filePath(QStringLiteral("config.json"))).object();
    r.architecture = raw.value(QStringLiteral("architectures")).toArray().first().toString(QStringLiteral("(unspecified)"));
    r.modelType = config.modelType;
    r.expectedParameters = config.parameterCount();
    const Checkpoint checkpoint = Checkpoint::openFolder(dir);
    std::set<QString> dtypes;
    for (const QString &name : checkpoint.names()) {
        const TensorInfo &info = *checkpoint.find(name)->info;
        r.parameters += info.numel();
        r.weightBytes += static_cast<std::int64_t>(info.end - info.begin);
        dtypes.insert(dtypeName(info.dtype));
    }
    r.storedDtypes = QStringList(dtypes.begin(), dtypes.end());
    const WeightReport weights = checkWeights(config, checkpoint);
    r.weightProblems = weights.summary();
    try {
        const ChatTemplate t = ChatTemplate::fromModelFolder(dir);
        r.chatTemplate = t.kind() == ChatTemplate::Kind::Qwen2VL ? QStringLiteral("Qwen2-VL-Instruct (rendered natively)") : QStringLiteral("ChatML");
    } catch (const Error &e) {
        r.chatTemplate = e.message();
    }
    return r;
}

void fillSpecialTokenIds(Qwen2VLConfig &config, const Tokenizer &tokenizer)
{
    auto id = [&](const char *token) {
        const auto v = tokenizer.tokenId(QLatin1String(token));
        if (!v)
            throw Error(QStringLiteral("%1: has no %2 token").arg(tokenizer.path(), QLatin1String(token)));
        return static_cast<std::int64_t>(*v);
    };
    config.imageTokenId = id("<|image_pad|>");
    config.videoTokenId = id("<|video_pad|>");
    config.visionStartTokenId = id("<|vision_start|>");
    config.visionEndTokenId = id("<|vision_end|>");
    config.eosTokenIds = {id("<|im_end|>")};
    config.bosTokenId = id("<|endoftext|>");
}

void writeRandomModelFolder(const QString &dir, const Qwen2VLConfig &configIn, const QString &tokenizerDir, std::uint64_t seed,
                            const QString &dtype)
{
    Qwen2VLConfig config = configIn;
    const auto tok = Tokenizer::load(tokenizerDir);
    fillSpecialTokenIds(config, *tok);
    config.torchDtype = torchDtypeLabel(parseDtype(dtype));
    if (config.vocabSize < tok->vocabSize())
        throw Error(QStringLiteral("vocab_size %1 is smaller than the tokenizer's %2").arg(config.vocabSize).arg(tok->vocabSize()));
    if (!QDir().mkpath(dir))
        throw Error(QStringLiteral("%1: cannot create the folder").arg(dir));
    json::writeFile(QDir(dir).filePath(QStringLiteral("config.json")), QJsonDocument(config.toJson()));
    const QJsonObject generation{{QStringLiteral("bos_token_id"), static_cast<qint64>(*config.bosTokenId)},
                                 {QStringLiteral("eos_token_id"), QJsonArray{static_cast<qint64>(config.eosTokenIds.front()), static_cast<qint64>(*config.bosTokenId)}},
                                 {QStringLiteral("pad_token_id"), static_cast<qint64>(*config.bosTokenId)},
                                 {QStringLiteral("do_sample"), false}};
    json::writeFile(QDir(dir).filePath(QStringLiteral("generation_config.json")), QJsonDocument(generation));
    for (const char *file : {"tokenizer.json", "tokenizer_config.json", "chat_template.json", "preprocessor_config.json"}) {
        const QString from = QDir(tokenizerDir).filePath(QLatin1String(file));
        const QString to = QDir(dir).filePath(QLatin1String(file));
        if (QFileInfo::exists(from)) {
            QFile::remove(to);
            if (!QFile::copy(from, to))
                throw Error(QStringLiteral("%1: cannot copy %2").arg(dir, from));
        }
    }
    Qwen2VLModel model(config, torch::kCPU, parseDtype(dtype), seed);
    model.save(dir);
}

} // namespace mpa::vlm
