#pragma once
// Photo-like JPEG files for the benchmarks (blurred noise: it compresses and decodes like a
// photograph, unlike pure noise or flat colour).
#include <QDir>
#include <QString>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace mpa::bench {

inline void writeNoiseJpegs(const QString &dir, int n, int width, int height, int first = 0)
{
    QDir().mkpath(dir);
    for (int i = first; i < first + n; ++i) {
        cv::Mat m(height, width, CV_8UC3);
        cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
        cv::GaussianBlur(m, m, cv::Size(31, 31), 8);
        cv::imwrite(QStringLiteral("%1/%2.jpg").arg(dir).arg(i, 5, 10, QLatin1Char('0')).toStdString(), m);
    }
}

} // namespace mpa::bench
