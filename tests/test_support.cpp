#include "test_support.h"

#include "store/sql_util.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace mpa::test {

QString fixturesDir()
{
    QString dir = qEnvironmentVariable("MPA_FIXTURES_DIR");
    if (dir.isEmpty())
        dir = QStringLiteral(MPA_SOURCE_DIR "/../shared/fixtures");
    return QFileInfo(dir + QStringLiteral("/mpa-official")).isDir() ? QDir(dir).absolutePath() : QString();
}

QString fixture(const QString &relativePath)
{
    return fixturesDir() + QLatin1Char('/') + relativePath;
}

QString fixtureFolder(const QString &pathOrName)
{
    if (QFileInfo(pathOrName).isDir())
        return pathOrName;
    return fixturesDir().isEmpty() ? QString() : fixture(pathOrName);
}

QString cliPath()
{
    return QStringLiteral(MPA_CLI_PATH);
}

namespace {
cv::Mat pattern(int width, int height, int seed)
{
    cv::Mat img(height, width, CV_8UC3);
    cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
    cv::rectangle(img, cv::Point(seed % width, 0), cv::Point(width - 1, height / 2), cv::Scalar(seed % 255, 80, 200), cv::FILLED);
    return img;
}
void write(const QString &path, const cv::Mat &img)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    std::vector<uchar> bytes;
    const std::string ext = path.endsWith(QLatin1String(".png")) ? ".png" : ".jpg";
    QVERIFY(cv::imencode(ext, img, bytes));
    // Written through QFile so non-ASCII names work regardless of OpenCV's path handling.
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    f.write(reinterpret_cast<const char *>(bytes.data()), static_cast<qint64>(bytes.size()));
}
} // namespace

void writeJpeg(const QString &path, int width, int height, int seed)
{
    write(path, pattern(width, height, seed));
}

void writePng(const QString &path, int width, int height, int seed)
{
    write(path, pattern(width, height, seed));
}

void writeTruncatedCopy(const QString &source, const QString &target, qint64 keepBytes)
{
    QFile in(source);
    QVERIFY(in.open(QIODevice::ReadOnly));
    writeText(target, in.read(keepBytes));
}

void writeText(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    f.write(content);
}

vlm::Qwen2VLConfig tinyQwen2VLConfig()
{
    return vlm::Qwen2VLConfig::small(32, 1, 151680);
}

qint64 countRows(const store::Workspace &ws, const QString &table, const QString &where)
{
    QSqlDatabase db = ws.connection();
    return store::scalar(db, QStringLiteral("SELECT count(*) FROM %1 WHERE %2").arg(table, where)).toLongLong();
}

} // namespace mpa::test
