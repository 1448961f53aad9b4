// Every registered architecture through everything that uses a model, on small random models
// made by `mpa create-random-model --arch A` (CPU, seconds): the folder inspects clean; a
// left-padded batch answers exactly as each request alone; Pseudo Annotator, Parity Identifier
// and evaluation run natively; LoRA and full alignment write complete folders of the same
// architecture that load and answer again. The architecture is the argument (CTest registers
// each); for idefics3 a mixed pair also runs (a Qwen2.5-VL teacher over a SmolVLM student).
#include "backends/vlm_backend.h"
#include "datasets/importer.h"
#include "pipeline/parity_identifier.h"
#include "pipeline/parity_leveler.h"
#include "pipeline/pseudo_annotator.h"
#include "store/sql_util.h"
#include "test_support.h"
#include "util/error.h"
#include "util/json_file.h"
#include "vlm/bf16_bits.h"
#include "vlm/safetensors.h"
#include "vlm/vlm_model.h"

#include <QCryptographicHash>
#include <QDir>
#include <QProcess>
#include <QtTest>

using namespace mpa;

namespace {
QString g_arch = QStringLiteral("qwen2_vl");

QByteArray sha256Of(const QString &path)
{
    QFile f(path);
    QCryptographicHash h(QCryptographicHash::Sha256);
    return f.open(QIODevice::ReadOnly) && h.addData(&f) ? h.result() : QByteArray();
}

// `mpa convert-model DIR --dtype D`: exit code and standard error.
std::pair<int, QString> convertModel(const QString &dir, const QString &dtype)
{
    QProcess p;
    p.start(test::cliPath(), {QStringLiteral("convert-model"), dir, QStringLiteral("--dtype"), dtype});
    p.waitForFinished(120000);
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardError())};
}

// The folder's single model.safetensors split into two shards and an index, as Hugging Face
// saves every checkpoint over its shard size (all real 2B+ folders).
void shardInTwo(const QString &dir)
{
    const QString single = QDir(dir).filePath(QStringLiteral("model.safetensors"));
    QJsonObject weightMap;
    {
        const auto file = vlm::SafetensorsFile::open(single);
        const std::vector<vlm::TensorInfo> &all = file->tensors();
        for (int part = 0; part < 2; ++part) {
            const QString name = QStringLiteral("model-0000%1-of-00002.safetensors").arg(part + 1);
            std::vector<vlm::TensorToWrite> tensors;
            for (std::size_t i = part; i < all.size(); i += 2) {
                tensors.push_back({all[i].name, all[i].dtype, all[i].shape, file->data(all[i]), {}});
                weightMap.insert(all[i].name, name);
            }
            vlm::writeSafetensors(QDir(dir).filePath(name), tensors, {{QStringLiteral("format"), QStringLiteral("pt")}});
        }
    }
    json::writeFile(QDir(dir).filePath(QStringLiteral("model.safetensors.index.json")),
                    QJsonDocument(QJsonObject{{QStringLiteral("metadata"), QJsonObject{{QStringLiteral("total_size"), 0}}},
                                              {QStringLiteral("weight_map"), weightMap}}));
    QFile::remove(single);
}

QString tokenizerFor(const QString &arch)
{
    return test::fixture(arch == QLatin1String("idefics3") ? QStringLiteral("smolvlm-tokenizer") : QStringLiteral("qwen2-tokenizer"));
}
} // namespace

class TestArchitectures : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void createdFolderInspectsClean();
    void batchAnswersEqualSingleAnswers();
    void annotateIdentifyAlignReload_data();
    void annotateIdentifyAlignReload();
    void mixedTeacherAndStudent();
    void convertedShardsLoadAsTheOriginalInThatDtype();

private:
    QString createModel(const QString &name, const QString &arch, int seed);
    store::Workspace workspaceWithImages(const QString &name);
    QTemporaryDir m_tmp;
    QString m_large, m_small, m_images;
    backends::NativeBackendOptions m_opts;
};

QString TestArchitectures::createModel(const QString &name, const QString &arch, int seed)
{
    const QString dir = m_tmp.filePath(name);
    QProcess p;
    p.start(test::cliPath(), {QStringLiteral("create-random-model"), dir, QStringLiteral("--arch"), arch, QStringLiteral("--tokenizer"), tokenizerFor(arch),
                              QStringLiteral("--hidden"), QStringLiteral("64"), QStringLiteral("--layers"), QStringLiteral("2"), QStringLiteral("--seed"),
                              QString::number(seed)});
    p.waitForFinished(120000);
    if (p.exitCode() != 0)
        qWarning("%s", p.readAllStandardError().constData());
    return p.exitCode() == 0 ? dir : QString();
}

