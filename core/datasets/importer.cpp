#include "datasets/importer.h"

#include "datasets/conversation_formats.h"
#include "datasets/image_paths.h"
#include "datasets/image_probe.h"
#include "datasets/mpa_results.h"
#include "metrics/mpa_match.h"
#include "store/catalog.h"
#include "store/review_journal.h"
#include "store/sql_util.h"
#include "util/error.h"
#include "util/json_file.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QSet>
#include <QHash>
#include <QJsonArray>
#include <functional>

namespace mpa::datasets {

using namespace mpa::store;

QString ImportReport::summary() const
{
    QStringList parts;
    parts << QStringLiteral("%1 images (%2 missing, %3 corrupt)").arg(images).arg(imagesMissing).arg(imagesCorrupt);
    if (samples)
        parts << QStringLiteral("%1 samples (%2 unparsed)").arg(samples).arg(samplesUnparsed);
    if (questions)
        parts << QStringLiteral("%1 benchmark questions").arg(questions);
    if (answers)
        parts << QStringLiteral("%1 answers").arg(answers);
    if (predictions)
        parts << QStringLiteral("%1 predictions").arg(predictions);
    if (verdicts)
        parts << QStringLiteral("%1 verdicts").arg(verdicts);
    if (duplicates)
        parts << QStringLiteral("%1 records skipped: their id repeats an earlier one (the first is kept): %2%3")
                     .arg(duplicates).arg(duplicateIds.join(QStringLiteral(", ")), duplicates > duplicateIds.size() ? QStringLiteral(", ...") : QString());
    return QStringLiteral("run %1: ").arg(runId) + parts.join(QStringLiteral(", "));
}

namespace {

// Shared machinery of every import: the run record, batched transactions, image
// registration with a per-import cache, failure handling.
class ImportSession
{
public:
    ImportSession(const Workspace &ws, const QString &source, const QJsonObject &params, int batchSize, const ProgressFn &progress)
        : m_ws(ws)
        , m_catalog(ws)
        , m_source(source)
        , m_batchSize(batchSize)
        , m_progress(progress)
    {
        ws.requireWritable(QStringLiteral("import %1").arg(source));
        m_report.runId = m_catalog.createRun(RunKind::Import, QFileInfo(source).fileName(), params);
    }

    Catalog &catalog() { return m_catalog; }
    ImportReport &report() { return m_report; }

    // False (and counted, named in the report) when `id` was already seen in this file.
    bool firstOccurrence(const QString &id, const QString &shown = {})
    {
        if (!m_seenIds.contains(id)) {
            m_seenIds.insert(id);
            return true;
        }
        ++m_report.duplicates;
        if (m_report.duplicateIds.size() < 10)
            m_report.duplicateIds << (shown.isEmpty() ? id : shown);
        return false;
    }

    qint64 image(const QString &path)
    {
        if (auto it = m_imageIds.constFind(path); it != m_imageIds.cend())
            return *it;
        const ImageRecord rec = probeImage(path);
        ++m_report.images;
        if (rec.status == ImageStatus::Missing)
            ++m_report.imagesMissing;
        else if (rec.status != ImageStatus::Ok)
            ++m_report.imagesCorrupt;
        const qint64 id = m_catalog.upsertImage(rec);
        m_imageIds.insert(path, id);
        return id;
    }

    // Runs `body(i)` for i in [0, count) in transactions of batchSize records.
    void forEach(qint64 count, const QString &what, const std::function<void(qint64)> &body)
    {
        QSqlDatabase db = m_ws.connection();
        qint64 committed = 0;
        bool cancelled = false;
        try {
            for (qint64 start = 0; start < count && !cancelled; start += m_batchSize) {
                const qint64 end = std::min(count, start + m_batchSize);
                Transaction tx(db, QStringLiteral("import batch"));
                for (qint64 i = start; i < end; ++i)
                    body(i);
                tx.commit();
                committed = end;
                cancelled = !reportProgress(m_progress, committed, count, what) && committed < count;
            }
        } catch (const Error &e) {
            fail(e.message(), committed);
        }
        if (cancelled) {
            m_catalog.finishRun(m_report.runId, RunStatus::Cancelled);
            throw Error(QStringLiteral("%1: import cancelled after %2 of %3 records (those are kept)").arg(m_source).arg(committed).arg(count));
        }
    }

    void finish()
    {
        m_catalog.finishRun(m_report.runId, RunStatus::Finished);
    }

