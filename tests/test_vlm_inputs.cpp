// Model inputs against a qwen2vl fixture folder (golden.safetensors made with transformers):
// image processor (exact where no resize happens, Pillow-exact bicubic otherwise), the grid
// table, the chat template goldens of a tokenizer folder, and config parsing.
#include "golden_file.h"
#include "test_support.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/chat_template.h"
#include "vlm/image_processor.h"
#include "vlm/model_config.h"

#include <QDir>
#include <QtTest>

using namespace mpa;
using namespace mpa::vlm;

namespace {

RgbImage imageFrom(const std::vector<std::uint8_t> &hwc, int h, int w)
{
    return RgbImage{h, w, hwc};
}

double maxAbsDiff(const std::vector<float> &a, const std::vector<float> &b)
{
    if (a.size() != b.size())
        return 1e30;
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
    return m;
}

} // namespace

class TestVlmInputs : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void pixelValuesWithoutResizeAreExact();
    void videoFramesPairInTime();
    void batchOfTwoImages();
    void pillowBicubicResizeMatches();
    void mpaBudgetRowsAndSums();
    void gridTable();
    void smartResizeRoundsHalfToEven();
    void chatTemplateGoldens();
    void chatTemplateRecognition();
    void configLayouts();
    void preprocessorSpellings();

private:
    QString m_model, m_tokenizer;
    std::shared_ptr<const SafetensorsFile> m_golden;
};

void TestVlmInputs::initTestCase()
{
    if (test::fixturesDir().isEmpty())
        QSKIP("golden fixtures not found (set MPA_FIXTURES_DIR)");
    m_model = test::fixture(QStringLiteral("qwen2vl-tiny"));
    m_tokenizer = test::fixture(QStringLiteral("qwen2-tokenizer"));
    m_golden = SafetensorsFile::open(m_model + QStringLiteral("/golden.safetensors"));
}

void TestVlmInputs::pixelValuesWithoutResizeAreExact()
{
    const auto img = test::goldenValues<std::uint8_t>(*m_golden, QStringLiteral("image_uint8_hwc"));
    const PatchedPixels p = processImages({imageFrom(img, 56, 56)}, ImageProcessorConfig{});
    QCOMPARE(p.rows, 16);
    QCOMPARE(p.grids.front(), (std::array<std::int64_t, 3>{1, 4, 4}));
    QVERIFY(maxAbsDiff(p.values, test::goldenValues<float>(*m_golden, QStringLiteral("pixel_values"))) <= 1e-6);
}

void TestVlmInputs::videoFramesPairInTime()
{
    const auto frames = test::goldenValues<std::uint8_t>(*m_golden, QStringLiteral("video.frames_uint8_thwc"));
    std::vector<RgbImage> v;
    const std::size_t frame = 56 * 56 * 3;
    for (int f = 0; f < 4; ++f)
        v.push_back(imageFrom(std::vector<std::uint8_t>(frames.begin() + f * frame, frames.begin() + (f + 1) * frame), 56, 56));
    const PatchedPixels p = processVideo(v, ImageProcessorConfig{});
    QCOMPARE(p.grids.front(), (std::array<std::int64_t, 3>{2, 4, 4}));
    QVERIFY(maxAbsDiff(p.values, test::goldenValues<float>(*m_golden, QStringLiteral("video.pixel_values_videos"))) <= 1e-6);
}

void TestVlmInputs::batchOfTwoImages()
{
    const PatchedPixels p = processImages({imageFrom(test::goldenValues<std::uint8_t>(*m_golden, QStringLiteral("batch.image0_uint8_hwc")), 56, 84),
                                           imageFrom(test::goldenValues<std::uint8_t>(*m_golden, QStringLiteral("batch.image1_uint8_hwc")), 56, 56)},
                                          ImageProcessorConfig{});
    QCOMPARE(p.rows, 40);
    QVERIFY(maxAbsDiff(p.values, test::goldenValues<float>(*m_golden, QStringLiteral("batch.pixel_values"))) <= 1e-6);
}

