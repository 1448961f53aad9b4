// The native Idefics3 (SmolVLM) against transformers' golden tensors (fixtures/smolvlm-tiny),
// with the README's tolerances: every Pillow LANCZOS stage and the tiling, pixel values,
// prompt ids (chat template, <image> expansion, tokenizer), vision hidden states, connector,
// hidden states and logits for the split, unsplit, text-only and left-padded batch cases,
// greedy generation, loss, gradients and one AdamW step. The fixture folder is an argument:
// sizes, layer counts, tied heads and special ids are read from it.
#include "golden_compare.h"
#include "test_support.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/chat_template.h"
#include "vlm/idefics3/idefics3_model.h"
#include "vlm/idefics3/idefics3_processor.h"
#include "vlm/pil_resize.h"
#include "vlm/generation.h"
#include "vlm/safetensors.h"
#include "vlm/tokenizer.h"

#include <QtTest>

using namespace mpa;
using namespace mpa::vlm;

namespace {
QString g_folder;

using test::relativeError;

RgbImage image(const torch::Tensor &hwc)
{
    auto c = hwc.to(torch::kUInt8).contiguous();
    return {static_cast<int>(c.size(0)), static_cast<int>(c.size(1)), std::vector<std::uint8_t>(c.data_ptr<std::uint8_t>(), c.data_ptr<std::uint8_t>() + c.numel())};
}

torch::Tensor hwc(const RgbImage &img)
{
    return torch::from_blob(const_cast<std::uint8_t *>(img.pixels.data()), {img.height, img.width, 3}, torch::kUInt8).clone();
}
} // namespace

class TestIdefics3Golden : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void lanczosStagesAndTiles();
    void tilingTables();
    void promptIds();
    void splitImageForward();
    void unsplitAndTextOnly();
    void leftPaddedBatch();
    void greedyGeneration();
    void lossGradientsAndAdamW();

private:
    torch::Tensor g(const QString &name) const { return tensorFromFile(*m_golden, name); }
    bool has(const QString &name) const { return m_golden->find(name) != nullptr; }
    torch::Tensor tilesOf(const torch::Tensor &imageHwc, Idefics3ProcessorConfig config) const
    {
        std::vector<float> px;
        const Idefics3Image split = splitIdefics3Image(image(imageHwc), config);
        appendTilePixels(split.tiles, config, px);
        const std::int64_t T = config.tileSize;
        return torch::from_blob(px.data(), {static_cast<std::int64_t>(split.tiles.size()), 3, T, T}, torch::kFloat32).clone();
    }
    GenerationOutput greedy(const torch::Tensor &ids, const torch::Tensor &mask, const torch::Tensor &tiles, int newTokens) const;

    std::shared_ptr<const SafetensorsFile> m_golden;
    std::unique_ptr<Idefics3Model> m_model;
    Idefics3ProcessorConfig m_processor;
    QJsonObject m_summary;
};

void TestIdefics3Golden::initTestCase()
{
    // A path, or the name of a folder under the fixtures directory (how CTest registers them).
    g_folder = test::fixtureFolder(g_folder.isEmpty() ? QStringLiteral("smolvlm-tiny") : g_folder);
    if (g_folder.isEmpty())
        QSKIP("golden fixtures not found (set MPA_FIXTURES_DIR or pass an Idefics3 fixture folder)");
    m_golden = SafetensorsFile::open(g_folder + QStringLiteral("/golden.safetensors"));
    m_summary = json::readFile(g_folder + QStringLiteral("/golden_summary.json")).object();
    const Idefics3Config config = Idefics3Config::load(g_folder);
    m_processor = Idefics3ProcessorConfig::load(g_folder);
    qInfo("%s: %d text layers, %d vision layers, tile %d, image_seq_len %d, %s head", qPrintable(g_folder), config.numLayers,
          config.vision.numLayers, config.vision.imageSize, config.imageSeqLen(), config.tieWordEmbeddings ? "tied" : "untied");
    QCOMPARE(m_processor.imageSeqLen, config.imageSeqLen());
    QCOMPARE(m_processor.tileSize, config.vision.imageSize);
    m_model = std::make_unique<Idefics3Model>(config, Checkpoint::openFolder(g_folder), torch::kCPU, torch::kFloat32);
}

