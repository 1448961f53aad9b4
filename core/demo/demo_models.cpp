#include "demo/demo_models.h"

#include "datasets/importer.h"
#include "datasets/synthetic_world.h"
#include "pipeline/parity_leveler.h"
#include "pipeline/task_prompts.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/bpe_trainer.h"
#include "vlm/model_config.h"
#include "vlm/tokenizer.h"
#include "vlm/vlm_model.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

namespace mpa::demo {

namespace {

// Qwen2-VL-Instruct's chat template (as published with the model), so the demo models render
// prompts exactly as real checkpoints do.
const char *kQwen2VlChatTemplate =
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %}"
    "{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}"
    "<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

struct Record
{
    QString image; // relative to the training image folder
    QString prompt;
    QString answer;
    QString family;
};

QString withoutQuestionMark(QString q)
{
    while (q.endsWith(QLatin1Char('?')))
        q.chop(1);
    return q;
}

// Every labeled image gives, per fact: the bare question (how Parity Leveler training data is
// phrased), the question with the single-word instruction (how PI and evaluation ask, with and
// without the '?' the Pseudo Annotator's parse drops), and for the teacher one Pseudo Annotator
// record (task prompt -> "Question: ...?\nAnswer: ...").
std::vector<Record> trainingRecords(const QString &imageDir, const DemoModelOptions &o, const ProgressFn &progress)
{
    std::vector<Record> out;
    const QStringList families = datasets::syntheticFamilies();
    const qint64 total = static_cast<qint64>(families.size()) * o.imagesPerFamily;
    qint64 done = 0;
    for (const QString &family : families) {
        const QString prompt = pipeline::builtInPrompt(family);
        for (int i = 0; i < o.imagesPerFamily; ++i) {
            const datasets::SyntheticImage img = datasets::synthesizeImage(family, o.seed, 2000000 + i);
            const QString rel = QStringLiteral("%1/%2.png").arg(family).arg(i, 6, 10, QLatin1Char('0'));
            const QString path = QDir(imageDir).filePath(rel);
            QDir().mkpath(QFileInfo(path).absolutePath());
            QFile f(path);
            if (!f.open(QIODevice::WriteOnly) || f.write(reinterpret_cast<const char *>(img.png.data()), static_cast<qint64>(img.png.size()))
                                                     != static_cast<qint64>(img.png.size()))
                throw Error(QStringLiteral("%1: cannot write (disk full?)").arg(path));
            for (std::size_t k = 0; k < img.items.size(); ++k) {
                const datasets::SyntheticItem &it = img.items[k];
                const QString bare = withoutQuestionMark(it.question);
                out.push_back({rel, bare, it.answer, family});
                out.push_back({rel, pipeline::parityPrompt((i + static_cast<int>(k)) % 2 ? it.question : bare), it.answer, family});
            }
            const datasets::SyntheticItem &pa = img.items[static_cast<std::size_t>(i) % img.items.size()];
            out.push_back({rel, prompt, QStringLiteral("Question: %1\nAnswer: %2").arg(pa.question, pa.answer), family + QStringLiteral("-pa")});
            reportProgress(progress, ++done, total, QStringLiteral("demo training images"));
        }
    }
    return out;
}

void writeLlava(const QString &path, const std::vector<Record> &records, const std::function<bool(const Record &)> &keep)
{
    QJsonArray a;
    int n = 0;
    for (const Record &r : records) {
        if (!keep(r))
            continue;
        a.append(QJsonObject{{QStringLiteral("id"), QStringLiteral("demo-%1").arg(n++)},
                             {QStringLiteral("image"), r.image},
                             {QStringLiteral("conversations"),
                              QJsonArray{QJsonObject{{QStringLiteral("from"), QStringLiteral("human")}, {QStringLiteral("value"), QString(QStringLiteral("<image>\n") + r.prompt)}},
                                         QJsonObject{{QStringLiteral("from"), QStringLiteral("gpt")}, {QStringLiteral("value"), r.answer}}}}});
    }
    json::writeFile(path, QJsonDocument(a));
}

// tokenizer.json (trained on the records' text), tokenizer_config.json, chat_template.json and
// preprocessor_config.json: what a Qwen2-VL folder carries besides its weights.
void writeTokenizerFolder(const QString &dir, const std::vector<Record> &records, int merges)
{
    QStringList corpus = {QStringLiteral("system\nYou are a helpful assistant."), QStringLiteral("user\n"), QStringLiteral("assistant\n")};
    for (const Record &r : records)
        corpus << r.prompt << r.answer << QStringLiteral("system\nYou are a helpful assistant.") << QStringLiteral("user\n") << QStringLiteral("assistant\n");
    vlm::BpeTrainingOptions bo;
    bo.merges = merges;
    bo.addedTokens = vlm::qwen2VlSpecialTokens();
    QDir().mkpath(dir);
    json::writeFile(QDir(dir).filePath(QStringLiteral("tokenizer.json")), QJsonDocument(vlm::trainByteLevelBpe(corpus, bo)));
    json::writeFile(QDir(dir).filePath(QStringLiteral("tokenizer_config.json")),
                    QJsonDocument(QJsonObject{{QStringLiteral("tokenizer_class"), QStringLiteral("Qwen2Tokenizer")},
                                              {QStringLiteral("eos_token"), QStringLiteral("<|im_end|>")},
                                              {QStringLiteral("pad_token"), QStringLiteral("<|endoftext|>")},
                                              {QStringLiteral("model_max_length"), 32768},
                                              {QStringLiteral("split_special_tokens"), false}}));
    json::writeFile(QDir(dir).filePath(QStringLiteral("chat_template.json")),
                    QJsonDocument(QJsonObject{{QStringLiteral("chat_template"), QString::fromUtf8(kQwen2VlChatTemplate)}}));
    json::writeFile(QDir(dir).filePath(QStringLiteral("preprocessor_config.json")),
                    QJsonDocument(QJsonObject{{QStringLiteral("min_pixels"), static_cast<qint64>(kDemoMinPixels)},
                                              {QStringLiteral("max_pixels"), static_cast<qint64>(kDemoImagePixels)},
                                              {QStringLiteral("patch_size"), 14},
                                              {QStringLiteral("temporal_patch_size"), 2},
                                              {QStringLiteral("merge_size"), 2},
                                              {QStringLiteral("image_mean"), QJsonArray{0.48145466, 0.4578275, 0.40821073}},
                                              {QStringLiteral("image_std"), QJsonArray{0.26862954, 0.26130258, 0.27577711}},
                                              {QStringLiteral("image_processor_type"), QStringLiteral("Qwen2VLImageProcessor")},
                                              {QStringLiteral("processor_class"), QStringLiteral("Qwen2VLProcessor")},
                                              {QStringLiteral("do_convert_rgb"), true},
                                              {QStringLiteral("do_normalize"), true},
                                              {QStringLiteral("do_rescale"), true},
                                              {QStringLiteral("do_resize"), true},
                                              {QStringLiteral("rescale_factor"), 1.0 / 255.0},
                                              {QStringLiteral("resample"), 3}}));
}

void copyModelFolder(const QString &from, const QString &to)
{
    QDir().mkpath(to);
    for (const char *f : {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                          "chat_template.json", "preprocessor_config.json"}) {
        const QString src = QDir(from).filePath(QLatin1String(f)), dst = QDir(to).filePath(QLatin1String(f));
        QFile::remove(dst);
        if (QFileInfo::exists(src) && !QFile::copy(src, dst))
            throw Error(QStringLiteral("%1: cannot copy %2").arg(to, src));
    }
}

struct Trained
{
    QString dir;
    qint64 samples = 0;
    double lastLoss = 0;
};

// Trains `name` from random weights, or from the model folder `startFrom`.
Trained trainOne(const QString &name, const QString &trainingDir, const QString &tokenizerDir, const vlm::Qwen2VLConfig &config,
                 const QString &startFrom, const std::vector<Record> &records, const std::function<bool(const Record &)> &keep, int steps,
                 std::uint64_t seed, const DemoModelOptions &o, const ProgressFn &progress)
{
    const QString wsPath = QDir(trainingDir).filePath(name + QStringLiteral(".mpaw"));
    QDir(wsPath).removeRecursively();
    const store::Workspace ws = store::Workspace::create(wsPath);
    const QString pairs = QDir(trainingDir).filePath(name + QStringLiteral("-pairs.json"));
    writeLlava(pairs, records, keep);
    datasets::Importer(ws).importConversations(pairs, QDir(trainingDir).filePath(QStringLiteral("images")), QStringLiteral("demo"));

    const QString init = QDir(trainingDir).filePath(name + QStringLiteral("-init"));
    QDir(init).removeRecursively();
    if (startFrom.isEmpty())
        vlm::writeRandomModelFolder(init, config, tokenizerDir, seed);
    else
        copyModelFolder(startFrom, init);
    if (name == QLatin1String("teacher")) {
        // The teacher samples when annotating (its default generation config, which the Pseudo
        // Annotator uses), so it asks about both facts of an image, not always the likelier one.
        // Parity Identifier and evaluation decode greedily whatever this says.
        json::writeFile(QDir(init).filePath(QStringLiteral("generation_config.json")),
                        QJsonDocument(QJsonObject{{QStringLiteral("bos_token_id"), static_cast<qint64>(*config.bosTokenId)},
                                                  {QStringLiteral("eos_token_id"), static_cast<qint64>(config.eosTokenIds.front())},
                                                  {QStringLiteral("pad_token_id"), static_cast<qint64>(*config.bosTokenId)},
                                                  {QStringLiteral("do_sample"), true},
                                                  {QStringLiteral("temperature"), 0.5},
                                                  {QStringLiteral("top_k"), 5}}));
    }

    pipeline::AlignParams p;
    p.selection = QStringLiteral("all");
    p.seed = seed;
    p.lrLlm = p.lrMerger = p.lrVision = o.learningRate;
    p.weightDecay = 0.0;
    p.warmupRatio = 0.03;
    p.epochs = 1000; // maxSteps decides
    p.maxSteps = steps;
    p.batchSize = o.batchSize;
    p.gradAccum = 1;
    p.minPixels = kDemoMinPixels;
    p.maxPixels = kDemoImagePixels;
    pipeline::AlignResult result;
    pipeline::runParityLeveler(ws, init, p,
                               [&](qint64 done, qint64 total, const QString &) { return reportProgress(progress, done, total, QStringLiteral("train ") + name); },
                               0, &result);
    return {result.finalModelDir, result.trainSamples, result.lastLoss};
}

} // namespace

