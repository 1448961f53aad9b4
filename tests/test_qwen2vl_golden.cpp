// The native Qwen2-VL family against transformers' golden tensors (fixtures/qwen2vl-tiny,
// fixtures/qwen25vl-tiny), with the READMEs' tolerances: positions, vision embeddings (and, where
// the folder has them, Qwen2.5-VL's windows and every vision block), hidden states and logits for
// the image, text-only, video and left-padded batch cases; greedy generation; loss, gradients and
// one AdamW step. The fixture folder is an argument: layer counts, tied heads, pad ids and which
// cases exist are read from it, so any folder of the same format is checked by the same code.
#include "pipeline/adamw.h"
#include "golden_compare.h"
#include "test_support.h"
#include "util/error.h"
#include "vlm/generation.h"
#include "vlm/image_processor.h"
#include "vlm/activation_checkpoint.h"
#include "vlm/qwen25vl/qwen25vl_windows.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/model_config.h"
#include "vlm/safetensors.h"

#include <QtTest>
#include <set>

using namespace mpa;
using namespace mpa::vlm;

namespace {
QString g_folder;

using test::relativeError;

std::vector<std::array<std::int64_t, 3>> grids(const torch::Tensor &t)
{
    std::vector<std::array<std::int64_t, 3>> out;
    auto c = t.to(torch::kInt64).contiguous();
    for (std::int64_t i = 0; i < c.size(0); ++i)
        out.push_back({c[i][0].item<std::int64_t>(), c[i][1].item<std::int64_t>(), c[i][2].item<std::int64_t>()});
    return out;
}
// Normalise + patchify stored uint8 HWC images as the processor does (multiples of 28: no resize).
torch::Tensor pixelValues(const std::vector<torch::Tensor> &imagesHwc, const ImageProcessorConfig &config)
{
    std::vector<RgbImage> images;
    for (const auto &t : imagesHwc) {
        auto c = t.contiguous();
        RgbImage img;
        img.height = static_cast<int>(c.size(0));
        img.width = static_cast<int>(c.size(1));
        img.pixels.assign(c.data_ptr<std::uint8_t>(), c.data_ptr<std::uint8_t>() + c.numel());
        images.push_back(std::move(img));
    }
    const PatchedPixels px = processImages(images, config);
    return torch::from_blob(const_cast<float *>(px.values.data()), {px.rows, static_cast<std::int64_t>(config.rowSize())}, torch::kFloat32).clone();
}

std::vector<std::int64_t> longs(const torch::Tensor &t)
{
    auto c = t.to(torch::kInt64).contiguous().reshape({-1});
    return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

std::vector<std::int64_t> cumulative(const std::vector<std::int64_t> &lengths)
{
    std::vector<std::int64_t> out{0};
    for (auto l : lengths)
        out.push_back(out.back() + l);
    return out;
}
} // namespace

class TestQwen2VLGolden : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void singleImageForward();
    void visionTowerStepByStep();
    void processorResize();
    void textOnlyForward();
    void videoForward();
    void leftPaddedBatchForward();
    void greedyGeneration();
    void batchedGreedyGeneration();
    void lossGradientsAndAdamW();
    void missingAndMisshapedWeightsAreReportedTogether();
    void trainerAdamWMatchesTorch();
    void checkpointingGivesTheSameGradients();

private:
    torch::Tensor g(const char *name) const { return tensorFromFile(*m_golden, QString::fromLatin1(name)); }
    bool has(const char *name) const { return m_golden->find(QString::fromLatin1(name)) != nullptr; }
    std::int64_t padId() const { return m_generation.padTokenId.value_or(m_model->config().bosTokenId.value_or(0)); }
    VisionInput batchImages() const
    {
        // qwen2vl-tiny stores the batch's pixel values; qwen25vl-tiny only its uint8 images.
        VisionInput in{has("batch.pixel_values") ? g("batch.pixel_values") : pixelValues({g("batch.image0_uint8_hwc"), g("batch.image1_uint8_hwc")}, m_images),
                       grids(g("batch.image_grid_thw"))};
        return in;
    }
    VisionInput videoInput() const
    {
        VisionInput video{g("video.pixel_values_videos"), grids(g("video.video_grid_thw"))};
        if (has("video.second_per_grid_ts"))
            video.secondsPerGrid = {g("video.second_per_grid_ts").item<double>()};
        return video;
    }
    GenerationConfig m_generation;
    ImageProcessorConfig m_images;
    std::shared_ptr<const SafetensorsFile> m_golden;
    std::unique_ptr<Qwen2VLModel> m_model;
};