void TestVlmInputs::pillowBicubicResizeMatches()
{
    const PatchedPixels p = processImages({imageFrom(test::goldenValues<std::uint8_t>(*m_golden, QStringLiteral("resize.image0_uint8_hwc")), 100, 70),
                                           imageFrom(test::goldenValues<std::uint8_t>(*m_golden, QStringLiteral("resize.image1_uint8_hwc")), 45, 130)},
                                          ImageProcessorConfig{});
    const auto grids = test::goldenValues<std::int64_t>(*m_golden, QStringLiteral("resize.image_grid_thw"));
    QCOMPARE(p.grids.at(0), (std::array<std::int64_t, 3>{grids[0], grids[1], grids[2]}));
    QCOMPARE(p.grids.at(1), (std::array<std::int64_t, 3>{grids[3], grids[4], grids[5]}));
    const double diff = maxAbsDiff(p.values, test::goldenValues<float>(*m_golden, QStringLiteral("resize.pixel_values")));
    qInfo("resize.pixel_values max abs diff %.3g", diff);
    QVERIFY(diff <= 1e-6);
}

void TestVlmInputs::mpaBudgetRowsAndSums()
{
    // The 480x640 input is the 60x80 seed upscaled by pixel replication (8x8 blocks).
    const auto seed = test::goldenValues<std::uint8_t>(*m_golden, QStringLiteral("mpa.seed_uint8_hwc"));
    RgbImage img{480, 640, std::vector<std::uint8_t>(480 * 640 * 3)};
    for (int y = 0; y < 480; ++y)
        for (int x = 0; x < 640; ++x)
            for (int c = 0; c < 3; ++c)
                img.pixels[(static_cast<std::size_t>(y) * 640 + x) * 3 + c] = seed[(static_cast<std::size_t>(y / 8) * 80 + x / 8) * 3 + c];
    ImageProcessorConfig mpa;
    mpa.minPixels = 128 * 28 * 28;
    mpa.maxPixels = 512 * 28 * 28;
    const PatchedPixels p = processImages({img}, mpa);
    QCOMPARE(p.grids.front(), (std::array<std::int64_t, 3>{1, 34, 46}));
    QCOMPARE(p.rows, 1564);
    const auto index = test::goldenValues<std::int64_t>(*m_golden, QStringLiteral("mpa.row_index"));
    const auto rows = test::goldenValues<float>(*m_golden, QStringLiteral("mpa.pixel_values_rows"));
    std::vector<float> ours;
    for (std::int64_t r : index)
        ours.insert(ours.end(), p.values.begin() + r * 1176, p.values.begin() + (r + 1) * 1176);
    QVERIFY(maxAbsDiff(ours, rows) <= 1e-6);
    const auto sums = test::goldenValues<double>(*m_golden, QStringLiteral("mpa.row_sum"));
    const auto sumsq = test::goldenValues<double>(*m_golden, QStringLiteral("mpa.row_sumsq"));
    double worst = 0;
    for (std::int64_t r = 0; r < 1564; ++r) {
        double s = 0, q = 0;
        for (int k = 0; k < 1176; ++k) {
            const double v = p.values[static_cast<std::size_t>(r * 1176 + k)];
            s += v;
            q += v * v;
        }
        worst = std::max({worst, std::abs(s - sums[static_cast<std::size_t>(r)]), std::abs(q - sumsq[static_cast<std::size_t>(r)])});
    }
    qInfo("mpa row sums: worst abs diff %.3g", worst);
    QVERIFY(worst <= 1e-4);
}

