#include "datasets/benchmark_formats.h"

#include "datasets/image_paths.h"
#include "util/error.h"
#include "util/json_file.h"

#include <QFileInfo>

namespace mpa::datasets {

namespace {

using json::Record;

QString splitFromFileName(const QString &path, const QString &fallback)
{
    const QString name = QFileInfo(path).fileName().toLower();
    for (const char *s : {"train", "val", "test"})
        if (name.contains(QLatin1String(s)))
            return QString::fromLatin1(s);
    return fallback;
}

void requireEntries(const BenchmarkSet &set, const QString &path)
{
    if (set.entries.isEmpty())
        throw Error(QStringLiteral("%1: holds no questions").arg(path));
}

} // namespace

QString cocoImageName(const QString &split, const QString &imageId)
{
    QString s = split;
    if (!s.endsWith(QLatin1String("2014")) && !s.endsWith(QLatin1String("2015")))
        s += QStringLiteral("2014");
    return QStringLiteral("COCO_%1_%2.jpg").arg(s).arg(imageId.toLongLong(), 12, 10, QLatin1Char('0'));
}

BenchmarkSet readTextVqa(const QString &path, const BenchmarkOptions &o)
{
    const QJsonDocument doc = json::readFile(path);
    const QJsonArray data = json::arrayAt(doc, path, QStringLiteral("data"));
    BenchmarkSet set;
    set.dataset = o.dataset.isEmpty() ? QStringLiteral("textvqa") : o.dataset;
    set.split = o.split;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const Record r(data.at(i), path, i);
        BenchmarkEntry e;
        e.questionId = r.id(QStringLiteral("question_id"));
        e.question = r.string(QStringLiteral("question"));
        // The test split has no answers; it can still be imported for prediction.
        e.answers = r.has(QStringLiteral("answers")) ? r.stringList(QStringLiteral("answers")) : QStringList();
        e.imagePath = resolveImagePath(r.id(QStringLiteral("image_id")) + QStringLiteral(".jpg"), o.imageRoot, path);
        if (set.split.isEmpty())
            set.split = r.optionalString(QStringLiteral("set_name"));
        set.entries << e;
    }
    if (set.split.isEmpty())
        set.split = splitFromFileName(path, QStringLiteral("val"));
    requireEntries(set, path);
    return set;
}

BenchmarkSet readStVqa(const QString &path, const BenchmarkOptions &o)
{
    const QJsonDocument doc = json::readFile(path);
    const QJsonArray data = json::arrayAt(doc, path, QStringLiteral("data"));
    BenchmarkSet set;
    set.dataset = o.dataset.isEmpty() ? QStringLiteral("stvqa") : o.dataset;
    set.split = o.split.isEmpty() ? splitFromFileName(path, QStringLiteral("train")) : o.split;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const Record r(data.at(i), path, i);
        BenchmarkEntry e;
        e.questionId = r.id(QStringLiteral("question_id"));
        e.question = r.string(QStringLiteral("question"));
        e.answers = r.has(QStringLiteral("answers")) ? r.stringList(QStringLiteral("answers")) : QStringList();
        e.imagePath = resolveImagePath(r.string(QStringLiteral("file_path")), o.imageRoot, path);
        set.entries << e;
    }
    requireEntries(set, path);
    return set;
}

BenchmarkSet readChartQa(const QString &path, const BenchmarkOptions &o)
{
    const QJsonDocument doc = json::readFile(path);
    const QJsonArray data = json::arrayAt(doc, path);
    BenchmarkSet set;
    set.dataset = o.dataset.isEmpty() ? QStringLiteral("chartqa") : o.dataset;
    set.split = o.split.isEmpty() ? splitFromFileName(path, QStringLiteral("test")) : o.split;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const Record r(data.at(i), path, i);
        BenchmarkEntry e;
        // The official files have no id; the MPA variant adds question_id. Fall back to the index.
        e.questionId = r.has(QStringLiteral("question_id")) ? r.id(QStringLiteral("question_id")) : QString::number(i);
        e.question = r.string(QStringLiteral("query"));
        e.answers = QStringList{r.id(QStringLiteral("label"))};
        e.imagePath = resolveImagePath(r.string(QStringLiteral("imgname")), o.imageRoot, path);
        set.entries << e;
    }
    requireEntries(set, path);
    return set;
}