DemoModelReport trainDemoModels(const QString &outDirIn, const DemoModelOptions &o, const ProgressFn &progress)
{
    QElapsedTimer clock;
    clock.start();
    const QString outDir = QFileInfo(outDirIn).absoluteFilePath();
    const QString trainingDir = QDir(outDir).filePath(QStringLiteral("training"));
    const QString imageDir = QDir(trainingDir).filePath(QStringLiteral("images"));
    if (!QDir().mkpath(imageDir))
        throw Error(QStringLiteral("%1: cannot create the folder").arg(imageDir));
    const std::vector<Record> records = trainingRecords(imageDir, o, progress);
    const QString tokenizerDir = QDir(trainingDir).filePath(QStringLiteral("tokenizer"));
    writeTokenizerFolder(tokenizerDir, records, o.bpeMerges);
    const auto tokenizer = vlm::Tokenizer::load(tokenizerDir);

    vlm::Qwen2VLConfig config = vlm::Qwen2VLConfig::small(o.hiddenSize, o.layers, (tokenizer->vocabSize() + 63) / 64 * 64);
    config.vision.depth = o.visionDepth;
    config.vision.embedDim = o.visionEmbedDim;
    config.vision.numHeads = std::max(1, o.visionEmbedDim / 32);
    vlm::fillSpecialTokenIds(config, *tokenizer);

    // The student learns its families from random weights; the teacher starts from the student
    // and goes on with every family and the Pseudo Annotator's prompts (what it shares with the
    // student it need not learn twice, which is what fits the teacher into minutes on 2 cores).
    DemoModelReport r;
    const QStringList studentFamilies = o.studentFamilies;
    const Trained student = trainOne(QStringLiteral("student"), trainingDir, tokenizerDir, config, QString(), records,
                                     [&](const Record &rec) { return studentFamilies.contains(rec.family); }, o.studentSteps, o.seed, o, progress);
    const Trained teacher = trainOne(QStringLiteral("teacher"), trainingDir, tokenizerDir, config, student.dir, records,
                                     [](const Record &) { return true; }, o.teacherSteps, o.seed + 1, o, progress);
    r.teacherDir = QDir(outDir).filePath(QStringLiteral("teacher"));
    r.studentDir = QDir(outDir).filePath(QStringLiteral("student"));
    copyModelFolder(teacher.dir, r.teacherDir);
    copyModelFolder(student.dir, r.studentDir);
    if (o.dtype != QLatin1String("f32")) {
        vlm::convertModelFolderWeights(r.teacherDir, o.dtype);
        vlm::convertModelFolderWeights(r.studentDir, o.dtype);
    }
    r.teacherParameters = r.studentParameters = config.parameterCount();
    r.teacherSamples = teacher.samples;
    r.studentSamples = student.samples;
    r.teacherLastLoss = teacher.lastLoss;
    r.studentLastLoss = student.lastLoss;
    r.seconds = clock.nsecsElapsed() / 1e9;
    return r;
}

backends::NativeBackendOptions demoBackendOptions()
{
    backends::NativeBackendOptions o;
    o.minPixels = kDemoMinPixels;
    o.maxPixels = kDemoImagePixels;
    o.batchSize = 16;
    return o;
}

QString findShippedDemoModels()
{
    const QString app = QCoreApplication::applicationDirPath();
    // The installed copy first (a package built elsewhere may still name a source tree that
    // happens to exist here), then the source tree of a build-tree binary.
    for (const QString &candidate : QStringList{app + QStringLiteral("/../share/mpa-studio/demo-models"), QStringLiteral(MPA_SOURCE_DIR "/resources/demo/models")}) {
        if (QFileInfo::exists(candidate + QStringLiteral("/teacher/config.json")) && QFileInfo::exists(candidate + QStringLiteral("/student/config.json")))
            return QDir(candidate).canonicalPath();
    }
    return {};
}

} // namespace mpa::demo