void TestQwen2VLGolden::initTestCase()
{
    // A path, or the name of a folder under the fixtures directory (how CTest registers them).
    g_folder = test::fixtureFolder(g_folder.isEmpty() ? QStringLiteral("qwen2vl-tiny") : g_folder);
    if (g_folder.isEmpty())
        QSKIP("golden fixtures not found (set MPA_FIXTURES_DIR or pass a Qwen2-VL family fixture folder)");
    m_golden = SafetensorsFile::open(g_folder + QStringLiteral("/golden.safetensors"));
    const Qwen2VLConfig config = Qwen2VLConfig::load(g_folder);
    m_generation = GenerationConfig::load(g_folder, config);
    // Qwen2-VL's processor defaults where the folder has no preprocessor_config.json.
    if (QFileInfo::exists(g_folder + QStringLiteral("/preprocessor_config.json")))
        m_images = ImageProcessorConfig::load(g_folder);
    qInfo("%s: %s, %d layers, vision depth %d, %s head", qPrintable(g_folder), qPrintable(config.modelType), config.numLayers,
          config.vision.depth, config.tieWordEmbeddings ? "tied" : "untied");
    m_model = std::make_unique<Qwen2VLModel>(config, Checkpoint::openFolder(g_folder), torch::kCPU, torch::kFloat32);
}

void TestQwen2VLGolden::singleImageForward()
{
    torch::NoGradGuard noGrad;
    VisionInput images{g("pixel_values"), grids(g("image_grid_thw"))};
    const RopeIndex rope = m_model->ropeIndex(g("input_ids"), images.grids, {}, g("attention_mask"));
    QVERIFY(torch::equal(rope.positionIds, g("position_ids")));
    QVERIFY(torch::equal(rope.ropeDeltas, g("rope_deltas")));
    const double vision = relativeError(m_model->encodeVision(images), g("vision_embeds"));
    const ForwardOutput out = m_model->forward(g("input_ids"), g("attention_mask"), &images, nullptr, nullptr, true);
    // Embeddings, the output of every layer but the last, the final norm.
    const int expectedHidden = m_model->config().numLayers + 1;
    QCOMPARE(static_cast<int>(out.hiddenStates.size()), expectedHidden);
    double hidden = 0;
    int compared = 0;
    for (int i = 0; i < expectedHidden; ++i) {
        if (!has(qPrintable(QStringLiteral("hidden_states.%1").arg(i))))
            continue;
        ++compared;
        hidden = std::max(hidden, relativeError(out.hiddenStates[static_cast<std::size_t>(i)], g(qPrintable(QStringLiteral("hidden_states.%1").arg(i)))));
    }
    QVERIFY(compared >= 2);
    const double logits = relativeError(out.logits, g("logits"));
    qInfo("single image: vision %.2e, hidden %.2e, logits %.2e (tolerance 1e-4)", vision, hidden, logits);
    QVERIFY(vision <= 1e-4);
    QVERIFY(hidden <= 1e-4);
    QVERIFY(logits <= 1e-4);
}

