// The native runtime end to end through its torch-free API and the CLI: a random model
// folder with the real Qwen2 tokenizer is written, inspected, loaded and asked questions.
// Batched (left-padded) answers must equal answers computed one at a time.
#include "test_support.h"
#include "util/error.h"
#include "vlm/safetensors.h"
#include "vlm/tokenizer.h"
#include "vlm/vlm_model.h"

#include <QDir>
#include <QProcess>
#include <QtTest>

using namespace mpa;
using namespace mpa::vlm;

namespace {

// The shared tiny config's shape, a little larger (two layers, hidden 64) so the batch test has depth.
Qwen2VLConfig tinyConfig()
{
    return Qwen2VLConfig::small(64, 2, 151680);
}

RgbImage noise(int h, int w, int seed)
{
    RgbImage img{h, w, std::vector<std::uint8_t>(static_cast<std::size_t>(h) * w * 3)};
    std::uint32_t x = 2463534242u + static_cast<std::uint32_t>(seed);
    for (auto &p : img.pixels) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p = static_cast<std::uint8_t>(x);
    }
    return img;
}

struct Run
{
    int code;
    QString out, err;
};

Run mpaRun(const QStringList &args, const QByteArray &input = {})
{
    QProcess p;
    p.start(test::cliPath(), args);
    p.write(input);
    p.closeWriteChannel();
    p.waitForFinished(120000);
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

} // namespace

class TestVlmRuntime : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void inspectReportsAFolder();
    void batchedAnswersEqualSingleAnswers();
    void promptIdsExpandImagePlaceholders();
    void cliGenerateAndTokenize();
    void badModelFoldersAreClearErrors();

private:
    QTemporaryDir m_tmp;
    QString m_model;
};

void TestVlmRuntime::initTestCase()
{
    if (test::fixturesDir().isEmpty())
        QSKIP("golden fixtures not found (the Qwen2 tokenizer comes from them)");
    m_model = m_tmp.filePath(QStringLiteral("tiny-qwen2vl"));
    ImageProcessorConfig budget;
    writeRandomModelFolder(m_model, tinyConfig(), test::fixture(QStringLiteral("qwen2-tokenizer")), 7);
}

void TestVlmRuntime::inspectReportsAFolder()
{
    const ModelInspection r = inspectModelFolder(m_model);
    QCOMPARE(r.parameters, tinyConfig().parameterCount());
    QVERIFY2(r.weightProblems.isEmpty(), qPrintable(r.weightProblems));
    QVERIFY(r.filesMissing.isEmpty());
    QCOMPARE(r.storedDtypes, QStringList{QStringLiteral("F32")});
    QVERIFY(r.chatTemplate.contains(QLatin1String("Qwen2-VL")));
}

void TestVlmRuntime::batchedAnswersEqualSingleAnswers()
{
    const auto model = VisionLanguageModel::load(m_model);
    GenerationConfig g = model->generationConfig();
    g.maxNewTokens = 6;
    std::vector<VlmRequest> requests = {
        {{noise(56, 84, 1)}, QStringLiteral("What is written on the sign?")},
        {{noise(60, 56, 2)}, QStringLiteral("Colour?")},
        {{}, QStringLiteral("A text-only question without any image at all")},
    };
    const auto batched = model->answer(requests, g);
    QCOMPARE(batched.size(), 3u);
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto alone = model->answer({requests[i]}, g);
        QCOMPARE(batched[i].ids, alone.front().ids);
        QCOMPARE(batched[i].text, alone.front().text);
        QCOMPARE(batched[i].promptTokens, alone.front().promptTokens);
        for (std::size_t k = 0; k < alone.front().logprobs.size(); ++k)
            QVERIFY(std::abs(batched[i].logprobs[k] - alone.front().logprobs[k]) < 1e-4);
    }
    // Cancellation stops between steps.
    int calls = 0;
    const auto cut = model->answer({requests[0]}, g, [&] { return ++calls >= 2; });
    QVERIFY(cut.front().ids.size() <= 3);
}

void TestVlmRuntime::promptIdsExpandImagePlaceholders()
{
    const auto model = VisionLanguageModel::load(m_model);
    std::vector<std::array<std::int64_t, 3>> grids;
    const auto ids = model->promptIds({{noise(56, 84, 1)}, QStringLiteral("hi")}, &grids);
    QCOMPARE(grids.front(), (std::array<std::int64_t, 3>{1, 4, 6}));
    QCOMPARE(std::count(ids.begin(), ids.end(), static_cast<std::int32_t>(model->info().imageTokenId)), 6);
    const QString text = model->tokenizer()->decode(ids);
    QVERIFY2(text.startsWith(QLatin1String("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|>")),
             qPrintable(text));
    QVERIFY(text.endsWith(QLatin1String("<|vision_end|>hi<|im_end|>\n<|im_start|>assistant\n")));
}

