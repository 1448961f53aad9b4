#include "cli_model_commands.h"

#include "cli_common.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/idefics3/idefics3_runtime.h"
#include "vlm/tokenizer.h"
#include "vlm/vlm_model.h"
#include "serve/openai_server.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace mpa::cli {

int cmdInspectModel(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("inspect-model DIR");
    if (!parse(parser, args, synopsis, QStringLiteral("Describe a Hugging Face model folder without loading it: architecture, "
                                                      "parameter count, stored dtype, memory needed, files found and missing, "
                                                      "and whether every weight's name and shape matches config.json.")))
        return 0;
    const QStringList p = requirePositional(parser, 1, 1, synopsis);
    const vlm::ModelInspection r = vlm::inspectModelFolder(p.first());
    out() << r.toText();
    return r.weightProblems.isEmpty() ? 0 : 1;
}

int cmdTokenize(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("tokenize --tokenizer DIR|FILE [--decode] [--skip-special] [--no-special]");
    parser.addOptions({
        {QStringLiteral("tokenizer"), QStringLiteral("tokenizer.json or a model folder holding it."), QStringLiteral("PATH")},
        {QStringLiteral("decode"), QStringLiteral("Read {\"ids\": [...]} lines and decode them.")},
        {QStringLiteral("skip-special"), QStringLiteral("With --decode: leave special tokens out of the text.")},
        {QStringLiteral("no-special"), QStringLiteral("Encode special-token strings as plain text.")},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("Tokenize JSON lines from stdin: {\"text\": ...} -> {\"text\", \"ids\"}; with "
                                                      "--decode, {\"ids\": [...]} -> {\"text\", \"ids\"}. One output line per input line.")))
        return 0;
    requirePositional(parser, 0, 0, synopsis);
    if (!parser.isSet(QStringLiteral("tokenizer")))
        throw UsageError{QStringLiteral("--tokenizer PATH is required")};
    const auto tok = vlm::Tokenizer::load(parser.value(QStringLiteral("tokenizer")));
    const bool decode = parser.isSet(QStringLiteral("decode"));
    QFile in;
    if (!in.open(stdin, QIODevice::ReadOnly))
        throw Error(QStringLiteral("stdin: cannot read"));
    qint64 lineNumber = 0;
    while (!in.atEnd()) {
        const QByteArray line = in.readLine();
        ++lineNumber;
        if (line.trimmed().isEmpty())
            continue;
        const QJsonObject o = json::parse(line, QStringLiteral("stdin line %1").arg(lineNumber)).object();
        QJsonObject result;
        if (decode) {
            if (!o.value(QStringLiteral("ids")).isArray())
                throw Error(QStringLiteral("stdin line %1: expected {\"ids\": [...]}").arg(lineNumber));
            std::vector<std::int32_t> ids;
            for (const QJsonValue &v : o.value(QStringLiteral("ids")).toArray())
                ids.push_back(static_cast<std::int32_t>(v.toInteger()));
            result.insert(QStringLiteral("text"), tok->decode(ids, parser.isSet(QStringLiteral("skip-special"))));
            result.insert(QStringLiteral("ids"), o.value(QStringLiteral("ids")));
        } else {
            if (!o.value(QStringLiteral("text")).isString())
                throw Error(QStringLiteral("stdin line %1: expected {\"text\": \"...\"}").arg(lineNumber));
            const QString text = o.value(QStringLiteral("text")).toString();
            QJsonArray ids;
            for (std::int32_t id : tok->encode(text, !parser.isSet(QStringLiteral("no-special"))))
                ids.append(id);
            result.insert(QStringLiteral("text"), text);
            result.insert(QStringLiteral("ids"), ids);
        }
        out() << QString::fromUtf8(QJsonDocument(result).toJson(QJsonDocument::Compact)) << '\n';
    }
    return 0;
}