void TestIdefics3Golden::lanczosStagesAndTiles()
{
    // Case 1 and every resize.* input: stage 1, stage 2 and the global image, bit for bit.
    int checked = 0;
    auto check = [&](const QString &input, const QString &prefix) {
        const Idefics3Image split = splitIdefics3Image(image(g(input)), m_processor);
        QVERIFY2(torch::equal(hwc(split.stage1), g(prefix + QStringLiteral("stage1_uint8_hwc"))), qPrintable(prefix));
        QVERIFY2(torch::equal(hwc(split.stage2), g(prefix + QStringLiteral("stage2_uint8_hwc"))), qPrintable(prefix));
        QVERIFY2(torch::equal(hwc(split.tiles.back()), g(prefix + QStringLiteral("global_uint8_hwc"))), qPrintable(prefix));
        ++checked;
    };
    check(QStringLiteral("image_uint8_hwc"), QStringLiteral("image."));
    for (int i = 0; has(QStringLiteral("resize.image%1_uint8_hwc").arg(i)); ++i)
        check(QStringLiteral("resize.image%1_uint8_hwc").arg(i), QStringLiteral("resize.image%1.").arg(i));
    QVERIFY(checked >= 2);
    const Idefics3Image split = splitIdefics3Image(image(g(QStringLiteral("image_uint8_hwc"))), m_processor);
    const auto rc = g(QStringLiteral("rows_cols"));
    QCOMPARE(split.sizes.rows, rc[0].item<int>());
    QCOMPARE(split.sizes.cols, rc[1].item<int>());
    const double e = (tilesOf(g(QStringLiteral("image_uint8_hwc")), m_processor) - g(QStringLiteral("pixel_values")).squeeze(0)).abs().max().item<double>();
    QVERIFY2(e <= 1e-6, qPrintable(QString::number(e)));
    // Unsplit: do_image_splitting=False squashes stage 1 to one tile; do_resize=False rounds up.
    Idefics3ProcessorConfig noSplit = m_processor;
    noSplit.doImageSplitting = false;
    QVERIFY((tilesOf(g(QStringLiteral("unsplit.image_uint8_hwc")), noSplit) - g(QStringLiteral("unsplit.pixel_values")).squeeze(0)).abs().max().item<double>() <= 1e-6);
    Idefics3ProcessorConfig noResize = m_processor;
    noResize.doResize = false;
    QVERIFY((tilesOf(g(QStringLiteral("unsplit.image_uint8_hwc")), noResize) - g(QStringLiteral("unsplit_noresize.pixel_values")).squeeze(0)).abs().max().item<double>() <= 1e-6);
}

void TestIdefics3Golden::tilingTables()
{
    // sizes.real: the real SmolVLM-256M processor; sizes.fixture: this folder's.
    Idefics3ProcessorConfig real;
    real.longestEdge = 2048;
    real.tileSize = 512;
    real.imageSeqLen = 64;
    const auto hw = g(QStringLiteral("sizes.hw"));
    for (const auto &[name, config] : {std::pair{QStringLiteral("sizes.real"), real}, std::pair{QStringLiteral("sizes.fixture"), m_processor}}) {
        const auto table = g(name);
        for (std::int64_t i = 0; i < hw.size(0); ++i) {
            const Idefics3Sizes s = idefics3Sizes(hw[i][0].item<int>(), hw[i][1].item<int>(), config);
            const std::vector<std::int64_t> got{s.stage1Height, s.stage1Width, s.stage2Height, s.stage2Width, s.rows, s.cols, s.tiles(),
                                                static_cast<std::int64_t>(s.tiles()) * config.imageSeqLen};
            auto row = table[i].contiguous();
            const std::vector<std::int64_t> want(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + row.numel());
            QVERIFY2(got == want, qPrintable(QStringLiteral("%1 row %2 (%3 x %4)").arg(name).arg(i).arg(hw[i][0].item<int>()).arg(hw[i][1].item<int>())));
        }
    }
}

