#pragma once
// Reading user-supplied JSON with errors that name the file, the record and the field.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace mpa::json {

// Reads and parses a whole JSON file. Missing, unreadable, empty, truncated or malformed
// files raise mpa::Error("FILE: problem").
QJsonDocument readFile(const QString &path);
// Parses JSON held in memory; `where` names it in errors. Unlike QJsonDocument::fromJson it
// keeps a U+FEFF at the start of a string value.
QJsonDocument parse(const QByteArray &data, const QString &where);
// Reads a JSON Lines file: one object per non-empty line.
QList<QJsonObject> readLines(const QString &path);
// Writes atomically (temporary file + rename) so a failed export never leaves half a file.
void writeFile(const QString &path, const QJsonDocument &doc);
void writeLines(const QString &path, const QList<QJsonObject> &records);

// The top-level array of a document, or the array under `key` of a top-level object.
QJsonArray arrayAt(const QJsonDocument &doc, const QString &path, const QString &key = {});

// Typed access to one record, e.g. Record(obj, "train.json", 12).string("question").
class Record
{
public:
    Record(const QJsonValue &value, const QString &file, qsizetype index);
    const QJsonObject &object() const { return m_object; }
    bool has(const QString &key) const { return m_object.contains(key) && !m_object.value(key).isNull(); }
    QString string(const QString &key) const;
    QString optionalString(const QString &key, const QString &fallback = {}) const;
    // Ids are numbers in some datasets and strings in others; both become a string.
    QString id(const QString &key) const;
    QStringList stringList(const QString &key) const;
    QJsonArray array(const QString &key) const;
    [[noreturn]] void fail(const QString &problem) const;
    QString where() const;

private:
    QJsonObject m_object;
    QString m_file;
    qsizetype m_index;
};

QString typeName(const QJsonValue &value);

} // namespace mpa::json