// Qwen2.5-VL's tower tensor by tensor (windows, patch embedding, rotary angles, every block,
// merger); a folder without these goldens (Qwen2-VL) skips it.
void TestQwen2VLGolden::visionTowerStepByStep()
{
    if (!has("vision.window_index"))
        QSKIP("this fixture folder has no step-by-step vision goldens");
    torch::NoGradGuard noGrad;
    const auto &v = m_model->config().vision;
    const VisionWindows w = visionWindows(grids(g("image_grid_thw")), v);
    QCOMPARE(w.order, longs(g("vision.window_index")));
    QCOMPARE(cumulative(w.windowPatches), longs(g("vision.cu_window_seqlens")));
    QCOMPARE(cumulative(w.slicePatches), longs(g("vision.cu_seqlens")));
    if (has("batch.vision_window_index"))
        QCOMPARE(visionWindows(grids(g("batch.image_grid_thw")), v).order, longs(g("batch.vision_window_index")));
    VisionInput images{g("pixel_values"), grids(g("image_grid_thw"))};
    VisionTrace trace;
    const auto embeds = m_model->encodeVision(images, &trace);
    double worst = relativeError(trace.patchEmbeds, g("vision.patch_embeds"));
    QCOMPARE(static_cast<int>(trace.blockOutputs.size()), v.depth);
    for (int b = 0; b < v.depth; ++b) {
        const QString name = QStringLiteral("vision.block_outputs.%1").arg(b);
        if (m_golden->find(name)) {
            const double e = relativeError(trace.blockOutputs[static_cast<std::size_t>(b)], tensorFromFile(*m_golden, name));
            qInfo("block %d (%s attention): %.2e", b, std::count(v.fullAttentionBlocks.begin(), v.fullAttentionBlocks.end(), b) ? "full" : "window", e);
            worst = std::max(worst, e);
        }
    }
    worst = std::max(worst, relativeError(trace.mergerOutput, g("vision.merger_output")));
    worst = std::max(worst, relativeError(embeds, g("vision_embeds")));
    if (has("video.vision_embeds"))
        worst = std::max(worst, relativeError(m_model->encodeVision(videoInput()), g("video.vision_embeds")));
    qInfo("vision tower step by step: worst %.2e (tolerance 1e-4)", worst);
    QVERIFY(worst <= 1e-4);
}

// A size that is not a multiple of 28: smart_resize's grid and Pillow's bicubic resize, exactly
// (qwen25vl-tiny stores the resized image; qwen2vl-tiny's resizes are checked in test_vlm_inputs).
void TestQwen2VLGolden::processorResize()
{
    if (!has("resize.resized_uint8_hwc"))
        QSKIP("this fixture folder stores no resized image");
    const auto in = g("resize.image_uint8_hwc").contiguous();
    RgbImage img{static_cast<int>(in.size(0)), static_cast<int>(in.size(1)),
                 std::vector<std::uint8_t>(in.data_ptr<std::uint8_t>(), in.data_ptr<std::uint8_t>() + in.numel())};
    const auto [h, w] = smartResize(img.height, img.width, ImageProcessorConfig{});
    const auto grid = g("resize.image_grid_thw");
    QCOMPARE(h / 14, grid[0][1].item<int>());
    QCOMPARE(w / 14, grid[0][2].item<int>());
    const RgbImage out = resizeBicubicPil(img, h, w);
    QVERIFY(torch::equal(torch::from_blob(const_cast<std::uint8_t *>(out.pixels.data()), {h, w, 3}, torch::kUInt8), g("resize.resized_uint8_hwc")));
}

void TestQwen2VLGolden::textOnlyForward()
{
    torch::NoGradGuard noGrad;
    const ForwardOutput out = m_model->forward(g("text_only.input_ids"), {}, nullptr, nullptr);
    const double e = relativeError(out.logits, g("text_only.logits"));
    qInfo("text only: logits %.2e", e);
    QVERIFY(e <= 1e-4);
}

void TestQwen2VLGolden::videoForward()
{
    torch::NoGradGuard noGrad;
    const VisionInput video = videoInput();
    const RopeIndex rope = m_model->ropeIndex(g("video.input_ids"), {}, video.grids, {}, video.secondsPerGrid);
    QVERIFY(torch::equal(rope.positionIds, g("video.position_ids")));
    QVERIFY(torch::equal(rope.ropeDeltas, g("video.rope_deltas")));
    if (has("video.position_ids_default_1s"))
        QVERIFY(torch::equal(m_model->ropeIndex(g("video.input_ids"), {}, video.grids, {}).positionIds, g("video.position_ids_default_1s")));
    const double e = relativeError(m_model->forward(g("video.input_ids"), {}, nullptr, &video).logits, g("video.logits"));
    qInfo("video: logits %.2e", e);
    QVERIFY(e <= 1e-4);
    if (has("video.generated_ids")) {
        GenerationConfig options;
        options.maxNewTokens = static_cast<int>(g("video.generated_ids").size(1) - g("video.input_ids").size(1));
        options.eosTokenIds = {};
        options.padTokenId = padId();
        const GenerationOutput out = generate(*m_model, g("video.input_ids"), torch::ones_like(g("video.input_ids")), nullptr, options, {}, &video);
        QVERIFY2(torch::equal(out.sequences, g("video.generated_ids")), qPrintable(QString::fromStdString(torch::str(out.sequences))));
    }
}