void TestArchitectures::initTestCase()
{
    if (test::fixturesDir().isEmpty())
        QSKIP("golden fixtures not found (the tokenizers come from them)");
    m_large = createModel(QStringLiteral("large"), g_arch, 1);
    m_small = createModel(QStringLiteral("small"), g_arch, 2);
    QVERIFY(!m_large.isEmpty() && !m_small.isEmpty());
    m_images = m_tmp.filePath(QStringLiteral("images"));
    for (int i = 0; i < 4; ++i)
        test::writePng(m_images + QStringLiteral("/img%1.png").arg(i), 60 + 20 * i, 50 + 7 * i, i);
    m_opts.minPixels = 56 * 56;
    m_opts.maxPixels = 112 * 112;
    m_opts.batchSize = 2;
}

void TestArchitectures::createdFolderInspectsClean()
{
    const vlm::ModelInspection r = vlm::inspectModelFolder(m_large);
    qInfo("%s: %lld parameters", qPrintable(r.modelType), static_cast<long long>(r.parameters));
    QCOMPARE(r.modelType, g_arch);
    QVERIFY2(r.weightProblems.isEmpty(), qPrintable(r.weightProblems));
    QCOMPARE(r.parameters, r.expectedParameters);
    QVERIFY2(r.chatTemplate.contains(QLatin1String("rendered natively")), qPrintable(r.chatTemplate));
}

void TestArchitectures::batchAnswersEqualSingleAnswers()
{
    vlm::ModelLoadOptions o;
    o.maxPixels = m_opts.maxPixels;
    o.minPixels = m_opts.minPixels;
    const auto model = vlm::VisionLanguageModel::load(m_large, o);
    QCOMPARE(model->info().modelType, g_arch);
    std::vector<vlm::VlmRequest> requests;
    for (int i = 0; i < 3; ++i)
        requests.push_back({{vlm::loadRgbImage(m_images + QStringLiteral("/img%1.png").arg(i))}, QStringLiteral("What is shown %1?").arg(QString(i, QLatin1Char('x')))});
    requests.push_back({{}, QStringLiteral("A question without an image")});
    vlm::GenerationConfig g = model->generationConfig();
    g.doSample = false;
    g.maxNewTokens = 6;
    const auto batch = model->answer(requests, g);
    QCOMPARE(batch.size(), requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto alone = model->answer({requests[i]}, g);
        QCOMPARE(batch[i].ids, alone.front().ids);
        QCOMPARE(batch[i].promptTokens, alone.front().promptTokens);
        if (!requests[i].images.empty())
            QVERIFY(batch[i].promptTokens > model->imageTokens(requests[i].images.front().height, requests[i].images.front().width));
    }
}

store::Workspace TestArchitectures::workspaceWithImages(const QString &name)
{
    store::Workspace ws = store::Workspace::create(m_tmp.filePath(name));
    datasets::Importer(ws).importImageFolder(m_images);
    return ws;
}

void TestArchitectures::annotateIdentifyAlignReload_data()
{
    QTest::addColumn<QString>("method");
    QTest::newRow("lora") << QStringLiteral("lora");
    QTest::newRow("full") << QStringLiteral("full");
}

void TestArchitectures::annotateIdentifyAlignReload()
{
    QFETCH(QString, method);
    const store::Workspace ws = workspaceWithImages(QStringLiteral("ws-") + method);
    auto large = backends::makeNativeBackend(m_large, m_opts);
    auto small = backends::makeNativeBackend(m_small, m_opts);
    pipeline::AnnotateParams annotate;
    annotate.task = QStringLiteral("chart");
    annotate.maxNewTokens = 6;
    const pipeline::JobSummary a = pipeline::runPseudoAnnotator(ws, *large, m_large, annotate, {});
    QCOMPARE(a.done, 4);
    QCOMPARE(a.failed, 0);
    // Random models rarely write parseable pairs: give every image one, so the later stages
    // have work (the stored raw text stays as the model wrote it).
    QSqlDatabase db = ws.connection();
    store::exec(db, QStringLiteral("UPDATE samples SET parse_status = 'ok', question = 'What is the value', answer = '12'"));
    pipeline::IdentifyParams identify;
    identify.maxNewTokens = 4;
    const pipeline::JobSummary i = pipeline::runParityIdentifier(ws, *large, m_large, *small, m_small, identify, {});
    QCOMPARE(i.failed, 0);
    QVERIFY(i.done >= 4); // both models answer each sample
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("outcome IS NOT NULL")), 4);
    pipeline::AlignParams p;
    p.selection = QStringLiteral("all");
    p.method = method;
    p.epochs = 1;
    p.batchSize = 2;
    p.gradAccum = 1;
    p.warmupRatio = 0;
    p.minPixels = *m_opts.minPixels;
    p.maxPixels = *m_opts.maxPixels;
    pipeline::AlignResult r;
    pipeline::runParityLeveler(ws, m_small, p, {}, 0, &r);
    QCOMPARE(r.steps, 2);
    QVERIFY(std::isfinite(r.lastLoss) && r.lastLoss > 0);
    const vlm::ModelInspection aligned = vlm::inspectModelFolder(r.finalModelDir);
    QCOMPARE(aligned.modelType, g_arch);
    QVERIFY2(aligned.weightProblems.isEmpty(), qPrintable(aligned.weightProblems));
    auto reloaded = backends::makeNativeBackend(r.finalModelDir, m_opts);
    backends::GenerationOptions go;
    go.maxNewTokens = 3;
    const auto replies = reloaded->answer({{m_images + QStringLiteral("/img0.png"), QStringLiteral("What is the value?")}}, go, {});
    QVERIFY2(replies.front().error.isEmpty(), qPrintable(replies.front().error));
}