void TestVlmRuntime::cliGenerateAndTokenize()
{
    test::writePng(m_tmp.filePath(QStringLiteral("pic.png")), 70, 50);
    const Run gen = mpaRun({QStringLiteral("generate"), QStringLiteral("--model"), m_model, QStringLiteral("--image"),
                            m_tmp.filePath(QStringLiteral("pic.png")), QStringLiteral("--prompt"), QStringLiteral("What is this?"),
                            QStringLiteral("--max-new-tokens"), QStringLiteral("4")});
    QVERIFY2(gen.code == 0, qPrintable(gen.err));
    QVERIFY2(gen.err.contains(QLatin1String("tokens/s")), qPrintable(gen.err));
    const Run inspect = mpaRun({QStringLiteral("inspect-model"), m_model});
    QCOMPARE(inspect.code, 0);
    QVERIFY(inspect.out.contains(QLatin1String("all names and shapes match")));
    const Run enc = mpaRun({QStringLiteral("tokenize"), QStringLiteral("--tokenizer"), m_model}, "{\"text\":\"Hello world\"}\n");
    QCOMPARE(enc.code, 0);
    QCOMPARE(enc.out.trimmed(), QStringLiteral("{\"ids\":[9707,1879],\"text\":\"Hello world\"}"));
    const Run dec = mpaRun({QStringLiteral("tokenize"), QStringLiteral("--tokenizer"), m_model, QStringLiteral("--decode")}, "{\"ids\":[9707,1879]}\n");
    QCOMPARE(dec.out.trimmed(), QStringLiteral("{\"ids\":[9707,1879],\"text\":\"Hello world\"}"));
    const Run bad = mpaRun({QStringLiteral("tokenize"), QStringLiteral("--tokenizer"), m_model}, "not json\n");
    QCOMPARE(bad.code, 1);
    QVERIFY(bad.err.contains(QLatin1String("stdin line 1")));
}

void TestVlmRuntime::badModelFoldersAreClearErrors()
{
    // CUDA requested where there is none.
    if (!QProcessEnvironment::systemEnvironment().contains(QStringLiteral("CUDA_VISIBLE_DEVICES"))) {
        const Run cuda = mpaRun({QStringLiteral("generate"), QStringLiteral("--model"), m_model, QStringLiteral("--prompt"), QStringLiteral("x"),
                                 QStringLiteral("--device"), QStringLiteral("cuda")});
        if (cuda.code != 0)
            QVERIFY2(cuda.err.contains(QLatin1String("CUDA")), qPrintable(cuda.err));
    }
    // A folder whose weights lost a tensor: inspect exits 1 and names it; loading refuses.
    const QString broken = m_tmp.filePath(QStringLiteral("broken"));
    QDir().mkpath(broken);
    for (const QString &f : QDir(m_model).entryList(QDir::Files))
        if (f != QLatin1String("model.safetensors"))
            QFile::copy(QDir(m_model).filePath(f), QDir(broken).filePath(f));
    const auto full = SafetensorsFile::open(QDir(m_model).filePath(QStringLiteral("model.safetensors")));
    std::vector<TensorToWrite> keep;
    for (const TensorInfo &t : full->tensors())
        if (t.name != QLatin1String("model.norm.weight"))
            keep.push_back({t.name, t.dtype, t.shape, full->data(t)});
    writeSafetensors(QDir(broken).filePath(QStringLiteral("model.safetensors")), keep);
    const Run inspect = mpaRun({QStringLiteral("inspect-model"), broken});
    QCOMPARE(inspect.code, 1);
    QVERIFY2(inspect.out.contains(QLatin1String("missing 1: model.norm.weight [64]")), qPrintable(inspect.out));
    try {
        VisionLanguageModel::load(broken);
        QFAIL("expected an error");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("model.norm.weight")), qPrintable(e.message()));
    }
    // No config.json at all.
    QVERIFY_THROWS_EXCEPTION(Error, VisionLanguageModel::load(m_tmp.filePath(QStringLiteral("nowhere"))));
    // An architecture the registry does not know: refused by name, with the supported ones.
    const QString other = m_tmp.filePath(QStringLiteral("paligemma"));
    test::writeText(other + QStringLiteral("/config.json"), R"({"model_type": "paligemma"})");
    try {
        VisionLanguageModel::load(other);
        QFAIL("expected a refusal");
    } catch (const Error &e) {
        QVERIFY2(e.message().contains(QLatin1String("\"paligemma\" is not supported (supported: qwen2_vl, qwen2_5_vl")), qPrintable(e.message()));
    }
    QVERIFY_THROWS_EXCEPTION(Error, inspectModelFolder(other));
}

QTEST_GUILESS_MAIN(TestVlmRuntime)
#include "test_vlm_runtime.moc"