void TestVlmInputs::gridTable()
{
    const auto hw = test::goldenValues<std::int64_t>(*m_golden, QStringLiteral("sizes.hw"));
    const auto def = test::goldenValues<std::int64_t>(*m_golden, QStringLiteral("sizes.grid_thw_default"));
    const auto mpaGrid = test::goldenValues<std::int64_t>(*m_golden, QStringLiteral("sizes.grid_thw_mpa"));
    ImageProcessorConfig defaults, mpa;
    mpa.minPixels = 100352;
    mpa.maxPixels = 401408;
    for (std::size_t i = 0; i < hw.size() / 2; ++i) {
        const auto d = smartResize(static_cast<int>(hw[2 * i]), static_cast<int>(hw[2 * i + 1]), defaults);
        const auto m = smartResize(static_cast<int>(hw[2 * i]), static_cast<int>(hw[2 * i + 1]), mpa);
        QCOMPARE(d[0] / 14, def[3 * i + 1]);
        QCOMPARE(d[1] / 14, def[3 * i + 2]);
        QCOMPARE(m[0] / 14, mpaGrid[3 * i + 1]);
        QCOMPARE(m[1] / 14, mpaGrid[3 * i + 2]);
    }
}

void TestVlmInputs::smartResizeRoundsHalfToEven()
{
    // 70 / 28 = 2.5: Python rounds to 2 (56 px), std::round would give 3 (84 px).
    QCOMPARE(smartResize(70, 70 * 2, ImageProcessorConfig{})[0], 56);
    QVERIFY_THROWS_EXCEPTION(Error, smartResize(20, 400, ImageProcessorConfig{}));
}

void TestVlmInputs::chatTemplateGoldens()
{
    const QString file = m_tokenizer + QStringLiteral("/chat_template.golden.jsonl");
    const ChatTemplate tpl = ChatTemplate::fromModelFolder(m_tokenizer);
    QCOMPARE(tpl.kind(), ChatTemplate::Kind::Qwen2VL);
    int cases = 0;
    for (const QJsonObject &o : json::readLines(file)) {
        QList<ChatMessage> messages;
        for (const QJsonValue &mv : o.value(QStringLiteral("messages")).toArray()) {
            const QJsonObject m = mv.toObject();
            const QString role = m.value(QStringLiteral("role")).toString();
            const QJsonValue content = m.value(QStringLiteral("content"));
            if (content.isString()) {
                messages << ChatMessage::plain(role, content.toString());
                continue;
            }
            QList<ChatPart> parts;
            for (const QJsonValue &pv : content.toArray()) {
                const QJsonObject p = pv.toObject();
                const QString type = p.value(QStringLiteral("type")).toString();
                // The template's own tests: type image, or an "image"/"image_url" key; video alike.
                if (type == QLatin1String("image") || p.contains(QStringLiteral("image")) || p.contains(QStringLiteral("image_url")))
                    parts << ChatPart{ChatPart::Kind::Image, {}};
                else if (type == QLatin1String("video") || p.contains(QStringLiteral("video")))
                    parts << ChatPart{ChatPart::Kind::Video, {}};
                else if (p.contains(QStringLiteral("text")))
                    parts << ChatPart{ChatPart::Kind::Text, p.value(QStringLiteral("text")).toString()};
            }
            messages << ChatMessage::withParts(role, parts);
        }
        const QJsonObject opts = o.value(QStringLiteral("options")).toObject();
        ChatOptions options;
        options.addGenerationPrompt = opts.value(QStringLiteral("add_generation_prompt")).toBool(false);
        options.addVisionId = opts.value(QStringLiteral("add_vision_id")).toBool(false);
        QCOMPARE(tpl.render(messages, options), o.value(QStringLiteral("rendered")).toString());
        ++cases;
    }
    QVERIFY(cases >= 4);
}

void TestVlmInputs::chatTemplateRecognition()
{
    const QString llama = QStringLiteral("{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>{% endfor %}");
    try {
        ChatTemplate::fromTemplateText(llama, QStringLiteral("x/tokenizer_config.json"));
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("x/tokenizer_config.json")) && e.message().contains(QLatin1String("ChatML")), qPrintable(e.message()));
    }
    const ChatTemplate chatml = ChatTemplate::fromTemplateText(llama, QStringLiteral("x"), true);
    QCOMPARE(chatml.render({ChatMessage::plain(QStringLiteral("user"), QStringLiteral("hi"))}),
             QStringLiteral("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"));
}