void TestArchitectures::mixedTeacherAndStudent()
{
    if (g_arch != QLatin1String("idefics3"))
        QSKIP("the mixed pair runs with the idefics3 registration");
    const QString teacher = createModel(QStringLiteral("teacher25"), QStringLiteral("qwen2_5_vl"), 3);
    QVERIFY(!teacher.isEmpty());
    const store::Workspace ws = workspaceWithImages(QStringLiteral("mixed"));
    auto large = backends::makeNativeBackend(teacher, m_opts);
    auto small = backends::makeNativeBackend(m_small, m_opts);
    pipeline::AnnotateParams annotate;
    annotate.task = QStringLiteral("chart");
    annotate.maxNewTokens = 4;
    QCOMPARE(pipeline::runPseudoAnnotator(ws, *large, teacher, annotate, {}).done, 4);
    QSqlDatabase db = ws.connection();
    store::exec(db, QStringLiteral("UPDATE samples SET parse_status = 'ok', question = 'How many bars', answer = '3'"));
    pipeline::IdentifyParams identify;
    identify.maxNewTokens = 4;
    QCOMPARE(pipeline::runParityIdentifier(ws, *large, teacher, *small, m_small, identify, {}).failed, 0);
    QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("outcome IS NOT NULL")), 4);
}