int cmdGenerate(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("generate --model DIR --image FILE --prompt TEXT [options]");
    parser.addOptions({
        {QStringLiteral("model"), QStringLiteral("Hugging Face model folder (Qwen2-VL, Qwen2.5-VL or SmolVLM / Idefics3)."), QStringLiteral("DIR")},
        {QStringLiteral("image"), QStringLiteral("Image to ask about (repeat for several)."), QStringLiteral("FILE")},
        {QStringLiteral("prompt"), QStringLiteral("The question."), QStringLiteral("TEXT")},
        {QStringLiteral("max-new-tokens"), QStringLiteral("Longest answer (default 128, as MPA)."), QStringLiteral("N"), QStringLiteral("128")},
        {QStringLiteral("device"), QStringLiteral("cpu, cuda or cuda:N."), QStringLiteral("DEVICE"), QStringLiteral("cpu")},
        {QStringLiteral("dtype"), QStringLiteral("f32, bf16 or f16."), QStringLiteral("DTYPE"), QStringLiteral("f32")},
        {QStringLiteral("min-pixels"), QStringLiteral("Image budget (MPA: 100352 = 128*28*28)."), QStringLiteral("N")},
        {QStringLiteral("max-pixels"), QStringLiteral("Image budget (MPA: 401408 = 512*28*28)."), QStringLiteral("N")},
        {QStringLiteral("greedy"), QStringLiteral("Ignore generation_config.json's sampling settings.")},
        {QStringLiteral("seed"), QStringLiteral("Sampling seed."), QStringLiteral("N"), QStringLiteral("0")},
        {QStringLiteral("chatml-fallback"), QStringLiteral("Render prompts as plain ChatML when the folder's chat template is not "
                                                           "one MPA Studio renders (only if you know the model uses ChatML).")},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("Answer a question about images with the native runtime; prints the answer, "
                                                      "then tokens per second on stderr.")))
        return 0;
    requirePositional(parser, 0, 0, synopsis);
    for (const char *required : {"model", "prompt"})
        if (!parser.isSet(QLatin1String(required)))
            throw UsageError{QStringLiteral("--%1 is required").arg(QLatin1String(required))};
    vlm::ModelLoadOptions options;
    options.device = parser.value(QStringLiteral("device"));
    options.dtype = parser.value(QStringLiteral("dtype"));
    options.allowChatMLFallback = parser.isSet(QStringLiteral("chatml-fallback"));
    if (parser.isSet(QStringLiteral("min-pixels")))
        options.minPixels = parser.value(QStringLiteral("min-pixels")).toLongLong();
    if (parser.isSet(QStringLiteral("max-pixels")))
        options.maxPixels = parser.value(QStringLiteral("max-pixels")).toLongLong();
    QElapsedTimer load;
    load.start();
    const auto model = vlm::VisionLanguageModel::load(parser.value(QStringLiteral("model")), options);
    const double loadSeconds = load.nsecsElapsed() / 1e9;
    vlm::VlmRequest request;
    for (const QString &image : parser.values(QStringLiteral("image")))
        request.images.push_back(vlm::loadRgbImage(image));
    request.prompt = parser.value(QStringLiteral("prompt"));
    vlm::GenerationConfig generation = model->generationConfig();
    bool ok = false;
    generation.maxNewTokens = parser.value(QStringLiteral("max-new-tokens")).toInt(&ok);
    if (!ok || generation.maxNewTokens <= 0)
        throw UsageError{QStringLiteral("--max-new-tokens must be a positive integer")};
    generation.seed = parser.value(QStringLiteral("seed")).toULongLong();
    if (parser.isSet(QStringLiteral("greedy")))
        generation.doSample = false;
    vlm::VlmTiming timing;
    const auto answers = model->answer({request}, generation, {}, &timing);
    out() << answers.front().text << '\n';
    out().flush();
    err() << QStringLiteral("%1 prompt tokens, %2 new tokens in %3 s (%4 tokens/s) on %5; load %6 s\n")
                 .arg(answers.front().promptTokens)
                 .arg(answers.front().ids.size())
                 .arg(timing.decodeSeconds, 0, 'f', 2)
                 .arg(answers.front().ids.size() / std::max(1e-9, timing.decodeSeconds), 0, 'f', 1)
                 .arg(model->deviceName())
                 .arg(loadSeconds, 0, 'f', 2);
    return 0;
}