void TestIdefics3Golden::promptIds()
{
    // The rendered template, each <image> expanded by the processor rule, then the tokenizer.
    const auto tok = Tokenizer::load(g_folder);
    const ChatTemplate tpl = ChatTemplate::fromModelFolder(g_folder);
    QCOMPARE(tpl.kind(), ChatTemplate::Kind::SmolVLM);
    const QJsonObject prompts = m_summary.value(QStringLiteral("prompts")).toObject();
    auto render = [&](const char *key) {
        const QJsonObject p = prompts.value(QLatin1String(key)).toObject();
        QList<ChatMessage> messages;
        for (const QJsonValue &mv : p.value(QStringLiteral("messages")).toArray()) {
            QList<ChatPart> parts;
            for (const QJsonValue &part : mv.toObject().value(QStringLiteral("content")).toArray()) {
                const QJsonObject o = part.toObject();
                parts << (o.value(QStringLiteral("type")).toString() == QLatin1String("image") ? ChatPart{ChatPart::Kind::Image, {}}
                                                                                                 : ChatPart{ChatPart::Kind::Text, o.value(QStringLiteral("text")).toString()});
            }
            messages << ChatMessage::withParts(mv.toObject().value(QStringLiteral("role")).toString(), parts);
        }
        ChatOptions options;
        options.addGenerationPrompt = p.value(QStringLiteral("add_generation_prompt")).toBool();
        const QString text = tpl.render(messages, options);
        [&] { QCOMPARE(text, p.value(QStringLiteral("rendered")).toString()); }();
        return text;
    };
    auto ids = [&](const QString &text) {
        const auto v = tok->encode(text);
        return torch::tensor(std::vector<std::int64_t>(v.begin(), v.end())).unsqueeze(0);
    };
    const Idefics3Sizes s = splitIdefics3Image(image(g(QStringLiteral("image_uint8_hwc"))), m_processor).sizes;
    QString single = render("single_image");
    single.replace(QStringLiteral("<image>"), idefics3ImagePrompt(s.rows, s.cols, m_processor.imageSeqLen));
    QVERIFY(torch::equal(ids(single), g(QStringLiteral("input_ids"))));
    QString unsplit = render("unsplit_image");
    unsplit.replace(QStringLiteral("<image>"), idefics3ImagePrompt(0, 0, m_processor.imageSeqLen));
    QVERIFY(torch::equal(ids(unsplit), g(QStringLiteral("unsplit.input_ids"))));
    QVERIFY(torch::equal(ids(render("text_only")), g(QStringLiteral("text_only.input_ids"))));
}

void TestIdefics3Golden::splitImageForward()
{
    torch::NoGradGuard noGrad;
    const auto tiles = g(QStringLiteral("pixel_values")).squeeze(0);
    Idefics3VisionTrace trace;
    const auto connector = m_model->encodeTiles(tiles, &trace);
    double vision = relativeError(trace.lastHiddenState, g(QStringLiteral("vision.last_hidden_state")));
    for (std::size_t i = 0; i < trace.hiddenStates.size(); ++i)
        if (has(QStringLiteral("vision.hidden_states.%1").arg(i)))
            vision = std::max(vision, relativeError(trace.hiddenStates[i], g(QStringLiteral("vision.hidden_states.%1").arg(i))));
    QCOMPARE(static_cast<int>(trace.hiddenStates.size()), m_model->config().vision.numLayers + 1);
    const double conn = relativeError(connector, g(QStringLiteral("connector_output")));
    const ForwardOutput out = m_model->forward(g(QStringLiteral("input_ids")), g(QStringLiteral("attention_mask")), tiles, nullptr, true);
    QCOMPARE(static_cast<int>(out.hiddenStates.size()), m_model->config().numLayers + 1);
    double hidden = 0;
    for (std::size_t i = 0; i < out.hiddenStates.size(); ++i)
        if (has(QStringLiteral("hidden_states.%1").arg(i)))
            hidden = std::max(hidden, relativeError(out.hiddenStates[i], g(QStringLiteral("hidden_states.%1").arg(i))));
    const double logits = relativeError(out.logits, g(QStringLiteral("logits")));
    qInfo("split image: vision %.2e, connector %.2e, hidden %.2e, logits %.2e (tolerance 1e-4)", vision, conn, hidden, logits);
    QVERIFY(vision <= 1e-4 && conn <= 1e-4 && hidden <= 1e-4 && logits <= 1e-4);
}