    [[noreturn]] void fail(const QString &message, qint64 committed)
    {
        const QString text = message.startsWith(m_source) ? message
                                                          : QStringLiteral("%1: %2").arg(m_source, message);
        try {
            m_catalog.finishRun(m_report.runId, RunStatus::Failed, text);
        } catch (const Error &) {
            // The database itself may be what failed (disk full): the run stays "running"
            // and is marked interrupted at the next start.
        }
        if (committed > 0)
            throw Error(QStringLiteral("%1 (the first %2 records were imported and are kept)").arg(text).arg(committed));
        throw Error(text);
    }

private:
    Workspace m_ws;
    Catalog m_catalog;
    QString m_source;
    int m_batchSize;
    ProgressFn m_progress;
    ImportReport m_report;
    QHash<QString, qint64> m_imageIds;
    QSet<QString> m_seenIds;
};

// A file's identity for sample keys: its canonical path, so two files with the same name in
// different folders never overwrite each other's samples (re-importing one file stays idempotent).
QString fileIdentity(const QString &path)
{
    const QString canonical = QFileInfo(path).canonicalFilePath();
    return canonical.isEmpty() ? QFileInfo(path).absoluteFilePath() : canonical;
}

QJsonObject params(std::initializer_list<std::pair<const char *, QString>> values)
{
    QJsonObject o;
    for (const auto &v : values)
        if (!v.second.isEmpty())
            o.insert(QString::fromLatin1(v.first), v.second);
    return o;
}

} // namespace

Importer::Importer(const Workspace &ws, ProgressFn progress)
    : m_ws(ws)
    , m_progress(std::move(progress))
{
}

ImportReport Importer::importImageFolder(const QString &dir)
{
    const QFileInfo info(dir);
    if (!info.exists())
        throw Error(QStringLiteral("%1: folder not found").arg(dir));
    if (!info.isDir())
        throw Error(QStringLiteral("%1: not a folder").arg(dir));
    QStringList files;
    QDirIterator it(info.absoluteFilePath(), QDir::Files | QDir::Readable | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        if (hasImageExtension(path))
            files << QDir::cleanPath(path);
    }
    // Unreadable files are skipped by the Readable filter above; list them too so they are
    // recorded as unreadable rather than silently ignored.
    QDirIterator all(info.absoluteFilePath(), QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (all.hasNext()) {
        const QString path = QDir::cleanPath(all.next());
        if (hasImageExtension(path) && !QFileInfo(path).isReadable())
            files << path;
    }
    files.sort();
    ImportSession session(m_ws, info.absoluteFilePath(), params({{"images", info.absoluteFilePath()}}), m_batchSize, m_progress);
    session.forEach(files.size(), QStringLiteral("images"), [&](qint64 i) { session.image(files.at(i)); });
    session.finish();
    return session.report();
}

ImportReport Importer::importBenchmark(BenchmarkFormat format, const QString &path, const BenchmarkOptions &options)
{
    BenchmarkSet set;
    switch (format) {
    case BenchmarkFormat::TextVqa: set = readTextVqa(path, options); break;
    case BenchmarkFormat::StVqa: set = readStVqa(path, options); break;
    case BenchmarkFormat::ChartQa: set = readChartQa(path, options); break;
    case BenchmarkFormat::Vqa: set = readVqa(path, options); break;
    case BenchmarkFormat::MpaEval: set = readMpaEval(path, options); break;
    }
    ImportSession session(m_ws, path, params({{"dataset", set.dataset}, {"file", path}, {"image_root", options.imageRoot}}), m_batchSize, m_progress);
    std::optional<qint64> modelId;
    if (!set.predictions.isEmpty()) {
        // MPA evaluation files are named Eval_<model>_<dataset>.json.
        const QString model = QFileInfo(path).completeBaseName().section(QLatin1Char('_'), 1, -2);
        if (!model.isEmpty())
            modelId = session.catalog().ensureModel(model, ModelKind::Imported, path, ModelRole::Other);
    }
    session.forEach(set.entries.size(), QStringLiteral("questions"), [&](qint64 i) {
        const BenchmarkEntry &e = set.entries.at(i);
        BenchmarkItemRecord item{set.dataset, set.split, e.questionId, session.image(e.imagePath), e.question, e.answers};
        const qint64 itemId = session.catalog().upsertBenchmarkItem(item);
        ++session.report().questions;
        if (set.predictions.contains(e.questionId)) {
            session.catalog().upsertPrediction(session.report().runId, itemId, modelId, set.predictions.value(e.questionId));
            ++session.report().predictions;
        }
    });
    session.finish();
    return session.report();
}

ImportReport Importer::importConversations(const QString &path, const QString &imageRoot, const QString &task)
{
    const QList<QaPair> pairs = readLlava(path, imageRoot);
    ImportSession session(m_ws, path, params({{"format", QStringLiteral("llava")}, {"file", path}, {"image_root", imageRoot}}), m_batchSize, m_progress);
    const QString source = QStringLiteral("llava:") + fileIdentity(path);
    session.forEach(pairs.size(), QStringLiteral("samples"), [&](qint64 i) {
        const QaPair &p = pairs.at(i);
        if (!session.firstOccurrence(p.id))
            return;
        SampleRecord s;
        s.imageId = session.image(p.imagePath);
        s.task = task.isEmpty() ? QStringLiteral("imported") : task;
        s.question = p.question;
        s.answer = p.answer;
        s.runId = session.report().runId;
        s.source = source;
        s.sourceKey = p.id;
        session.catalog().upsertSample(s);
        ++session.report().samples;
    });
    session.finish();
    return session.report();
}

ImportReport Importer::importMpaPseudoAnnotations(const QString &path, const QString &imageRoot, const QString &modelName)
{
    const QList<PseudoAnnotation> records = readMpaPseudoAnnotations(path, imageRoot);
    const MpaFileName name = parseMpaFileName(path);
    ImportSession session(m_ws, path, params({{"format", QStringLiteral("mpa-pa")}, {"file", path}, {"image_root", imageRoot}}), m_batchSize, m_progress);
    // PA_<annotator>_<dataset>.json: the annotator is the large model.
    const QString model = !modelName.isEmpty() ? modelName : QFileInfo(path).completeBaseName().section(QLatin1Char('_'), 1, -2);
    const qint64 modelId = session.catalog().ensureModel(model.isEmpty() ? QStringLiteral("pseudo-annotator") : model,
                                                         ModelKind::Imported, path, ModelRole::Large);
    const QString source = QStringLiteral("mpa-pa:") + name.dataset + QLatin1Char(':') + fileIdentity(path);
    session.forEach(records.size(), QStringLiteral("samples"), [&](qint64 i) {
        const PseudoAnnotation &a = records.at(i);
        if (!session.firstOccurrence(a.questionId))
            return;
        SampleRecord s;
        s.imageId = session.image(a.imagePath);
        s.task = taskForMpaDataset(name.dataset);
        s.question = a.question;
        s.answer = a.answer;
        s.parsed = a.parsed;
        s.modelId = modelId;
        s.runId = session.report().runId;
        s.source = source;
        s.sourceKey = a.questionId;
        session.catalog().upsertSample(s);
        ++session.report().samples;
        if (!a.parsed)
            ++session.report().samplesUnparsed;
    });
    session.finish();
    return session.report();
}

ImportReport Importer::importMpaParityAnswers(const QString &path, const QString &imageRoot, const QString &modelName, const QString &roleText)
{
    const QList<ParityAnswer> records = readMpaParityAnswers(path, imageRoot);
    const MpaFileName name = parseMpaFileName(path);
    const QString model = modelName.isEmpty() ? name.model : modelName;
    if (model.isEmpty())
        throw Error(QStringLiteral("%1: cannot tell the answering model from the file name; pass --model NAME").arg(path));
    std::optional<ModelRole> role = modelRoleFromString(roleText);
    if (!roleText.isEmpty() && (!role || *role == ModelRole::Other))
        throw Error(QStringLiteral("%1: --role must be \"large\" or \"small\", not \"%2\"").arg(path, roleText));
    if (!role) {
        QSqlDatabase db = m_ws.connection();
        const QString known = scalar(db, QStringLiteral("SELECT role FROM models WHERE name = ?"), {model}).toString();
        role = modelRoleFromString(known);
        if (!role || *role == ModelRole::Other)
            throw Error(QStringLiteral("%1: is %2 the large or the small model? pass --role large|small").arg(path, model));
    }

    ImportSession session(m_ws, path, params({{"format", QStringLiteral("mpa-pi")}, {"file", path}, {"model", model}, {"role", toString(*role)}}),
                          m_batchSize, m_progress);
    const qint64 modelId = session.catalog().ensureModel(model, ModelKind::Imported, path, *role);
    session.catalog().setModelRole(modelId, *role);
    const QString source = QStringLiteral("mpa-pi:") + name.dataset;
    const qint64 runId = session.report().runId;
    session.forEach(records.size(), QStringLiteral("answers"), [&](qint64 i) {
        const ParityAnswer &a = records.at(i);
        SampleRecord s;
        s.imageId = session.image(a.imagePath);
        s.task = taskForMpaDataset(name.dataset);
        s.question = a.question;
        s.answer = a.answer;
        s.runId = runId;
        s.source = source;
        s.sourceKey = a.questionId;
        const qint64 sampleId = session.catalog().upsertSample(s);
        ++session.report().samples;
        session.catalog().upsertAnswer(sampleId, modelId, runId, a.prediction);
        ++session.report().answers;
    });

    // Once both a large and a small model have answered a sample, the official criterion
    // decides its outcome (recorded under this import run).
    QSqlDatabase db = m_ws.connection();
    QSqlQuery q = exec(db, QStringLiteral(R"(
        SELECT s.id, s.answer,
          (SELECT a.text FROM answers a JOIN models m ON m.id = a.model_id WHERE a.sample_id = s.id AND m.role = 'large' ORDER BY a.id DESC LIMIT 1),
          (SELECT a.text FROM answers a JOIN models m ON m.id = a.model_id WHERE a.sample_id = s.id AND m.role = 'small' ORDER BY a.id DESC LIMIT 1)
        FROM samples s WHERE s.source = ? ORDER BY s.id)"), {source});
    struct Pending { qint64 id; QString answer, large, small; };
    QList<Pending> pending;
    while (q.next())
        if (!q.value(2).isNull() && !q.value(3).isNull())
            pending.append({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), q.value(3).toString()});
    session.forEach(pending.size(), QStringLiteral("verdicts"), [&](qint64 i) {
        const Pending &p = pending.at(i);
        const metrics::ParityVerdict v = metrics::identifyParity(p.answer, p.large, p.small);
        session.catalog().upsertVerdict(p.id, runId, v.largeCorrect, v.smallCorrect, v.outcome, QStringLiteral("mpa-substring"));
        ++session.report().verdicts;
    });
    session.finish();
    return session.report();
}

ImportReport Importer::importJsonl(const QString &path, const QString &imageRoot)
{
    const QList<QJsonObject> records = json::readLines(path);
    ImportSession session(m_ws, path, params({{"format", QStringLiteral("jsonl")}, {"file", path}, {"image_root", imageRoot}}), m_batchSize, m_progress);
    const qint64 runId = session.report().runId;
    QSqlDatabase db = m_ws.connection();
    session.forEach(records.size(), QStringLiteral("samples"), [&](qint64 i) {
        const json::Record r(records.at(i), path, i);
        SampleRecord s;
        s.imageId = session.image(resolveImagePath(r.string(QStringLiteral("image")), imageRoot, path));
        s.task = r.string(QStringLiteral("task"));
        s.question = r.optionalString(QStringLiteral("original_question"), r.optionalString(QStringLiteral("question")));
        s.answer = r.optionalString(QStringLiteral("original_answer"), r.optionalString(QStringLiteral("answer")));
        s.rawText = r.optionalString(QStringLiteral("raw_text"));
        s.parsed = r.optionalString(QStringLiteral("parse_status"), QStringLiteral("ok")) == QLatin1String("ok");
        s.runId = runId;
        s.source = r.optionalString(QStringLiteral("source"), QStringLiteral("jsonl:") + fileIdentity(path));
        s.sourceKey = r.optionalString(QStringLiteral("source_key"), QString::number(i));
        if (!session.firstOccurrence(s.source + QLatin1Char('\n') + s.sourceKey, s.sourceKey))
            return;
        const qint64 sampleId = session.catalog().upsertSample(s);
        ++session.report().samples;
        if (!s.parsed)
            ++session.report().samplesUnparsed;

        const QJsonArray answers = r.object().value(QStringLiteral("answers")).toArray();
        for (qsizetype k = 0; k < answers.size(); ++k) {
            const json::Record a(answers.at(k), path + QStringLiteral(" answers"), k);
            const QString roleText = a.optionalString(QStringLiteral("role"), QStringLiteral("other"));
            const qint64 modelId = session.catalog().ensureModel(a.string(QStringLiteral("model")), ModelKind::Imported, path,
                                                                 modelRoleFromString(roleText).value_or(ModelRole::Other));
            session.catalog().upsertAnswer(sampleId, modelId, runId, a.optionalString(QStringLiteral("text")));
            ++session.report().answers;
        }
        if (r.has(QStringLiteral("verdict"))) {
            const json::Record v(r.object().value(QStringLiteral("verdict")), path + QStringLiteral(" verdict"), i);
            const auto outcome = outcomeFromString(v.string(QStringLiteral("outcome")));
            if (!outcome)
                v.fail(QStringLiteral("unknown outcome \"%1\"").arg(v.string(QStringLiteral("outcome"))));
            session.catalog().upsertVerdict(sampleId, runId, v.object().value(QStringLiteral("l_correct")).toBool(),
                                            v.object().value(QStringLiteral("s_correct")).toBool(), *outcome,
                                            v.optionalString(QStringLiteral("criterion"), QStringLiteral("imported")));
            ++session.report().verdicts;
        }
        // Restore the review state (and edits) as one journal entry, unless it already holds.
        const QString state = r.optionalString(QStringLiteral("review_state"), QStringLiteral("pending"));
        const bool edited = r.has(QStringLiteral("original_question")) || r.has(QStringLiteral("original_answer"));
        QSqlQuery cur = exec(db, QStringLiteral("SELECT review_state, reviewed_question, reviewed_answer FROM samples WHERE id = ?"), {sampleId});
        cur.next();
        const bool editDiffers = (r.has(QStringLiteral("original_question")) && cur.value(1).toString() != r.string(QStringLiteral("question")))
                                 || (r.has(QStringLiteral("original_answer")) && cur.value(2).toString() != r.string(QStringLiteral("answer")));
        if (state != cur.value(0).toString() || (edited && editDiffers)) {
            const Decision d = state == QLatin1String("approved") ? Decision::Approve
                             : state == QLatin1String("rejected") ? Decision::Reject : Decision::Clear;
            std::optional<QString> q, a;
            if (r.has(QStringLiteral("original_question")))
                q = r.string(QStringLiteral("question"));
            if (r.has(QStringLiteral("original_answer")))
                a = r.string(QStringLiteral("answer"));
            exec(db, QStringLiteral("INSERT INTO reviews(sample_id, decision, question, answer, note, created_at) VALUES(?,?,?,?,?,?)"),
                 {sampleId, toString(d), q ? QVariant(*q) : QVariant(QMetaType::fromType<QString>()),
                  a ? QVariant(*a) : QVariant(QMetaType::fromType<QString>()), QStringLiteral("imported from %1").arg(QFileInfo(path).fileName()), nowMs()});
        }
    });
    session.finish();
    return session.report();
}

QStringList annotationFormats()
{
    return {QStringLiteral("textvqa"), QStringLiteral("stvqa"), QStringLiteral("chartqa"), QStringLiteral("vqa"), QStringLiteral("llava"),
            QStringLiteral("mpa-pa"), QStringLiteral("mpa-pi"), QStringLiteral("mpa-eval"), QStringLiteral("jsonl")};
}

ImportReport importAnnotations(const Workspace &ws, const AnnotationImport &r, const ProgressFn &progress)
{
    Importer importer(ws, progress);
    static const QHash<QString, BenchmarkFormat> benchmarks = {
        {QStringLiteral("textvqa"), BenchmarkFormat::TextVqa}, {QStringLiteral("stvqa"), BenchmarkFormat::StVqa},
        {QStringLiteral("chartqa"), BenchmarkFormat::ChartQa}, {QStringLiteral("vqa"), BenchmarkFormat::Vqa},
        {QStringLiteral("mpa-eval"), BenchmarkFormat::MpaEval}};
    if (benchmarks.contains(r.format))
        return importer.importBenchmark(benchmarks.value(r.format), r.file, {r.imageRoot, r.split, r.annotationsFile, r.datasetName});
    if (r.format == QLatin1String("llava"))
        return importer.importConversations(r.file, r.imageRoot, r.task);
    if (r.format == QLatin1String("mpa-pa"))
        return importer.importMpaPseudoAnnotations(r.file, r.imageRoot, r.model);
    if (r.format == QLatin1String("mpa-pi"))
        return importer.importMpaParityAnswers(r.file, r.imageRoot, r.model, r.role);
    if (r.format == QLatin1String("jsonl"))
        return importer.importJsonl(r.file, r.imageRoot);
    throw Error(QStringLiteral("unknown annotation format \"%1\" (%2)").arg(r.format, annotationFormats().join(QLatin1Char(' '))));
}

} // namespace mpa::datasets