void TestQwen2VLGolden::leftPaddedBatchForward()
{
    torch::NoGradGuard noGrad;
    const VisionInput images = batchImages();
    const auto mask = g("batch.attention_mask");
    const RopeIndex rope = m_model->ropeIndex(g("batch.input_ids"), images.grids, {}, mask);
    QVERIFY(torch::equal(rope.positionIds, g("batch.position_ids")));
    QVERIFY(torch::equal(rope.ropeDeltas, g("batch.rope_deltas")));
    const auto logits = m_model->forward(g("batch.input_ids"), mask, &images, nullptr).logits;
    const auto valid = (mask == 1).unsqueeze(-1).expand_as(logits);
    const double e = relativeError(logits, g("batch.logits"), valid);
    qInfo("batch: logits %.2e (valid rows)", e);
    QVERIFY(e <= 1e-4);
}

void TestQwen2VLGolden::greedyGeneration()
{
    VisionInput images{g("pixel_values"), grids(g("image_grid_thw"))};
    GenerationConfig options;
    options.maxNewTokens = static_cast<int>(g("generated_ids").size(1) - g("input_ids").size(1));
    options.eosTokenIds = {}; // the reference generated exactly that many tokens
    options.padTokenId = padId();
    const GenerationOutput out = generate(*m_model, g("input_ids"), g("attention_mask"), &images, options);
    const auto expected = g("generated_ids");
    QVERIFY2(torch::equal(out.sequences, expected), qPrintable(QStringLiteral("got %1").arg(QString::fromStdString(torch::str(out.sequences)))));
    QCOMPARE(out.tokenLogprobs.size(0), 1);
    QVERIFY((out.tokenLogprobs <= 0).all().item<bool>());
}

void TestQwen2VLGolden::batchedGreedyGeneration()
{
    const VisionInput images = batchImages();
    GenerationConfig options;
    options.maxNewTokens = static_cast<int>(g("batch.generated_ids").size(1) - g("batch.input_ids").size(1));
    options.eosTokenIds = {};
    options.padTokenId = padId();
    const GenerationOutput out = generate(*m_model, g("batch.input_ids"), g("batch.attention_mask"), &images, options);
    QVERIFY2(torch::equal(out.sequences, g("batch.generated_ids")), qPrintable(QString::fromStdString(torch::str(out.sequences))));
}

void TestQwen2VLGolden::lossGradientsAndAdamW()
{
    // A fresh copy of the model so the step does not disturb the other cases.
    Qwen2VLModel model(Qwen2VLConfig::load(g_folder), Checkpoint::openFolder(g_folder), torch::kCPU, torch::kFloat32);
    std::vector<torch::Tensor> params;
    for (auto &[name, t] : model.parameters()) {
        t.set_requires_grad(true);
        params.push_back(t);
    }
    VisionInput images{g("pixel_values"), grids(g("image_grid_thw"))};
    auto logits = model.forward(g("train.input_ids"), {}, &images, nullptr).logits;
    auto loss = Qwen2VLModel::causalLmLoss(logits, g("train.labels"));
    const double refLoss = g("train.loss").item<double>();
    qInfo("loss %.7f vs %.7f", loss.item<double>(), refLoss);
    QVERIFY(std::abs(loss.item<double>() - refLoss) <= 1e-5 * std::max(1.0, std::abs(refLoss)));
    loss.backward();
    // Every gradient the folder stores ("grad.<parameter>"); a tied head's gradient is the
    // embedding's.
    int gradients = 0;
    for (const TensorInfo &info : m_golden->tensors()) {
        const QString &stored = info.name;
        if (!stored.startsWith(QLatin1String("grad.")))
            continue;
        std::string name = stored.mid(5).toStdString();
        if (!model.parameters().count(name) && name == "lm_head.weight" && model.config().tieWordEmbeddings)
            name = "model.embed_tokens.weight";
        QVERIFY2(model.parameters().count(name), qPrintable(stored));
        const double e = relativeError(model.parameters().at(name).grad(), tensorFromFile(*m_golden, stored));
        qInfo("%s: %.2e", qPrintable(stored), e);
        QVERIFY(e <= 1e-4);
        ++gradients;
    }
    QVERIFY(gradients >= 2);
    torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.01));
    optimizer.step();
    for (const char *name : {"lm_head.weight", "model.norm.weight"}) {
        if (!model.parameters().count(name))
            continue; // a tied head is the embedding, which the folder does not store
        auto after = model.parameters().at(name).detach();
        auto ref = g(qPrintable(QStringLiteral("after_adamw.") + QLatin1String(name)));
        auto grad = g(qPrintable(QStringLiteral("grad.") + QLatin1String(name))).abs();
        auto diff = (after - ref).abs();
        const double big = diff.masked_select(grad >= 1e-5).max().item<double>();
        const double small = (grad < 1e-5).any().item<bool>() ? diff.masked_select(grad < 1e-5).max().item<double>() : 0.0;
        qInfo("after AdamW %s: %.2e where |g| >= 1e-5, %.2e elsewhere", name, big, small);
        QVERIFY(big <= 1e-6);
        QVERIFY(small <= 2e-3);
    }
    torch::NoGradGuard noGrad;
    auto after = Qwen2VLModel::causalLmLoss(model.forward(g("train.input_ids"), {}, &images, nullptr).logits, g("train.labels"));
    const double ref = g("train.loss_after_adamw").item<double>();
    QVERIFY(std::abs(after.item<double>() - ref) <= 1e-4 * std::max(1.0, std::abs(ref)));
}