void TestIdefics3Golden::unsplitAndTextOnly()
{
    torch::NoGradGuard noGrad;
    const double unsplit = relativeError(m_model->forward(g(QStringLiteral("unsplit.input_ids")), {}, g(QStringLiteral("unsplit.pixel_values")).squeeze(0)).logits,
                                         g(QStringLiteral("unsplit.logits")));
    const double noresize = relativeError(m_model->forward(g(QStringLiteral("unsplit.input_ids")), {}, g(QStringLiteral("unsplit_noresize.pixel_values")).squeeze(0)).logits,
                                          g(QStringLiteral("unsplit_noresize.logits")));
    const double text = relativeError(m_model->forward(g(QStringLiteral("text_only.input_ids")), {}, {}).logits, g(QStringLiteral("text_only.logits")));
    qInfo("unsplit %.2e, unsplit without resize %.2e, text only %.2e", unsplit, noresize, text);
    QVERIFY(unsplit <= 1e-4 && noresize <= 1e-4 && text <= 1e-4);
}

void TestIdefics3Golden::leftPaddedBatch()
{
    torch::NoGradGuard noGrad;
    // Padding images (all-zero) are dropped, as the model does; real tiles keep their order.
    const auto u8 = g(QStringLiteral("batch.pixel_values_uint8"));
    const auto real = g(QStringLiteral("batch.pixel_attention_mask")).flatten(2).amax(2).to(torch::kBool).flatten(); // [B * N]
    const std::int64_t T = u8.size(-1);
    auto tiles = (u8.reshape({-1, 3, T, T}).to(torch::kFloat32) * (1.0 / 255.0)).to(torch::kFloat32);
    tiles = ((tiles - 0.5) / 0.5).index({real});
    const auto mask = g(QStringLiteral("batch.attention_mask"));
    const auto logits = m_model->forward(g(QStringLiteral("batch.input_ids")), mask, tiles).logits;
    const double e = relativeError(logits, g(QStringLiteral("batch.logits")), (mask == 1).unsqueeze(-1).expand_as(logits));
    qInfo("batch: logits %.2e (valid rows)", e);
    QVERIFY(e <= 1e-4);
    const auto batchIds = g(QStringLiteral("batch.input_ids"));
    const GenerationOutput out = greedy(batchIds, mask, tiles, static_cast<int>(g(QStringLiteral("batch.generated_ids")).size(1) - batchIds.size(1)));
    QVERIFY2(torch::equal(out.sequences, g(QStringLiteral("batch.generated_ids"))), qPrintable(QString::fromStdString(torch::str(out.sequences))));
}

GenerationOutput TestIdefics3Golden::greedy(const torch::Tensor &ids, const torch::Tensor &mask, const torch::Tensor &tiles, int newTokens) const
{
    DecodingModel steps;
    steps.makeCache = [&](std::int64_t b, std::int64_t c) { return m_model->makeCache(b, c); };
    steps.prefill = [&](const torch::Tensor &i, const torch::Tensor &m, KVCache &cache) { return m_model->forward(i, m, tiles, &cache, false, true).logits; };
    steps.decode = [&](const torch::Tensor &t, const torch::Tensor &m, KVCache &cache) { return m_model->decodeStep(t, m, cache); };
    GenerationConfig options = GenerationConfig{};
    options.maxNewTokens = newTokens;
    const QJsonObject gen = json::readFile(g_folder + QStringLiteral("/generation_config.json")).object();
    options.eosTokenIds = {gen.value(QStringLiteral("eos_token_id")).toInteger()};
    options.padTokenId = gen.value(QStringLiteral("pad_token_id")).toInteger();
    return generate(steps, ids, mask, options);
}

