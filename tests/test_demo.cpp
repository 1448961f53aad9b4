// The demo world's pieces: the byte-level BPE trainer (a tokenizer.json our Tokenizer loads and
// round-trips), the shipped demo models (the teacher knows the shapes family, the student does
// not), and the whole loop on a small world (runs, scripted review, report) with them.
#include "backends/vlm_backend.h"
#include "datasets/synthetic_world.h"
#include "demo/demo_loop.h"
#include "demo/demo_models.h"
#include "demo/demo_report.h"
#include "metrics/mpa_match.h"
#include "pipeline/task_prompts.h"
#include "store/sql_util.h"
#include "test_support.h"
#include "util/json_file.h"
#include "vlm/bpe_trainer.h"
#include "vlm/tokenizer.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace mpa;

namespace {

QString writeTokenizer(const QTemporaryDir &dir, const QStringList &corpus, int merges, const QString &name = QStringLiteral("tokenizer.json"))
{
    vlm::BpeTrainingOptions o;
    o.merges = merges;
    o.addedTokens = vlm::qwen2VlSpecialTokens();
    const QString path = dir.filePath(name);
    json::writeFile(path, QJsonDocument(vlm::trainByteLevelBpe(corpus, o)));
    return path;
}

// MPA accuracy of a model on `n` test images of a family (the demo world's test indices).
double accuracy(backends::VlmBackend &model, const QTemporaryDir &dir, const QString &family, int n)
{
    std::vector<backends::VlmQuery> queries;
    QStringList expected;
    for (int i = 0; i < n; ++i) {
        const datasets::SyntheticImage img = datasets::synthesizeImage(family, 1, 200 + i);
        const QString path = dir.filePath(QStringLiteral("%1-%2.png").arg(family).arg(i));
        QFile f(path);
        f.open(QIODevice::WriteOnly);
        f.write(reinterpret_cast<const char *>(img.png.data()), static_cast<qint64>(img.png.size()));
        f.close();
        const datasets::SyntheticItem &item = img.items[static_cast<std::size_t>(i) % img.items.size()];
        queries.push_back({path, pipeline::parityPrompt(item.question)});
        expected << item.answer;
    }
    backends::GenerationOptions g;
    g.maxNewTokens = 12;
    const auto replies = model.answer(queries, g);
    int right = 0;
    for (int i = 0; i < n; ++i)
        right += metrics::mpaMatch(expected[i], replies[static_cast<std::size_t>(i)].text) ? 1 : 0;
    return static_cast<double>(right) / n;
}

} // namespace

