#include "util/json_file.h"

#include "util/error.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

namespace mpa::json {

namespace {

QByteArray readAll(const QString &path)
{
    QFileInfo info(path);
    if (!info.exists())
        throw Error(QStringLiteral("%1: file not found").arg(path));
    if (info.isDir())
        throw Error(QStringLiteral("%1: is a folder, expected a JSON file").arg(path));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("%1: cannot read: %2").arg(path, file.errorString()));
    QByteArray data = file.readAll();
    if (data.trimmed().isEmpty())
        throw Error(QStringLiteral("%1: file is empty").arg(path));
    return data;
}

} // namespace

QJsonDocument parse(const QByteArray &raw, const QString &where)
{
    // Qt's JSON parser silently drops U+FEFF at the start of a string value (it decodes
    // string segments like a file and treats the character as a byte-order mark). Escaping
    // it keeps the character; a BOM at the start of the file is still skipped.
    QByteArray data = raw;
    if (data.startsWith("\xEF\xBB\xBF"))
        data.remove(0, 3);
    data.replace("\xEF\xBB\xBF", "\\ufeff");
    QJsonParseError error{};
    QJsonDocument doc = QJsonDocument::fromJson(data, &error);
    if (error.error != QJsonParseError::NoError) {
        // A parse error at the very end almost always means the file was cut short.
        const bool atEnd = error.offset >= data.trimmed().size() - 1;
        throw Error(QStringLiteral("%1: %2 JSON at byte %3: %4")
                        .arg(where, atEnd ? QStringLiteral("truncated") : QStringLiteral("malformed"))
                        .arg(error.offset)
                        .arg(error.errorString()));
    }
    return doc;
}

namespace {

void saveAtomically(const QString &path, const QByteArray &data)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        throw Error(QStringLiteral("%1: cannot write: %2").arg(path, file.errorString()));
    if (file.write(data) != data.size() || !file.commit())
        throw Error(QStringLiteral("%1: write failed: %2").arg(path, file.errorString()));
}

} // namespace

QJsonDocument readFile(const QString &path)
{
    return parse(readAll(path), path);
}

QList<QJsonObject> readLines(const QString &path)
{
    const QByteArray data = readAll(path);
    QList<QJsonObject> records;
    int lineNumber = 0;
    for (const QByteArray &line : data.split('\n')) {
        ++lineNumber;
        if (line.trimmed().isEmpty())
            continue;
        QJsonDocument doc = parse(line, QStringLiteral("%1: line %2").arg(path).arg(lineNumber));
        if (!doc.isObject())
            throw Error(QStringLiteral("%1: line %2: expected a JSON object").arg(path).arg(lineNumber));
        records.append(doc.object());
    }
    return records;
}

void writeFile(const QString &path, const QJsonDocument &doc)
{
    saveAtomically(path, doc.toJson(QJsonDocument::Indented));
}

void writeLines(const QString &path, const QList<QJsonObject> &records)
{
    QByteArray data;
    for (const QJsonObject &record : records) {
        data += QJsonDocument(record).toJson(QJsonDocument::Compact);
        data += '\n';
    }
    saveAtomically(path, data);
}

QJsonArray arrayAt(const QJsonDocument &doc, const QString &path, const QString &key)
{
    if (key.isEmpty()) {
        if (!doc.isArray())
            throw Error(QStringLiteral("%1: expected a JSON array at the top level, got an object").arg(path));
        return doc.array();
    }
    if (!doc.isObject())
        throw Error(QStringLiteral("%1: expected a JSON object with \"%2\" at the top level, got an array").arg(path, key));
    const QJsonValue value = doc.object().value(key);
    if (value.isUndefined())
        throw Error(QStringLiteral("%1: field \"%2\" is missing at the top level").arg(path, key));
    if (!value.isArray())
        throw Error(QStringLiteral("%1: field \"%2\" must be an array, got %3").arg(path, key, typeName(value)));
    return value.toArray();
}

QString typeName(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("a boolean");
    case QJsonValue::Double: return QStringLiteral("a number");
    case QJsonValue::String: return QStringLiteral("a string");
    case QJsonValue::Array: return QStringLiteral("an array");
    case QJsonValue::Object: return QStringLiteral("an object");
    case QJsonValue::Undefined: break;
    }
    return QStringLiteral("nothing");
}

Record::Record(const QJsonValue &value, const QString &file, qsizetype index)
    : m_file(file)
    , m_index(index)
{
    if (!value.isObject())
        fail(QStringLiteral("expected an object, got %1").arg(typeName(value)));
    m_object = value.toObject();
}

QString Record::where() const
{
    return QStringLiteral("%1: record %2").arg(m_file).arg(m_index + 1);
}

void Record::fail(const QString &problem) const
{
    throw Error(where() + QStringLiteral(": ") + problem);
}

QString Record::string(const QString &key) const
{
    const QJsonValue value = m_object.value(key);
    if (value.isUndefined())
        fail(QStringLiteral("field \"%1\" is missing").arg(key));
    if (!value.isString())
        fail(QStringLiteral("field \"%1\" must be a string, got %2").arg(key, typeName(value)));
    return value.toString();
}

QString Record::optionalString(const QString &key, const QString &fallback) const
{
    const QJsonValue value = m_object.value(key);
    if (value.isUndefined() || value.isNull())
        return fallback;
    if (value.isDouble())
        return id(key);
    if (!value.isString())
        fail(QStringLiteral("field \"%1\" must be a string, got %2").arg(key, typeName(value)));
    return value.toString();
}

QString Record::id(const QString &key) const
{
    const QJsonValue value = m_object.value(key);
    if (value.isUndefined())
        fail(QStringLiteral("field \"%1\" is missing").arg(key));
    if (value.isString())
        return value.toString();
    if (value.isDouble()) {
        const double d = value.toDouble();
        if (d == static_cast<double>(static_cast<qint64>(d)))
            return QString::number(static_cast<qint64>(d));
        return QString::number(d, 'g', 17);
    }
    fail(QStringLiteral("field \"%1\" must be a number or a string, got %2").arg(key, typeName(value)));
}

QStringList Record::stringList(const QString &key) const
{
    const QJsonArray items = array(key);
    QStringList out;
    out.reserve(items.size());
    for (qsizetype i = 0; i < items.size(); ++i) {
        const QJsonValue item = items.at(i);
        if (item.isString())
            out << item.toString();
        else if (item.isDouble())
            out << QString::number(item.toDouble(), 'g', 17);
        else
            fail(QStringLiteral("field \"%1\" item %2 must be a string, got %3").arg(key).arg(i + 1).arg(typeName(item)));
    }
    return out;
}

QJsonArray Record::array(const QString &key) const
{
    const QJsonValue value = m_object.value(key);
    if (value.isUndefined())
        fail(QStringLiteral("field \"%1\" is missing").arg(key));
    if (!value.isArray())
        fail(QStringLiteral("field \"%1\" must be an array, got %2").arg(key, typeName(value)));
    return value.toArray();
}

} // namespace mpa::json