void TestIdefics3Golden::greedyGeneration()
{
    auto run = [&](const QString &prefix, const torch::Tensor &tiles) {
        const auto ids = g(prefix + QStringLiteral("input_ids"));
        const auto expected = g(prefix + QStringLiteral("generated_ids"));
        const GenerationOutput out = greedy(ids, torch::ones_like(ids), tiles, static_cast<int>(expected.size(1) - ids.size(1)));
        // The reference may stop early on <end_of_utterance>; compare what it produced.
        QVERIFY2(torch::equal(out.sequences.narrow(1, 0, expected.size(1)), expected), qPrintable(prefix + QString::fromStdString(torch::str(out.sequences))));
    };
    run(QString(), g(QStringLiteral("pixel_values")).squeeze(0));
    run(QStringLiteral("unsplit."), g(QStringLiteral("unsplit.pixel_values")).squeeze(0));
    run(QStringLiteral("text_only."), {});
}

void TestIdefics3Golden::lossGradientsAndAdamW()
{
    Idefics3Model model(m_model->config(), Checkpoint::openFolder(g_folder), torch::kCPU, torch::kFloat32);
    std::vector<torch::Tensor> params;
    for (auto &[name, t] : model.parameters()) {
        t.set_requires_grad(true);
        params.push_back(t);
    }
    const auto tiles = g(QStringLiteral("pixel_values")).squeeze(0);
    auto loss = Qwen2VLModel::causalLmLoss(model.forward(g(QStringLiteral("train.input_ids")), {}, tiles).logits, g(QStringLiteral("train.labels")));
    const double ref = g(QStringLiteral("train.loss")).item<double>();
    qInfo("loss %.7f vs %.7f", loss.item<double>(), ref);
    QVERIFY(std::abs(loss.item<double>() - ref) <= 1e-5 * std::max(1.0, std::abs(ref)));
    loss.backward();
    int gradients = 0;
    for (const TensorInfo &info : m_golden->tensors()) {
        if (!info.name.startsWith(QLatin1String("grad.")))
            continue;
        std::string name = info.name.mid(5).toStdString();
        if (!model.parameters().count(name) && name == "lm_head.weight" && model.config().tieWordEmbeddings)
            name = "model.text_model.embed_tokens.weight";
        QVERIFY2(model.parameters().count(name), qPrintable(info.name));
        const double e = relativeError(model.parameters().at(name).grad(), g(info.name));
        qInfo("%s: %.2e", qPrintable(info.name), e);
        QVERIFY(e <= 1e-4);
        ++gradients;
    }
    QVERIFY(gradients >= 2);
    torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.01));
    optimizer.step();
    for (const TensorInfo &info : m_golden->tensors()) {
        if (!info.name.startsWith(QLatin1String("after_adamw.")))
            continue;
        const std::string name = info.name.mid(12).toStdString();
        if (!model.parameters().count(name))
            continue;
        auto diff = (model.parameters().at(name).detach() - g(info.name)).abs();
        auto grad = g(QStringLiteral("grad.") + QString::fromStdString(name)).abs();
        QVERIFY(diff.masked_select(grad >= 1e-5).max().item<double>() <= 1e-6);
        if ((grad < 1e-5).any().item<bool>())
            QVERIFY(diff.masked_select(grad < 1e-5).max().item<double>() <= 2e-3);
    }
    torch::NoGradGuard noGrad;
    const double after = Qwen2VLModel::causalLmLoss(model.forward(g(QStringLiteral("train.input_ids")), {}, tiles).logits, g(QStringLiteral("train.labels"))).item<double>();
    const double refAfter = g(QStringLiteral("train.loss_after_adamw")).item<double>();
    QVERIFY(std::abs(after - refAfter) <= 1e-4 * std::max(1.0, std::abs(refAfter)));
}

int main(int argc, char *argv[])
{
    // Usage: test_idefics3_golden [FIXTURE_FOLDER | NAME under MPA_FIXTURES_DIR] [Qt Test options]
    std::vector<char *> args(argv, argv + argc);
    if (argc > 1 && argv[1][0] != '-') {
        g_folder = QString::fromLocal8Bit(argv[1]);
        args.erase(args.begin() + 1);
    }
    QCoreApplication app(argc, argv);
    TestIdefics3Golden test;
    return QTest::qExec(&test, static_cast<int>(args.size()), args.data());
}

#include "test_idefics3_golden.moc"