BenchmarkSet readVqa(const QString &path, const BenchmarkOptions &o)
{
    const QJsonDocument doc = json::readFile(path);
    BenchmarkSet set;
    set.dataset = o.dataset.isEmpty() ? QStringLiteral("vqa") : o.dataset;
    if (doc.isArray()) {
        // Merged variant (MPA's okvqa_val_combine.json).
        set.split = o.split.isEmpty() ? splitFromFileName(path, QString()) : o.split;
        if (set.split.isEmpty())
            throw Error(QStringLiteral("%1: cannot tell the COCO split (train/val) from the file name; pass --split").arg(path));
        const QJsonArray data = doc.array();
        for (qsizetype i = 0; i < data.size(); ++i) {
            const Record r(data.at(i), path, i);
            BenchmarkEntry e;
            e.questionId = r.id(QStringLiteral("question_id"));
            e.question = r.string(QStringLiteral("question"));
            e.answers = r.stringList(QStringLiteral("answers"));
            e.imagePath = resolveImagePath(cocoImageName(set.split, r.id(QStringLiteral("image_id"))), o.imageRoot, path);
            set.entries << e;
        }
    } else {
        const QJsonObject top = doc.object();
        if (top.contains(QStringLiteral("annotations")) && !top.contains(QStringLiteral("questions")))
            throw Error(QStringLiteral("%1: this is a VQA annotations file; pass the questions file and --annotations %1").arg(path));
        const QJsonArray questions = json::arrayAt(doc, path, QStringLiteral("questions"));
        QString subtype = top.value(QStringLiteral("data_subtype")).toString();
        set.split = !o.split.isEmpty() ? o.split : !subtype.isEmpty() ? subtype : splitFromFileName(path, QString());
        if (set.split.isEmpty())
            throw Error(QStringLiteral("%1: no data_subtype and no split in the file name; pass --split").arg(path));
        QHash<QString, QStringList> answersById;
        if (!o.annotationsFile.isEmpty()) {
            const QJsonDocument ann = json::readFile(o.annotationsFile);
            const QJsonArray annotations = json::arrayAt(ann, o.annotationsFile, QStringLiteral("annotations"));
            for (qsizetype i = 0; i < annotations.size(); ++i) {
                const Record r(annotations.at(i), o.annotationsFile, i);
                QStringList answers;
                const QJsonArray list = r.array(QStringLiteral("answers"));
                for (qsizetype k = 0; k < list.size(); ++k)
                    answers << Record(list.at(k), o.annotationsFile, i).string(QStringLiteral("answer"));
                answersById.insert(r.id(QStringLiteral("question_id")), answers);
            }
        }
        for (qsizetype i = 0; i < questions.size(); ++i) {
            const Record r(questions.at(i), path, i);
            BenchmarkEntry e;
            e.questionId = r.id(QStringLiteral("question_id"));
            e.question = r.string(QStringLiteral("question"));
            e.answers = answersById.value(e.questionId);
            if (!o.annotationsFile.isEmpty() && !answersById.contains(e.questionId))
                throw Error(QStringLiteral("%1: question %2 has no annotation").arg(o.annotationsFile, e.questionId));
            e.imagePath = resolveImagePath(cocoImageName(set.split, r.id(QStringLiteral("image_id"))), o.imageRoot, path);
            set.entries << e;
        }
    }
    if (set.split.endsWith(QLatin1String("2014")) || set.split.endsWith(QLatin1String("2015")))
        set.split.chop(4);
    requireEntries(set, path);
    return set;
}

BenchmarkSet readMpaEval(const QString &path, const BenchmarkOptions &o)
{
    const QJsonDocument doc = json::readFile(path);
    const QJsonArray data = json::arrayAt(doc, path);
    BenchmarkSet set;
    const QString base = QFileInfo(path).completeBaseName();
    // Eval_<model>_<textVQA|stVQA|chartVQA|okVQA>.json -> the benchmark's usual name.
    static const QHash<QString, QString> names = {{QStringLiteral("textvqa"), QStringLiteral("textvqa")},
                                                  {QStringLiteral("stvqa"), QStringLiteral("stvqa")},
                                                  {QStringLiteral("chartvqa"), QStringLiteral("chartqa")},
                                                  {QStringLiteral("okvqa"), QStringLiteral("okvqa")}};
    const QString suffix = base.section(QLatin1Char('_'), -1).toLower();
    set.dataset = !o.dataset.isEmpty() ? o.dataset : names.value(suffix, suffix);
    set.split = o.split.isEmpty() ? QStringLiteral("test") : o.split;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const Record r(data.at(i), path, i);
        BenchmarkEntry e;
        e.questionId = r.id(QStringLiteral("question_id"));
        e.question = r.string(QStringLiteral("GT_question"));
        e.answers = QStringList{r.id(QStringLiteral("GT_answer"))};
        e.imagePath = resolveImagePath(r.string(QStringLiteral("image_path")), o.imageRoot, path);
        set.predictions.insert(e.questionId, r.optionalString(QStringLiteral("predictions")));
        set.entries << e;
    }
    requireEntries(set, path);
    return set;
}

BenchmarkSet readBenchmarkAuto(const QString &path, const BenchmarkOptions &o)
{
    const QJsonDocument doc = json::readFile(path);
    if (doc.isObject()) {
        const QJsonObject top = doc.object();
        if (top.contains(QStringLiteral("questions")) || top.contains(QStringLiteral("annotations")))
            return readVqa(path, o);
        const QJsonArray data = top.value(QStringLiteral("data")).toArray();
        if (!data.isEmpty() && data.first().toObject().contains(QStringLiteral("file_path")))
            return readStVqa(path, o);
        if (!data.isEmpty())
            return readTextVqa(path, o);
    } else if (doc.isArray() && !doc.array().isEmpty()) {
        const QJsonObject first = doc.array().first().toObject();
        if (first.contains(QStringLiteral("GT_answer")))
            return readMpaEval(path, o);
        if (first.contains(QStringLiteral("query")))
            return readChartQa(path, o);
        if (first.contains(QStringLiteral("answers")))
            return readVqa(path, o);
    }
    throw Error(QStringLiteral("%1: not a TextVQA, ST-VQA, ChartQA, VQA or MPA evaluation file").arg(path));
}

} // namespace mpa::datasets
