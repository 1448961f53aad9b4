// Idefics3 (SmolVLM) as a VisionLanguageModel: SmolVLM's chat template, each image split into
// tiles with its <image> expanded, left-padded batches through the shared generation loop.
#include "vlm/idefics3/idefics3_runtime.h"

#include "backends/torch_runtime.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/chat_template.h"
#include "vlm/idefics3/idefics3_model.h"
#include "vlm/idefics3/idefics3_processor.h"
#include "vlm/image_processor.h"
#include "vlm/generation.h"
#include "vlm/safetensors.h"
#include "vlm/tokenizer.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>

namespace mpa::vlm {

namespace {

class Idefics3Runtime final : public VisionLanguageModel
{
public:
    ModelInfo info() const override { return {config.modelType, config.hiddenSize, config.imageTokenId, config.parameterCount(), config.maxPositionEmbeddings}; }
    const GenerationConfig &generationConfig() const override { return generation; }
    std::int64_t imageTokens(int height, int width) const override
    {
        return static_cast<std::int64_t>(idefics3Sizes(height, width, processor).tiles()) * processor.imageSeqLen;
    }
    std::shared_ptr<const Tokenizer> tokenizer() const override { return tokenizerValue; }
    QString deviceName() const override { return QString::fromStdString(model->device().str()); }
    std::vector<std::int32_t> promptIds(const VlmRequest &request, std::vector<std::array<std::int64_t, 3>> *grids = nullptr) const override;
    std::vector<VlmAnswer> answer(const std::vector<VlmRequest> &requests, const GenerationConfig &generation,
                                  const std::function<bool()> &cancelled, VlmTiming *timing) const override;

    // The prompt ids and the request's tiles (appended to `tiles`).
    std::vector<std::int32_t> prepare(const VlmRequest &request, std::vector<float> *tiles, std::int64_t *tileCount) const;