void TestQwen2VLGolden::missingAndMisshapedWeightsAreReportedTogether()
{
    // A checkpoint with one tensor dropped, one reshaped and one extra: one error lists all three.
    QTemporaryDir tmp;
    std::vector<torch::Tensor> keep;
    std::vector<TensorToWrite> tensors;
    for (const auto &[name, t] : m_model->parameters()) {
        if (name == "model.norm.weight")
            continue;
        auto c = name == "model.embed_tokens.weight" ? t.narrow(0, 0, t.size(0) - 24).contiguous() : t.contiguous();
        keep.push_back(c);
        tensors.push_back({QString::fromStdString(name), DType::F32, c.sizes().vec(), c.data_ptr()});
    }
    auto extra = torch::zeros({3});
    tensors.push_back({QStringLiteral("model.extra.weight"), DType::F32, {3}, extra.data_ptr()});
    writeSafetensors(tmp.filePath(QStringLiteral("model.safetensors")), tensors);
    try {
        Qwen2VLModel(m_model->config(), Checkpoint::openFolder(tmp.path()), torch::kCPU, torch::kFloat32);
        QFAIL("expected an error");
    } catch (const Error &e) {
        const QString m = e.message();
        const auto &c = m_model->config();
        QVERIFY2(m.contains(QStringLiteral("missing 1: model.norm.weight [%1]").arg(c.hiddenSize)), qPrintable(m));
        QVERIFY2(m.contains(QStringLiteral("model.embed_tokens.weight expected [%1, %2], found [%3, %2]").arg(c.vocabSize).arg(c.hiddenSize).arg(c.vocabSize - 24)), qPrintable(m));
        QVERIFY2(m.contains(QLatin1String("unexpected 1: model.extra.weight")), qPrintable(m));
    }
}

void TestQwen2VLGolden::trainerAdamWMatchesTorch()
{
    // The Parity Leveler's own AdamW (pipeline/adamw.h) against torch.optim.AdamW's step on
    // the fixture's gradients: same tolerances as above.
    for (const char *name : {"lm_head.weight", "model.norm.weight"}) {
        if (!m_model->parameters().count(name) || !has(qPrintable(QStringLiteral("after_adamw.") + QLatin1String(name))))
            continue;
        auto param = m_model->parameters().at(name).detach().clone();
        const auto grad = g(qPrintable(QStringLiteral("grad.") + QLatin1String(name)));
        auto m = torch::zeros_like(param), v = torch::zeros_like(param);
        pipeline::adamwStep(param, grad, m, v, 1, 1e-3, 0.9, 0.999, 1e-8, 0.01);
        const auto ref = g(qPrintable(QStringLiteral("after_adamw.") + QLatin1String(name)));
        auto diff = (param - ref).abs();
        QVERIFY(diff.masked_select(grad.abs() >= 1e-5).max().item<double>() <= 1e-6);
        if ((grad.abs() < 1e-5).any().item<bool>())
            QVERIFY(diff.masked_select(grad.abs() < 1e-5).max().item<double>() <= 2e-3);
    }
}

