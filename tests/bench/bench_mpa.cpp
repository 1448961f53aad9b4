// MPA engine benchmarks (CPU), each against a baseline measured in the same run:
// - training throughput (forward + backward + AdamW on image+text samples) for the tiny test
//   config and a ~100M-parameter Qwen2-VL-shaped config: tokens/s and achieved GFLOP/s
//   (6 x parameters x tokens + attention) over the matmul peak;
// - parity-identifier answering at batch sizes 1, 4, 8, 16: answers/s and speed-up over batch 1;
// - the HTTP backend against an in-process `mpa serve`, per request, against the native
//   backend answering the same questions directly.
#include "backends/http_backend.h"
#include "backends/launch_environment.h"
#include "backends/torch_runtime.h"
#include "pipeline/adamw.h"
#include "serve/openai_server.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/vlm_model.h"
#include "bench_shapes.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <opencv2/imgcodecs.hpp>
#include <cstdio>

using namespace mpa;
using namespace mpa::vlm;

namespace {

using bench::config;
using bench::peakF32;

void benchTraining(const char *label, const Qwen2VLConfig &c, int steps, double peak)
{
    Qwen2VLModel model(c, torch::kCPU, torch::kFloat32, 1);
    std::vector<torch::Tensor> params, m, v;
    std::int64_t nonEmbedding = 0, total = 0;
    for (auto &[name, t] : model.parameters()) {
        t.set_requires_grad(true);
        params.push_back(t);
        m.push_back(torch::zeros_like(t));
        v.push_back(torch::zeros_like(t));
        total += t.numel();
        if (name != "model.embed_tokens.weight")
            nonEmbedding += t.numel();
    }
    // One sample: 224x224 image (256 patches -> 64 tokens) + 190 text tokens = 256 tokens.
    const std::int64_t textTokens = 190, imageTokens = 64, L = textTokens + imageTokens + 2;
    auto ids = torch::randint(0, 150000, {1, L}, torch::kInt64);
    ids[0][0] = c.visionStartTokenId;
    ids.narrow(1, 1, imageTokens).fill_(c.imageTokenId);
    ids[0][imageTokens + 1] = c.visionEndTokenId;
    auto labels = ids.clone();
    labels.narrow(1, 0, L - 20).fill_(-100);
    VisionInput vision{torch::randn({256, 1176}), {{1, 16, 16}}};
    auto step = [&] {
        auto loss = Qwen2VLModel::causalLmLoss(model.forward(ids, {}, &vision, nullptr).logits, labels);
        loss.backward();
        for (std::size_t i = 0; i < params.size(); ++i) {
            pipeline::adamwStep(params[i], params[i].grad(), m[i], v[i], 1, 1e-5, 0.9, 0.98, 1e-7, 0.0);
            params[i].mutable_grad() = torch::Tensor();
        }
    };
    step();
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < steps; ++i)
        step();
    const double s = t.nsecsElapsed() / 1e9 / steps;
    const double D = c.hiddenSize;
    const double flops = 6.0 * static_cast<double>(nonEmbedding) * L + 6.0 * 2 * 2 * L * L * D * c.numLayers / 2 // layers and attention
                         + 6.0 * 2.0 * D * c.vocabSize * L / 3.0;                                              // the tied head (no embedding backward)
    std::printf("training %s (%.1fM parameters, %.1fM without the embedding): %.2f s/step of %lld tokens -> %.0f tokens/s, "
                "%.1f GFLOP/s = %.0f%% of the %.1f GFLOP/s matmul peak\n",
                label, total / 1e6, nonEmbedding / 1e6, s, static_cast<long long>(L), L / s, flops / s / 1e9, 100 * flops / s / 1e9 / peak, peak);
}