class TestDemo : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bpeTokenizerLoadsAndRoundTrips()
    {
        QTemporaryDir dir;
        const QStringList corpus = {QStringLiteral("What word is written on the sign?"), QStringLiteral("What colour is the circle?"),
                                    QStringLiteral("What word is written on the museum?"), QStringLiteral("the the the word word")};
        const QString path = writeTokenizer(dir, corpus, 40);
        const auto tok = vlm::Tokenizer::load(path);
        const QJsonObject doc = json::readFile(path).object();
        const int bpeVocab = static_cast<int>(doc.value(QStringLiteral("model")).toObject().value(QStringLiteral("vocab")).toObject().size());
        const int merges = static_cast<int>(doc.value(QStringLiteral("model")).toObject().value(QStringLiteral("merges")).toArray().size());
        QVERIFY(merges <= 40 && merges > 10);
        QCOMPARE(bpeVocab, 256 + merges); // every merge adds exactly one token
        // Special tokens follow the BPE vocabulary in Qwen2's order and are recognised in text.
        QCOMPARE(*tok->tokenId(QStringLiteral("<|endoftext|>")), bpeVocab);
        QCOMPARE(*tok->tokenId(QStringLiteral("<|image_pad|>")), bpeVocab + 12);
        QCOMPARE(tok->encode(QStringLiteral("<|im_start|>user")).front(), bpeVocab + 1);
        // The corpus' most frequent words became single tokens ...
        QCOMPARE(tok->encode(QStringLiteral(" word")).size(), std::size_t(1));
        QCOMPARE(tok->encode(QStringLiteral("What")).size(), std::size_t(1));
        // ... and any text, seen or not, round-trips through the byte-level alphabet.
        for (const QString &text : corpus + QStringList{QStringLiteral("Zürich, naïve 😀 42\n\t x"), QStringLiteral("<|im_end|>\nok")})
            QCOMPARE(tok->decode(tok->encode(text)), text);
        // Deterministic: the same corpus gives the same file.
        QCOMPARE(json::readFile(writeTokenizer(dir, corpus, 40, QStringLiteral("again.json"))).object(), doc);
    }

    void shippedModelsTeacherKnowsShapesStudentDoesNot()
    {
        const QString models = demo::findShippedDemoModels();
        if (models.isEmpty())
            QSKIP("no shipped demo models (resources/demo/models)");
        QTemporaryDir dir;
        auto teacher = backends::makeNativeBackend(models + QStringLiteral("/teacher"), demo::demoBackendOptions());
        auto student = backends::makeNativeBackend(models + QStringLiteral("/student"), demo::demoBackendOptions());
        const int n = 24;
        QMap<QString, double> teacherScore, studentScore;
        for (const QString &family : datasets::syntheticFamilies()) {
            teacherScore[family] = accuracy(*teacher, dir, family, n);
            studentScore[family] = accuracy(*student, dir, family, n);
            qInfo("%s: teacher %.2f, student %.2f", qPrintable(family), teacherScore[family], studentScore[family]);
        }
        // Measured when the models were made (24 questions each): teacher 0.58 on shapes (every
        // colour, a few counts), student 0.00; both about 0.3-0.5 on charts. Thresholds leave room
        // for near-tie answers that flip with the BLAS thread count.
        QVERIFY2(teacherScore["knowledge"] >= 0.45, qPrintable(QString::number(teacherScore["knowledge"])));
        QVERIFY2(studentScore["knowledge"] <= 0.2, qPrintable(QString::number(studentScore["knowledge"])));
        QVERIFY2(teacherScore["chart"] >= 0.2 && studentScore["chart"] >= 0.2, "both models answer some chart questions");
    }

    void loopOnASmallWorldFillsTheWorkspaceAndReport()
    {
        const QString models = demo::findShippedDemoModels();
        if (models.isEmpty())
            QSKIP("no shipped demo models (resources/demo/models)");
        QTemporaryDir dir;
        const store::Workspace ws = store::Workspace::create(dir.filePath(QStringLiteral("demo.mpaw")));
        demo::DemoLoopOptions o;
        o.poolPerFamily = 8;
        o.testPerFamily = 6;
        o.alignEpochs = 1;
        demo::runDemoLoop(ws, o);
        QSqlDatabase db = ws.connection();
        // One pseudo pair per pool image, each family annotated with its own task prompt.
        QCOMPARE(test::countRows(ws, QStringLiteral("samples")), qint64(24));
        for (const QString &family : datasets::syntheticFamilies())
            QCOMPARE(test::countRows(ws, QStringLiteral("samples s JOIN images i ON i.id = s.image_id"),
                                     QStringLiteral("s.task = '%1' AND i.path LIKE '%/pool/%1/%'").arg(family)), qint64(8));
        // The scripted review decides every gap (approved unless its question is garbled) and
        // rejects the samples neither model confirms.
        QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("outcome = 'gap' AND review_state = 'pending'")), qint64(0));
        QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("outcome = 'both_wrong' AND review_state != 'rejected'")), qint64(0));
        QCOMPARE(test::countRows(ws, QStringLiteral("samples"), QStringLiteral("outcome = 'gap' AND review_state = 'approved' AND question NOT IN "
                                                                               "('What colour is the circle', 'How many squares are there', "
                                                                               "'Which bar is the tallest', 'What word is written on the sign', "
                                                                               "'What number is on the white label') AND question NOT LIKE 'What is the value of bar _'")),
                 qint64(0));
        const qint64 gaps = test::countRows(ws, QStringLiteral("samples"), QStringLiteral("outcome = 'gap' AND review_state = 'approved'"));
        const qint64 usable = test::countRows(ws, QStringLiteral("samples"), QStringLiteral("parse_status = 'ok' AND review_state != 'rejected'"));

        const demo::DemoReport r = demo::demoReport(ws);
        QCOMPARE(r.benchmarks, QStringList({QStringLiteral("demo-text"), QStringLiteral("demo-chart"), QStringLiteral("demo-knowledge")}));
        QVERIFY(gaps > 0); // the student never saw a shape: the teacher's colour pairs are gaps
        QCOMPARE(r.rows.size(), 5);
        QVERIFY(r.rows[0].label.startsWith(QLatin1String("teacher")));
        QVERIFY(r.rows[1].label.startsWith(QLatin1String("student before")));
        QCOMPARE(r.rows[2].trainSamples, gaps);   // approved gaps
        QCOMPARE(r.rows[3].trainSamples, usable); // all pseudo pairs not rejected
        QCOMPARE(r.rows[4].trainSamples, std::min(gaps, usable)); // a random subset of the gaps' size
        for (const demo::DemoReportRow &row : r.rows)
            for (const QString &b : r.benchmarks)
                QVERIFY(row.mpaAccuracy.contains(b) && row.mpaAccuracy.value(b) >= 0 && row.mpaAccuracy.value(b) <= 1);
        const QString table = demo::formatDemoReport(r);
        QVERIFY(table.contains(QLatin1String("| teacher (L-VLM) | - |")));
        QVERIFY(table.contains(QStringLiteral("| student after MPA (approved gaps) | %1 |").arg(gaps)));
    }
};

QTEST_GUILESS_MAIN(TestDemo)
#include "test_demo.moc"