void TestVlmInputs::configLayouts()
{
    const Qwen2VLConfig c = Qwen2VLConfig::load(m_model);
    QCOMPARE(c.hiddenSize, 64);
    QCOMPARE(c.numKvHeads, 2);
    QCOMPARE(c.headDim(), 16);
    QCOMPARE(c.mropeSection, (std::array<int, 3>{2, 3, 3}));
    QCOMPARE(c.vision.depth, 2);
    QCOMPARE(c.vision.embedDim, 32);
    QCOMPARE(c.vision.mlpRatio, 4);      // class default, not in the file
    QCOMPARE(c.vision.patchSize, 14);
    QCOMPARE(c.imageTokenId, 1023);
    QCOMPARE(c.parameterCount(), 293248); // golden_summary.json: n_params
    const GenerationConfig g = GenerationConfig::load(m_model, c);
    QCOMPARE(g.padTokenId.value(), 1011);
    QCOMPARE(g.eosTokenIds, (std::vector<std::int64_t>{1013}));
    QVERIFY(!g.doSample);

    // The nested layout of newer saves, with rope_parameters.
    QTemporaryDir tmp;
    QJsonObject flat = json::readFile(m_model + QStringLiteral("/config.json")).object();
    QJsonObject text;
    for (const char *k : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                          "num_key_value_heads", "rms_norm_eps"}) {
        text.insert(QLatin1String(k), flat.take(QLatin1String(k)));
    }
    text.insert(QStringLiteral("rope_parameters"), QJsonObject{{QStringLiteral("mrope_section"), QJsonArray{2, 3, 3}},
                                                               {QStringLiteral("rope_theta"), 5000.0}, {QStringLiteral("rope_type"), QStringLiteral("default")}});
    flat.remove(QStringLiteral("rope_scaling"));
    flat.insert(QStringLiteral("text_config"), text);
    json::writeFile(tmp.filePath(QStringLiteral("config.json")), QJsonDocument(flat));
    const Qwen2VLConfig nested = Qwen2VLConfig::load(tmp.path());
    QCOMPARE(nested.hiddenSize, 64);
    QCOMPARE(nested.ropeTheta, 5000.0);

    // Refusals name the file and the problem.
    flat.insert(QStringLiteral("model_type"), QStringLiteral("llava"));
    json::writeFile(tmp.filePath(QStringLiteral("config.json")), QJsonDocument(flat));
    try {
        Qwen2VLConfig::load(tmp.path());
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("\"llava\" is not a Qwen2-VL family model (qwen2_vl, qwen2_5_vl)")), qPrintable(e.message()));
    }
    flat.insert(QStringLiteral("model_type"), QStringLiteral("qwen2_vl"));
    text.insert(QStringLiteral("hidden_size"), QStringLiteral("64"));
    flat.insert(QStringLiteral("text_config"), text);
    json::writeFile(tmp.filePath(QStringLiteral("config.json")), QJsonDocument(flat));
    try {
        Qwen2VLConfig::load(tmp.path());
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("\"hidden_size\" must be a positive integer, got a string")), qPrintable(e.message()));
    }
}

void TestVlmInputs::preprocessorSpellings()
{
    QTemporaryDir tmp;
    const QString path = tmp.filePath(QStringLiteral("preprocessor_config.json"));
    test::writeText(path, R"({"size": {"shortest_edge": 3136, "longest_edge": 12845056}})");
    QCOMPARE(ImageProcessorConfig::load(path).maxPixels, 12845056);
    test::writeText(path, R"({"size": {"min_pixels": 100352, "max_pixels": 401408}})");
    QCOMPARE(ImageProcessorConfig::load(path).minPixels, 100352);
    QCOMPARE(ImageProcessorConfig::load(m_tokenizer).maxPixels, 12845056);
    test::writeText(path, R"({"min_pixels": 500, "max_pixels": 100})");
    QVERIFY_THROWS_EXCEPTION(Error, ImageProcessorConfig::load(path));
}

QTEST_GUILESS_MAIN(TestVlmInputs)
#include "test_vlm_inputs.moc"