// Activation checkpointing recomputes every decoder layer and vision block in backward: the
// loss and every gradient (weights and LoRA adapters with dropout, whose masks must be drawn
// again identically) equal the run that keeps its activations, within float32 rounding.
void TestQwen2VLGolden::checkpointingGivesTheSameGradients()
{
    const Qwen2VLConfig config = Qwen2VLConfig::load(g_folder);
    auto run = [&](bool checkpointing) {
        auto model = std::make_unique<Qwen2VLModel>(config, Checkpoint::openFolder(g_folder), torch::kCPU, torch::kFloat32);
        model->setTraining(true);
        model->setGradientCheckpointing(checkpointing);
        torch::manual_seed(7);
        for (const std::string name : {"model.layers.0.self_attn.q_proj.weight", "visual.blocks.0.attn.qkv.weight"}) {
            const auto &w = model->parameters().at(name);
            LoraAdapter a;
            a.a = (torch::randn({4, w.size(1)}) * 0.1).set_requires_grad(true);
            a.b = (torch::randn({w.size(0), 4}) * 0.1).set_requires_grad(true);
            a.scale = 2.0;
            a.dropout = 0.2;
            model->loraAdapters()[name] = a;
        }
        for (auto &[name, t] : model->parameters())
            t.set_requires_grad(true);
        VisionInput images{g("pixel_values"), grids(g("image_grid_thw"))};
        torch::manual_seed(11); // the dropout masks
        auto loss = Qwen2VLModel::causalLmLoss(model->forward(g("train.input_ids"), {}, &images, nullptr).logits, g("train.labels"));
        // How many blocks the graph recomputes: a walk over its nodes.
        int checkpointNodes = 0;
        std::vector<torch::autograd::Node *> todo{loss.grad_fn().get()};
        std::set<torch::autograd::Node *> seen;
        while (!todo.empty()) {
            torch::autograd::Node *n = todo.back();
            todo.pop_back();
            if (!n || !seen.insert(n).second)
                continue;
            checkpointNodes += n->name() == kCheckpointNodeName ? 1 : 0;
            for (const auto &e : n->next_edges())
                todo.push_back(e.function.get());
        }
        loss.backward();
        return std::make_tuple(loss.item<double>(), std::move(model), checkpointNodes);
    };
    auto [plainLoss, plain, plainNodes] = run(false);
    auto [ckptLoss, ckpt, ckptNodes] = run(true);
    QCOMPARE(plainNodes, 0);
    QCOMPARE(ckptNodes, config.numLayers + config.vision.depth); // one per decoder layer and vision block
    QVERIFY2(std::abs(plainLoss - ckptLoss) <= 1e-6 * std::max(1.0, std::abs(plainLoss)), qPrintable(QStringLiteral("%1 vs %2").arg(plainLoss).arg(ckptLoss)));
    double worst = 0;
    int compared = 0, missing = 0;
    auto compare = [&](const torch::Tensor &a, const torch::Tensor &b) {
        if (!a.grad().defined() || !b.grad().defined()) {
            missing += a.grad().defined() != b.grad().defined() ? 1 : 0;
            return;
        }
        worst = std::max(worst, relativeError(b.grad(), a.grad()));
        ++compared;
    };
    for (const auto &[name, t] : plain->parameters())
        compare(t, ckpt->parameters().at(name));
    for (const auto &[name, a] : plain->loraAdapters()) {
        compare(a.a, ckpt->loraAdapters().at(name).a);
        compare(a.b, ckpt->loraAdapters().at(name).b);
    }
    qInfo("%d gradients, largest relative difference with checkpointing %.2e", compared, worst);
    QCOMPARE(missing, 0);
    QVERIFY(compared >= static_cast<int>(plain->parameters().size()));
    QVERIFY(worst <= 1e-5);
}

int main(int argc, char *argv[])
{
    // Usage: test_qwen2vl_golden [FIXTURE_FOLDER | NAME under MPA_FIXTURES_DIR] [Qt Test options]
    std::vector<char *> args(argv, argv + argc);
    if (argc > 1 && argv[1][0] != '-') {
        g_folder = QString::fromLocal8Bit(argv[1]);
        args.erase(args.begin() + 1);
    }
    QCoreApplication app(argc, argv);
    TestQwen2VLGolden test;
    return QTest::qExec(&test, static_cast<int>(args.size()), args.data());
}

#include "test_qwen2vl_golden.moc"