void benchBatching(const QString &modelDir)
{
    ModelLoadOptions o;
    o.minPixels = 224 * 224;
    o.maxPixels = 224 * 224;
    auto model = VisionLanguageModel::load(modelDir, o);
    GenerationConfig g = model->generationConfig();
    g.maxNewTokens = 8;
    g.eosTokenIds = {}; // every answer 8 tokens: comparable work per batch size
    RgbImage img{224, 224, std::vector<std::uint8_t>(224 * 224 * 3, 128)};
    double base = 0;
    for (int batch : {1, 4, 8, 16}) {
        std::vector<VlmRequest> reqs;
        for (int i = 0; i < 16; ++i)
            reqs.push_back({{img}, QStringLiteral("What is written on the sign number %1?Answer the following question in a single word or phrase.").arg(i)});
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < 16; i += batch)
            model->answer(std::vector<VlmRequest>(reqs.begin() + i, reqs.begin() + i + batch), g);
        const double perSecond = 16.0 / (t.nsecsElapsed() / 1e9);
        if (batch == 1)
            base = perSecond;
        std::printf("parity identifier answers, batch %2d: %.2f answers/s (%.2fx batch 1)\n", batch, perSecond, perSecond / base);
    }
}

void benchHttp(const QString &modelDir)
{
    std::shared_ptr<VisionLanguageModel> shared = VisionLanguageModel::load(modelDir);
    serve::OpenAiServer server(shared, QStringLiteral("bench"));
    const quint16 port = server.listen(QHostAddress::LocalHost, 0);
    backends::HttpBackendOptions o;
    o.baseUrl = QStringLiteral("http://127.0.0.1:%1/v1").arg(port);
    o.model = QStringLiteral("bench");
    o.concurrency = 1;
    auto http = backends::makeHttpBackend(o);
    auto native = backends::makeNativeBackend(modelDir, {QStringLiteral("cpu"), QStringLiteral("f32"), 3136, 1003520, 1});
    QTemporaryDir tmp;
    const QString image = tmp.filePath(QStringLiteral("q.png"));
    {
        cv::Mat m(224, 224, CV_8UC3, cv::Scalar(90, 120, 150));
        cv::imwrite(image.toStdString(), m);
    }
    backends::GenerationOptions g;
    g.maxNewTokens = 4;
    const backends::VlmQuery q{image, QStringLiteral("What colour is it?")};
    auto time = [&](backends::VlmBackend &b) {
        b.answer({q}, g);
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < 10; ++i)
            b.answer({q}, g);
        return t.nsecsElapsed() / 1e6 / 10;
    };
    const double direct = time(*native), overHttp = time(*http);
    std::printf("HTTP backend via mpa serve: %.1f ms/request vs %.1f ms native -> %.1f ms (%.0f%%) overhead per request\n", overHttp, direct,
                overHttp - direct, 100 * (overHttp - direct) / direct);
}

} // namespace

int main(int argc, char *argv[])
{
    mpa::backends::ensureLaunchEnvironment(argc, argv);
    QCoreApplication app(argc, argv);
    backends::initialiseTorchThreads();
    const QString tokenizer = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral(MPA_SOURCE_DIR "/../shared/fixtures/qwen2-tokenizer");
    std::printf("%s\n", qPrintable(backends::describeTorchRuntime()));
    const double peak = peakF32();
    std::printf("baseline: matmul 1024^3 %.1f GFLOP/s f32\n", peak);
    benchTraining("tiny (test config)", config(32, 64, 1, 2, 1, {2, 3, 3}, 1, 32, 2), 5, peak);
    benchTraining("~100M Qwen2-VL-shaped", config(512, 1536, 12, 8, 2, {8, 12, 12}, 4, 256, 4), 3, peak);
    QTemporaryDir tmp;
    const QString small = tmp.filePath(QStringLiteral("small"));
    writeRandomModelFolder(small, config(256, 768, 4, 4, 2, {8, 12, 12}, 2, 128, 2), tokenizer, 1);
    benchBatching(small);
    benchHttp(small);
    return 0;
}