int cmdCreateRandomModel(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("create-random-model DIR --tokenizer DIR [--arch qwen2_vl|qwen2_5_vl|idefics3] [--hidden N] [--layers N] [--seed N] [--force]");
    parser.addOptions({
        {QStringLiteral("arch"), QStringLiteral("Architecture (model_type): qwen2_vl, qwen2_5_vl or idefics3 (SmolVLM; needs a SmolVLM tokenizer folder). Default qwen2_vl."), QStringLiteral("TYPE"), QStringLiteral("qwen2_vl")},
        {QStringLiteral("force"), QStringLiteral("Replace the weights of a model folder that already exists.")},
        {QStringLiteral("tokenizer"), QStringLiteral("Folder with tokenizer.json (and chat_template.json, preprocessor_config.json)."), QStringLiteral("DIR")},
        {QStringLiteral("hidden"), QStringLiteral("Hidden size (64)."), QStringLiteral("N"), QStringLiteral("64")},
        {QStringLiteral("layers"), QStringLiteral("Decoder layers (2)."), QStringLiteral("N"), QStringLiteral("2")},
        {QStringLiteral("seed"), QStringLiteral("Weight seed (0)."), QStringLiteral("N"), QStringLiteral("0")},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("Write a small model folder with random weights (for trying the pipeline, "
                                                      "tests and benchmarks; it answers nonsense).")))
        return 0;
    const QStringList p = requirePositional(parser, 1, 1, synopsis);
    const QString arch = parser.value(QStringLiteral("arch"));
    if (arch != QLatin1String("qwen2_vl") && arch != QLatin1String("qwen2_5_vl") && arch != QLatin1String("idefics3"))
        throw UsageError{QStringLiteral("--arch must be qwen2_vl, qwen2_5_vl or idefics3, got \"%1\"").arg(arch)};
    if (!parser.isSet(QStringLiteral("force")) && (QFileInfo::exists(QDir(p.first()).filePath(QStringLiteral("model.safetensors")))
                                                   || QFileInfo::exists(QDir(p.first()).filePath(QStringLiteral("model.safetensors.index.json")))))
        throw UsageError{QStringLiteral("%1 already holds a model; pass --force to replace its weights").arg(p.first())};
    if (!parser.isSet(QStringLiteral("tokenizer")))
        throw UsageError{QStringLiteral("--tokenizer DIR is required")};
    const int hidden = parser.value(QStringLiteral("hidden")).toInt();
    if (hidden < 32 || hidden > 8192 || hidden % 32 != 0)
        throw UsageError{QStringLiteral("--hidden must be a multiple of 32 between 32 and 8192")};
    const int vocab = (vlm::Tokenizer::load(parser.value(QStringLiteral("tokenizer")))->vocabSize() + 63) / 64 * 64;
    const int layers = parser.value(QStringLiteral("layers")).toInt();
    if (layers < 1 || layers > 256)
        throw UsageError{QStringLiteral("--layers must be between 1 and 256")};
    const QString tokenizer = parser.value(QStringLiteral("tokenizer"));
    const std::uint64_t seed = parser.value(QStringLiteral("seed")).toULongLong();
    std::int64_t parameters = 0;
    if (arch == QLatin1String("idefics3")) {
        const vlm::Idefics3Config c = vlm::Idefics3Config::small(hidden, layers, vocab);
        vlm::writeRandomIdefics3Folder(p.first(), c, tokenizer, seed);
        parameters = c.parameterCount();
    } else {
        const vlm::Qwen2VLConfig c = arch == QLatin1String("qwen2_5_vl") ? vlm::Qwen2VLConfig::smallQwen25(hidden, layers, vocab)
                                                                         : vlm::Qwen2VLConfig::small(hidden, layers, vocab);
        vlm::writeRandomModelFolder(p.first(), c, tokenizer, seed);
        parameters = c.parameterCount();
    }
    out() << "wrote " << p.first() << " (" << arch << ", " << parameters << " parameters)\n";
    return 0;
}

int cmdConvertModel(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("convert-model DIR --dtype f32|bf16|f16");
    parser.addOptions({{QStringLiteral("dtype"), QStringLiteral("The weights' new dtype."), QStringLiteral("DTYPE")}});
    if (!parse(parser, args, synopsis, QStringLiteral("Rewrite a model folder's weights (any architecture, one file or shards) in another "
                                                      "dtype, in place (config.json's torch_dtype follows), e.g. an aligned checkpoint to bf16 "
                                                      "for serving.")))
        return 0;
    const QStringList p = requirePositional(parser, 1, 1, synopsis);
    const QString dtype = parser.value(QStringLiteral("dtype"));
    if (dtype != QLatin1String("f32") && dtype != QLatin1String("bf16") && dtype != QLatin1String("f16"))
        throw UsageError{QStringLiteral("--dtype must be f32, bf16 or f16")};
    vlm::convertModelFolderWeights(p.first(), dtype);
    out() << "rewrote " << p.first() << " in " << dtype << "\n";
    return 0;
}

