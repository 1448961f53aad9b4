#pragma once
// The fuzz input as a file: the parsers under test read paths (as the application does), so
// each input is written to one file in /dev/shm (memory) and parsed from there.
#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QString>
#include <cstdint>
#include <unistd.h>

inline QString fuzzInputFile(const std::uint8_t *data, std::size_t size, const char *name)
{
    const QString dir = QStringLiteral("/dev/shm/mpa-fuzz-%1").arg(getpid());
    static const bool made = [&] { return QFile::exists(dir) || QDir().mkpath(dir); }();
    (void)made;
    const QString path = dir + QLatin1Char('/') + QLatin1String(name);
    QFile f(path);
    if (f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        f.write(reinterpret_cast<const char *>(data), static_cast<qint64>(size));
    return path;
}