// convert-model on a sharded folder of each architecture: every floating tensor of every shard
// is rewritten as round-to-nearest-even bfloat16 (checked against the bit-level reference in
// bf16_bits.h), the index's total_size and config.json follow, and the folder then answers
// exactly as the f32 original loaded in bf16. Back to f32 is lossless; a truncated shard stops
// the conversion before anything is written.
void TestArchitectures::convertedShardsLoadAsTheOriginalInThatDtype()
{
    const QString dir = m_tmp.filePath(QStringLiteral("converted"));
    QDir().mkpath(dir);
    for (const QFileInfo &f : QDir(m_small).entryInfoList(QDir::Files))
        QVERIFY(QFile::copy(f.filePath(), QDir(dir).filePath(f.fileName())));
    shardInTwo(dir);
    const auto [code, err] = convertModel(dir, QStringLiteral("bf16"));
    QVERIFY2(code == 0, qPrintable(err));

    const vlm::Checkpoint original = vlm::Checkpoint::openFolder(m_small);
    const vlm::Checkpoint converted = vlm::Checkpoint::openFolder(dir);
    QCOMPARE(converted.files().size(), 2);
    QCOMPARE(converted.names(), original.names());
    std::uint64_t bytes = 0;
    for (const QString &name : original.names()) {
        const vlm::Checkpoint::Entry *from = original.find(name);
        const vlm::Checkpoint::Entry *to = converted.find(name);
        QCOMPARE(from->info->dtype, vlm::DType::F32); // create-random-model writes f32
        QCOMPARE(to->info->dtype, vlm::DType::BF16);
        QCOMPARE(to->info->shape, from->info->shape);
        const auto *f = reinterpret_cast<const float *>(from->file->data(*from->info));
        const auto *b = reinterpret_cast<const std::uint16_t *>(to->file->data(*to->info));
        for (std::int64_t i = 0; i < from->info->numel(); ++i)
            if (b[i] != vlm::kernels::floatToBf16(f[i]))
                QFAIL(qPrintable(QStringLiteral("%1[%2]: %3 is not bf16 %4").arg(name).arg(i).arg(b[i]).arg(vlm::kernels::floatToBf16(f[i]))));
        bytes += to->info->end - to->info->begin;
    }
    const QJsonObject index = json::readFile(QDir(dir).filePath(QStringLiteral("model.safetensors.index.json"))).object();
    QCOMPARE(index.value(QStringLiteral("metadata")).toObject().value(QStringLiteral("total_size")).toInteger(), static_cast<qint64>(bytes));
    QCOMPARE(json::readFile(QDir(dir).filePath(QStringLiteral("config.json"))).object().value(QStringLiteral("torch_dtype")).toString(),
             QStringLiteral("bfloat16"));

    // The same answers as the f32 folder loaded in bf16 (the loader casts with the same rounding).
    vlm::ModelLoadOptions o;
    o.maxPixels = m_opts.maxPixels;
    o.minPixels = m_opts.minPixels;
    o.dtype = QStringLiteral("bf16");
    const auto a = vlm::VisionLanguageModel::load(m_small, o);
    const auto c = vlm::VisionLanguageModel::load(dir, o);
    const std::vector<vlm::VlmRequest> requests{{{vlm::loadRgbImage(m_images + QStringLiteral("/img1.png"))}, QStringLiteral("What is shown?")},
                                               {{}, QStringLiteral("A question without an image")}};
    vlm::GenerationConfig g = a->generationConfig();
    g.doSample = false;
    g.maxNewTokens = 6;
    const auto expected = a->answer(requests, g);
    const auto got = c->answer(requests, g);
    for (std::size_t i = 0; i < requests.size(); ++i)
        QCOMPARE(got[i].ids, expected[i].ids);

    // Already bf16: nothing is rewritten. Back to f32: every value exactly its bf16 value.
    const QByteArray shard1 = sha256Of(QDir(dir).filePath(QStringLiteral("model-00001-of-00002.safetensors")));
    QVERIFY2(convertModel(dir, QStringLiteral("bf16")).first == 0, "a second bf16 conversion failed");
    QCOMPARE(sha256Of(QDir(dir).filePath(QStringLiteral("model-00001-of-00002.safetensors"))), shard1);
    {
        const auto [backCode, backErr] = convertModel(dir, QStringLiteral("f32"));
        QVERIFY2(backCode == 0, qPrintable(backErr));
        const vlm::Checkpoint back = vlm::Checkpoint::openFolder(dir);
        const QString name = original.names().first();
        const vlm::Checkpoint::Entry *e = back.find(name);
        QCOMPARE(e->info->dtype, vlm::DType::F32);
        const auto *f = reinterpret_cast<const float *>(e->file->data(*e->info));
        const auto *o32 = reinterpret_cast<const float *>(original.find(name)->file->data(*original.find(name)->info));
        for (std::int64_t i = 0; i < e->info->numel(); ++i)
            QCOMPARE(f[i], vlm::kernels::bf16ToFloat(vlm::kernels::floatToBf16(o32[i])));
    }

    // A truncated second shard: refused, naming it, before the first is touched.
    const QString second = QDir(dir).filePath(QStringLiteral("model-00002-of-00002.safetensors"));
    const QString cut = second + QStringLiteral(".cut");
    test::writeTruncatedCopy(second, cut, QFileInfo(second).size() / 2);
    QFile::remove(second);
    QFile::rename(cut, second);
    const QByteArray first = sha256Of(QDir(dir).filePath(QStringLiteral("model-00001-of-00002.safetensors")));
    const auto [badCode, badErr] = convertModel(dir, QStringLiteral("f16"));
    QVERIFY(badCode != 0);
    QVERIFY2(badErr.contains(QLatin1String("model-00002-of-00002.safetensors")), qPrintable(badErr));
    QCOMPARE(sha256Of(QDir(dir).filePath(QStringLiteral("model-00001-of-00002.safetensors"))), first);
    QCOMPARE(json::readFile(QDir(dir).filePath(QStringLiteral("config.json"))).object().value(QStringLiteral("torch_dtype")).toString(),
             QStringLiteral("float32"));
}

int main(int argc, char *argv[])
{
    // Usage: test_architectures [MODEL_TYPE] [Qt Test options]
    std::vector<char *> args(argv, argv + argc);
    if (argc > 1 && argv[1][0] != '-') {
        g_arch = QString::fromLocal8Bit(argv[1]);
        args.erase(args.begin() + 1);
    }
    QCoreApplication app(argc, argv);
    TestArchitectures test;
    return QTest::qExec(&test, static_cast<int>(args.size()), args.data());
}

#include "test_architectures.moc"