int cmdServe(const QStringList &args)
{
    QCommandLineParser parser;
    const QString synopsis = QStringLiteral("serve --model DIR [--host 127.0.0.1] [--port 8000] [--name NAME] [--device D] [--dtype T]");
    parser.addOptions({
        {QStringLiteral("model"), QStringLiteral("The model folder to serve (e.g. an aligned checkpoint)."), QStringLiteral("DIR")},
        {QStringLiteral("host"), QStringLiteral("Address to bind (default loopback; 0.0.0.0 exposes it to the network)."), QStringLiteral("HOST"), QStringLiteral("127.0.0.1")},
        {QStringLiteral("port"), QStringLiteral("Port (0: any free port, printed)."), QStringLiteral("PORT"), QStringLiteral("8000")},
        {QStringLiteral("name"), QStringLiteral("Model id clients use (default: the folder name)."), QStringLiteral("NAME")},
        {QStringLiteral("device"), QStringLiteral("cpu, cuda or cuda:N."), QStringLiteral("DEVICE"), QStringLiteral("cpu")},
        {QStringLiteral("dtype"), QStringLiteral("f32, bf16 or f16."), QStringLiteral("DTYPE"), QStringLiteral("f32")},
        {QStringLiteral("min-pixels"), QStringLiteral("Image budget."), QStringLiteral("N")},
        {QStringLiteral("max-pixels"), QStringLiteral("Image budget."), QStringLiteral("N")},
        {QStringLiteral("api-key-env"), QStringLiteral("Require \"Authorization: Bearer <key>\" with the key read from this environment variable."), QStringLiteral("NAME")},
        {QStringLiteral("max-prompt-tokens"), QStringLiteral("Refuse longer prompts (images included) with 413 (default 4096; the model's max_position_embeddings bounds it too)."), QStringLiteral("N"), QStringLiteral("4096")},
        {QStringLiteral("idle-timeout"), QStringLiteral("Close a connection silent for this many seconds (default 30)."), QStringLiteral("S"), QStringLiteral("30")},
        {QStringLiteral("request-timeout"), QStringLiteral("Stop a generation after this many seconds with 504 (default 600)."), QStringLiteral("S"), QStringLiteral("600")},
        {QStringLiteral("max-connections"), QStringLiteral("Open connections accepted at once (default 64)."), QStringLiteral("N"), QStringLiteral("64")},
    });
    if (!parse(parser, args, synopsis, QStringLiteral("Serve a model folder over an OpenAI-compatible API: GET /v1/models and POST "
                                                      "/v1/chat/completions (text and base64 image_url parts, max_tokens, temperature, "
                                                      "top_p, seed, logprobs). Stop with Ctrl+C.")))
        return 0;
    requirePositional(parser, 0, 0, synopsis);
    if (!parser.isSet(QStringLiteral("model")))
        throw UsageError{QStringLiteral("--model DIR is required")};
    vlm::ModelLoadOptions options;
    options.device = parser.value(QStringLiteral("device"));
    options.dtype = parser.value(QStringLiteral("dtype"));
    if (parser.isSet(QStringLiteral("min-pixels")))
        options.minPixels = parser.value(QStringLiteral("min-pixels")).toLongLong();
    if (parser.isSet(QStringLiteral("max-pixels")))
        options.maxPixels = parser.value(QStringLiteral("max-pixels")).toLongLong();
    const QString dir = parser.value(QStringLiteral("model"));
    std::shared_ptr<vlm::VisionLanguageModel> model = vlm::VisionLanguageModel::load(dir, options);
    const QString name = parser.isSet(QStringLiteral("name")) ? parser.value(QStringLiteral("name")) : QFileInfo(dir).fileName();
    serve::ServeOptions serveOptions;
    if (parser.isSet(QStringLiteral("api-key-env"))) {
        serveOptions.apiKey = qEnvironmentVariable(qPrintable(parser.value(QStringLiteral("api-key-env"))));
        if (serveOptions.apiKey.isEmpty())
            throw UsageError{QStringLiteral("--api-key-env %1: that environment variable is empty or unset").arg(parser.value(QStringLiteral("api-key-env")))};
    }
    bool promptOk = false;
    serveOptions.maxPromptTokens = parser.value(QStringLiteral("max-prompt-tokens")).toInt(&promptOk);
    if (!promptOk || serveOptions.maxPromptTokens < 16 || serveOptions.maxPromptTokens > 131072)
        throw UsageError{QStringLiteral("--max-prompt-tokens must be between 16 and 131072")};
    auto bounded = [&](const char *option, int low, int high) {
        bool ok = false;
        const int v = parser.value(QLatin1String(option)).toInt(&ok);
        if (!ok || v < low || v > high)
            throw UsageError{QStringLiteral("--%1 must be between %2 and %3").arg(QLatin1String(option)).arg(low).arg(high)};
        return v;
    };
    serveOptions.idleTimeoutMs = bounded("idle-timeout", 1, 3600) * 1000;
    serveOptions.requestTimeoutMs = bounded("request-timeout", 1, 86400) * 1000;
    serveOptions.maxConnections = bounded("max-connections", 1, 4096);
    serve::OpenAiServer server(model, name, serveOptions);
    QHostAddress host;
    if (!host.setAddress(parser.value(QStringLiteral("host"))))
        throw UsageError{QStringLiteral("--host must be an IP address")};
    bool ok = false;
    const int port = parser.value(QStringLiteral("port")).toInt(&ok);
    if (!ok || port < 0 || port > 65535)
        throw UsageError{QStringLiteral("--port must be 0..65535")};
    const quint16 bound = server.listen(host, static_cast<quint16>(port));
    out() << "serving " << name << " on http://" << host.toString() << ':' << bound << "/v1\n";
    out().flush();
    return QCoreApplication::exec();
}

} // namespace mpa::cli