    Idefics3Config config;
    GenerationConfig generation;
    Idefics3ProcessorConfig processor;
    std::shared_ptr<const Tokenizer> tokenizerValue;
    std::unique_ptr<ChatTemplate> chat;
    std::unique_ptr<Idefics3Model> model;
};

std::vector<std::int32_t> Idefics3Runtime::prepare(const VlmRequest &r, std::vector<float> *tiles, std::int64_t *tileCount) const
{
    if (r.prompt.contains(QLatin1String("<image>")))
        throw Error(QStringLiteral("the prompt contains the text \"<image>\", which SmolVLM's processor would take for an image slot"));
    QList<ChatPart> parts;
    for (std::size_t i = 0; i < r.images.size(); ++i)
        parts << ChatPart{ChatPart::Kind::Image, {}};
    parts << ChatPart{ChatPart::Kind::Text, r.prompt};
    QString text = chat->render({ChatMessage::withParts(QStringLiteral("user"), parts)});
    // Each <image> of the rendered prompt becomes its image's tiles' tokens (Idefics3Processor).
    QString expanded;
    qsizetype from = 0;
    for (const RgbImage &img : r.images) {
        const qsizetype at = text.indexOf(QLatin1String("<image>"), from);
        if (at < 0)
            throw Error(QStringLiteral("internal: the chat template dropped an image slot"));
        int rows = 0, cols = 0;
        if (tiles) {
            const Idefics3Image split = splitIdefics3Image(img, processor);
            appendTilePixels(split.tiles, processor, *tiles);
            *tileCount += static_cast<std::int64_t>(split.tiles.size());
            rows = split.sizes.rows;
            cols = split.sizes.cols;
        } else {
            const Idefics3Sizes s = idefics3Sizes(img.height, img.width, processor);
            rows = s.rows;
            cols = s.cols;
        }
        expanded += text.mid(from, at - from) + idefics3ImagePrompt(rows, cols, processor.imageSeqLen);
        from = at + 7;
    }
    expanded += text.mid(from);
    std::vector<std::int32_t> ids = tokenizerValue->encode(expanded);
    // Special tokens typed into the text (<image>, <fake_token_around_image>, ...) would break
    // the tile-to-token correspondence: the count must be what the images need.
    std::int64_t need = 0;
    for (const RgbImage &img : r.images)
        need += imageTokens(img.height, img.width);
    const auto have = std::count(ids.begin(), ids.end(), static_cast<std::int32_t>(config.imageTokenId));
    if (have != need)
        throw Error(QStringLiteral("the prompt holds %1 <image> tokens where its %2 images need %3; write no special tokens in the text").arg(have).arg(r.images.size()).arg(need));
    return ids;
}

std::vector<std::int32_t> Idefics3Runtime::promptIds(const VlmRequest &request, std::vector<std::array<std::int64_t, 3>> *grids) const
{
    if (grids)
        grids->clear();
    return prepare(request, nullptr, nullptr);
}

std::vector<VlmAnswer> Idefics3Runtime::answer(const std::vector<VlmRequest> &requests, const GenerationConfig &generationIn,
                                               const std::function<bool()> &cancelled, VlmTiming *timing) const
{
    if (requests.empty())
        return {};
    std::vector<std::vector<std::int32_t>> prompts;
    std::vector<float> pixels;
    std::int64_t tileCount = 0;
    for (const VlmRequest &r : requests)
        prompts.push_back(prepare(r, &pixels, &tileCount));
    const std::int64_t pad = generationIn.padTokenId.value_or(generation.padTokenId.value_or(config.padTokenId.value_or(0)));
    const std::int64_t T = processor.tileSize;
    const torch::Tensor tiles = tileCount ? torch::from_blob(pixels.data(), {tileCount, 3, T, T}, torch::kFloat32).clone() : torch::Tensor();
    DecodingModel steps;
    steps.makeCache = [&](std::int64_t batch, std::int64_t capacity) { return model->makeCache(batch, capacity); };
    steps.prefill = [&](const torch::Tensor &i, const torch::Tensor &m, KVCache &cache) { return model->forward(i, m, tiles, &cache, false, true).logits; };
    steps.decode = [&](const torch::Tensor &t, const torch::Tensor &m, KVCache &cache) { return model->decodeStep(t, m, cache); };
    steps.contextLength = config.maxPositionEmbeddings;
    // SmolVLM answers after "Assistant:" with a space first: trimmed, it is the content.
    return answerPrompts(steps, prompts, pad, generationIn, cancelled, *tokenizerValue, true, timing);
}

} // namespace

int idefics3LongestEdgeForBudget(std::int64_t maxPixels, int tileSize)
{
    if (maxPixels <= 0)
        return 0;
    checkPixelBudget(1, maxPixels, QStringLiteral("--max-pixels"));
    const int side = static_cast<int>(std::sqrt(static_cast<double>(maxPixels)));
    return std::max(tileSize, side / tileSize * tileSize);
}

std::unique_ptr<VisionLanguageModel> loadIdefics3(const QString &dir, const ModelLoadOptions &options)
{
    backends::initialiseTorchThreads();
    auto m = std::make_unique<Idefics3Runtime>();
    Idefics3Runtime &d = *m;
    d.config = Idefics3Config::load(dir);
    d.generation = GenerationConfig::load(dir, d.config.eosTokenIds);
    d.processor = Idefics3ProcessorConfig::load(dir);
    if (options.maxPixels)
        if (const int edge = idefics3LongestEdgeForBudget(*options.maxPixels, d.processor.tileSize))
            d.processor.longestEdge = edge;
    if (d.processor.tileSize != d.config.vision.imageSize || d.processor.imageSeqLen != d.config.imageSeqLen())
        throw Error(QStringLiteral("%1: the processor's tiles (%2 px, %3 tokens) do not fit the vision encoder (%4 px, %5 tokens)")
                        .arg(dir).arg(d.processor.tileSize).arg(d.processor.imageSeqLen).arg(d.config.vision.imageSize).arg(d.config.imageSeqLen()));
    d.tokenizerValue = Tokenizer::load(dir);
    d.chat = std::make_unique<ChatTemplate>(ChatTemplate::fromModelFolder(dir, options.allowChatMLFallback));
    for (const char *token : {"<image>", "<fake_token_around_image>", "<global-img>"})
        if (!d.tokenizerValue->tokenId(QLatin1String(token)))
            throw Error(QStringLiteral("%1: the tokenizer has no %2 token").arg(dir, QLatin1String(token)));
    if (d.tokenizerValue->tokenId(QStringLiteral("<image>")) != d.config.imageTokenId)
        throw Error(QStringLiteral("%1: the tokenizer's <image> id differs from config.json's image_token_id %2").arg(dir).arg(d.config.imageTokenId));
    try {
        d.model = std::make_unique<Idefics3Model>(d.config, Checkpoint::openFolder(dir), parseDevice(options.device), parseDtype(options.dtype), WeightMemory::MapWhenPossible);
    } catch (const c10::Error &e) {
        throw Error(QStringLiteral("%1: loading the weights failed: %2").arg(dir, QString::fromStdString(e.what_without_backtrace())));
    }
    return m;
}

ModelInspection inspectIdefics3Folder(const QString &dir)
{
    ModelInspection r;
    r.dir = QDir(dir).absolutePath();
    const QDir d(dir);
    if (!d.exists())
        throw Error(QStringLiteral("%1: model folder not found").arg(dir));
    for (const char *f : {"config.json", "generation_config.json", "tokenizer.json", "chat_template.json", "preprocessor_config.json",
                          "processor_config.json", "model.safetensors"})
        (QFileInfo::exists(d.filePath(QLatin1String(f))) ? r.filesFound : r.filesMissing) << QLatin1String(f);
    if (QFileInfo::exists(d.filePath(QStringLiteral("model.safetensors.index.json")))) {
        r.filesMissing.removeAll(QStringLiteral("model.safetensors"));
        r.filesFound << QStringLiteral("model.safetensors.index.json");
    }
    if (QFileInfo::exists(d.filePath(QStringLiteral("tokenizer_config.json"))))
        r.filesMissing.removeAll(QStringLiteral("chat_template.json"));
    const Idefics3Config config = Idefics3Config::load(dir);
    r.architecture = json::readFile(d.filePath(QStringLiteral("config.json"))).object().value(QStringLiteral("architectures")).toArray().first().toString(QStringLiteral("(unspecified)"));
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
    r.weightProblems = checkIdefics3Weights(config, checkpoint).summary();
    try {
        const ChatTemplate t = ChatTemplate::fromModelFolder(dir);
        r.chatTemplate = t.kind() == ChatTemplate::Kind::SmolVLM ? QStringLiteral("SmolVLM-Instruct (rendered natively)") : QStringLiteral("other");
    } catch (const Error &e) {
        r.chatTemplate = e.message();
    }
    return r;
}

void writeRandomIdefics3Folder(const QString &dir, const Idefics3Config &configIn, const QString &tokenizerDir, std::uint64_t seed, const QString &dtype)
{
    Idefics3Config config = configIn;
    const auto tok = Tokenizer::load(tokenizerDir);
    auto id = [&](const char *token) {
        const auto v = tok->tokenId(QLatin1String(token));
        if (!v)
            throw Error(QStringLiteral("%1: has no %2 token (a SmolVLM tokenizer is needed)").arg(tok->path(), QLatin1String(token)));
        return static_cast<std::int64_t>(*v);
    };
    config.imageTokenId = id("<image>");
    id("<fake_token_around_image>");
    id("<global-img>");
    config.eosTokenIds = {id("<end_of_utterance>")};
    config.padTokenId = id("<|im_end|>");
    config.bosTokenId = id("<|im_start|>");
    config.torchDtype = torchDtypeLabel(parseDtype(dtype));
    if (config.vocabSize < tok->vocabSize())
        throw Error(QStringLiteral("vocab_size %1 is smaller than the tokenizer's %2").arg(config.vocabSize).arg(tok->vocabSize()));
    if (!QDir().mkpath(dir))
        throw Error(QStringLiteral("%1: cannot create the folder").arg(dir));
    json::writeFile(QDir(dir).filePath(QStringLiteral("config.json")), QJsonDocument(config.toJson()));
    json::writeFile(QDir(dir).filePath(QStringLiteral("generation_config.json")),
                    QJsonDocument(QJsonObject{{QStringLiteral("bos_token_id"), static_cast<qint64>(*config.bosTokenId)},
                                              {QStringLiteral("eos_token_id"), static_cast<qint64>(config.eosTokenIds.front())},
                                              {QStringLiteral("pad_token_id"), static_cast<qint64>(*config.padTokenId)},
                                              {QStringLiteral("do_sample"), false}}));
    for (const char *file : {"tokenizer.json", "tokenizer_config.json", "chat_template.json", "special_tokens_map.json", "added_tokens.json"}) {
        const QString from = QDir(tokenizerDir).filePath(QLatin1String(file)), to = QDir(dir).filePath(QLatin1String(file));
        if (QFileInfo::exists(from)) {
            QFile::remove(to);
            if (!QFile::copy(from, to))
                throw Error(QStringLiteral("%1: cannot copy %2").arg(dir, from));
        }
    }
    // The processor follows the encoder: tiles of its image_size, SmolVLM's 4 tiles per side.
    QJsonObject pre = QFileInfo::exists(QDir(tokenizerDir).filePath(QStringLiteral("preprocessor_config.json")))
                          ? json::readFile(QDir(tokenizerDir).filePath(QStringLiteral("preprocessor_config.json"))).object()
                          : QJsonObject{{QStringLiteral("image_processor_type"), QStringLiteral("Idefics3ImageProcessor")}, {QStringLiteral("resample"), 1},
                                        {QStringLiteral("do_image_splitting"), true}, {QStringLiteral("image_mean"), QJsonArray{0.5, 0.5, 0.5}},
                                        {QStringLiteral("image_std"), QJsonArray{0.5, 0.5, 0.5}}};
    pre.insert(QStringLiteral("max_image_size"), QJsonObject{{QStringLiteral("longest_edge"), config.vision.imageSize}});
    pre.insert(QStringLiteral("size"), QJsonObject{{QStringLiteral("longest_edge"), 4 * config.vision.imageSize}});
    json::writeFile(QDir(dir).filePath(QStringLiteral("preprocessor_config.json")), QJsonDocument(pre));
    json::writeFile(QDir(dir).filePath(QStringLiteral("processor_config.json")),
                    QJsonDocument(QJsonObject{{QStringLiteral("image_seq_len"), config.imageSeqLen()}, {QStringLiteral("processor_class"), QStringLiteral("Idefics3Processor")}}));
    Idefics3Model model(config, torch::kCPU, parseDtype(dtype), seed);
    model.save(dir);
}

} // namespace mpa::vlm
