#include "datasets/synthetic_world.h"

#include "datasets/importer.h"
#include "store/catalog.h"
#include "store/sql_util.h"
#include "util/error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace mpa::datasets {

namespace {

struct Colour
{
    const char *name;
    cv::Scalar bgr;
};

const std::vector<Colour> &colours()
{
    static const std::vector<Colour> c = {{"red", {40, 40, 220}},    {"blue", {220, 110, 40}},  {"green", {60, 170, 60}},
                                          {"yellow", {40, 210, 240}}, {"purple", {180, 70, 150}}, {"orange", {30, 140, 250}}};
    return c;
}

const QStringList &words()
{
    // Four letters each: one letter per grid cell (see textScene).
    static const QStringList w = {"STOP", "OPEN", "CAFE", "EXIT", "SALE", "BANK", "TAXI", "PARK", "SHOP", "BOOK", "GIFT", "FOOD"};
    return w;
}

// A per-image generator: the same (seed, family, index) always gives the same draws.
std::mt19937_64 rngFor(std::uint64_t seed, const QString &family, int index)
{
    std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), static_cast<std::uint32_t>(qHash(family)),
                      static_cast<std::uint32_t>(index)};
    return std::mt19937_64(seq);
}

int uniform(std::mt19937_64 &rng, int lo, int hi) // inclusive
{
    return std::uniform_int_distribution<int>(lo, hi)(rng);
}

void centredText(cv::Mat &img, const std::string &text, cv::Point centre, double scale, cv::Scalar colour, int thickness)
{
    int baseline = 0;
    const cv::Size s = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
    cv::putText(img, text, centre - cv::Point(s.width / 2, -s.height / 2), cv::FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv::LINE_AA);
}

// The scenes are laid out on a 4x4 grid of cells. At the demo models' 112x112 input a cell is
// 28x28 pixels: exactly the 2x2 patches that become one visual token, so every letter, digit
// and square sits whole in one token at any cell position. Measured with the demo models
// (2.6M parameters, ~20 min on 2 cores): colours and "tallest bar" are learned perfectly, counts
// and bar values partly, and reading words or numbers not at all, with free placement (5%) or
// aligned (0%); a model that reads needs more capacity or time than the demo budget.
constexpr int kCells = 4;

void glyphInCell(cv::Mat &img, const std::string &glyph, int col, int row, int cell, cv::Scalar colour)
{
    const int thickness = std::max(2, cell / 14);
    double scale = cell / 36.0;
    while (scale > 0.2 && cv::getTextSize(glyph, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, nullptr).width > cell * 8 / 10)
        scale -= 0.05;
    centredText(img, glyph, {col * cell + cell / 2, row * cell + cell / 2}, scale, colour, thickness);
}

std::vector<std::uint8_t> encodePng(const cv::Mat &img)
{
    std::vector<uchar> png;
    cv::imencode(".png", img, png);
    return {png.begin(), png.end()};
}

// n distinct values in 1..9, so "tallest" / "highest" is unambiguous.
std::vector<int> distinctValues(std::mt19937_64 &rng, int n)
{
    std::vector<int> values;
    while (static_cast<int>(values.size()) < n) {
        const int v = uniform(rng, 1, 9);
        if (std::find(values.begin(), values.end(), v) == values.end())
            values.push_back(v);
    }
    return values;
}

void drawChartAxes(cv::Mat &img, int left, int top, int bottom)
{
    cv::line(img, {left, top - 10}, {left, bottom}, cv::Scalar(30, 30, 30), 2);
    cv::line(img, {left, bottom}, {img.cols - 5, bottom}, cv::Scalar(30, 30, 30), 2);
}

// A chart's two facts: the value at a label (`valueQuestion` has %1 for it) and the label of the
// largest value.
void addChartItems(SyntheticImage &out, const QString &valueQuestion, const QString &largestQuestion, const std::vector<int> &values, int ask)
{
    static const char *labels[] = {"A", "B", "C", "D", "E"};
    const auto largest = static_cast<std::size_t>(std::max_element(values.begin(), values.end()) - values.begin());
    const QString value = QString::number(values[static_cast<std::size_t>(ask)]);
    const QString label = QString::fromLatin1(labels[largest]).toLower();
    out.items.push_back({QStringLiteral("chart"), valueQuestion.arg(QLatin1String(labels[ask])), value, {value}});
    out.items.push_back({QStringLiteral("chart"), largestQuestion, label, {label}});
}

SyntheticImage textScene(std::mt19937_64 &rng, int size)
{
    SyntheticImage out;
    const int cell = size / kCells;
    cv::Mat img(size, size, CV_8UC3, cv::Scalar(200 + uniform(rng, 0, 40), 180 + uniform(rng, 0, 50), 140 + uniform(rng, 0, 60)));
    cv::rectangle(img, {0, 3 * cell}, {size, size}, cv::Scalar(90, 110, 120), cv::FILLED); // street
    // A sign with a four-letter word (one letter per cell) in row 0 or 1, and a white label with
    // a two-digit number (one digit per cell) in row 2.
    const QString word = words().at(uniform(rng, 0, static_cast<int>(words().size()) - 1));
    const Colour &board = colours()[static_cast<std::size_t>(uniform(rng, 0, static_cast<int>(colours().size()) - 1))];
    const int signRow = uniform(rng, 0, 1);
    cv::rectangle(img, {0, signRow * cell}, {size - 1, (signRow + 1) * cell - 1}, board.bgr, cv::FILLED);
    const cv::Scalar ink = QLatin1String(board.name) == QLatin1String("yellow") ? cv::Scalar(20, 20, 20) : cv::Scalar(255, 255, 255);
    for (int k = 0; k < word.size() && k < kCells; ++k)
        glyphInCell(img, std::string(1, word.at(k).toLatin1()), k, signRow, cell, ink);
    const int number = uniform(rng, 10, 99);
    const int labelCol = uniform(rng, 0, kCells - 2);
    cv::rectangle(img, {labelCol * cell, 2 * cell}, {(labelCol + 2) * cell - 1, 3 * cell - 1}, cv::Scalar(245, 245, 245), cv::FILLED);
    const std::string digits = std::to_string(number);
    glyphInCell(img, digits.substr(0, 1), labelCol, 2, cell, cv::Scalar(10, 10, 10));
    glyphInCell(img, digits.substr(1, 1), labelCol + 1, 2, cell, cv::Scalar(10, 10, 10));
    out.items.push_back({QStringLiteral("text"), QStringLiteral("What word is written on the sign?"), word.toLower(), {word.toLower()}});
    out.items.push_back({QStringLiteral("text"), QStringLiteral("What number is on the white label?"), QString::number(number), {QString::number(number)}});
    out.png = encodePng(img);
    return out;
}

SyntheticImage barChart(std::mt19937_64 &rng, int size)
{
    SyntheticImage out;
    cv::Mat img(size, size, CV_8UC3, cv::Scalar(250, 250, 250));
    const int n = uniform(rng, 3, 5);
    static const char *labels[] = {"A", "B", "C", "D", "E"};
    const int left = 20, bottom = size - 30, top = 30, width = (size - left - 10) / n;
    drawChartAxes(img, left, top, bottom);
    const std::vector<int> values = distinctValues(rng, n);
    for (int i = 0; i < n; ++i) {
        const int v = values[static_cast<std::size_t>(i)];
        const int h = (bottom - top) * v / 10;
        const int x0 = left + 6 + i * width, x1 = x0 + width - 12;
        cv::rectangle(img, {x0, bottom - h}, {x1, bottom}, colours()[static_cast<std::size_t>(i)].bgr, cv::FILLED);
        centredText(img, std::to_string(v), {(x0 + x1) / 2, bottom - h - 10}, 0.6, cv::Scalar(20, 20, 20), 2);
        centredText(img, labels[i], {(x0 + x1) / 2, bottom + 14}, 0.6, cv::Scalar(20, 20, 20), 2);
    }
    addChartItems(out, QStringLiteral("What is the value of bar %1?"), QStringLiteral("Which bar is the tallest?"), values, uniform(rng, 0, n - 1));
    out.png = encodePng(img);
    return out;
}

// A line chart: 4 or 5 labelled points (distinct values 1-9) joined by a line, each value
// written above its point; asked like ChartQA's line charts.
SyntheticImage lineChart(std::mt19937_64 &rng, int size)
{
    SyntheticImage out;
    cv::Mat img(size, size, CV_8UC3, cv::Scalar(250, 250, 250));
    const int n = uniform(rng, 4, 5);
    static const char *labels[] = {"A", "B", "C", "D", "E"};
    const int left = 20, bottom = size - 30, top = 30, step = (size - left - 20) / n;
    drawChartAxes(img, left, top, bottom);
    const Colour &ink = colours()[static_cast<std::size_t>(uniform(rng, 0, static_cast<int>(colours().size()) - 1))];
    const std::vector<int> values = distinctValues(rng, n);
    std::vector<cv::Point> points;
    for (int i = 0; i < n; ++i)
        points.emplace_back(left + step / 2 + i * step, bottom - (bottom - top) * values[static_cast<std::size_t>(i)] / 10);
    cv::polylines(img, points, false, ink.bgr, 3, cv::LINE_AA);
    for (int i = 0; i < n; ++i) {
        const cv::Point &p = points[static_cast<std::size_t>(i)];
        cv::circle(img, p, 5, ink.bgr, cv::FILLED, cv::LINE_AA);
        centredText(img, std::to_string(values[static_cast<std::size_t>(i)]), p - cv::Point(0, 16), 0.6, cv::Scalar(20, 20, 20), 2);
        centredText(img, labels[i], {p.x, bottom + 14}, 0.6, cv::Scalar(20, 20, 20), 2);
    }
    addChartItems(out, QStringLiteral("What is the value at point %1?"), QStringLiteral("Which point is the highest?"), values, uniform(rng, 0, n - 1));
    out.png = encodePng(img);
    return out;
}

SyntheticImage shapes(std::mt19937_64 &rng, int size)
{
    SyntheticImage out;
    cv::Mat img(size, size, CV_8UC3, cv::Scalar(235, 235, 235));
    // One circle of a named colour, and k squares (k = 1..4) of another colour.
    const int circleColour = uniform(rng, 0, static_cast<int>(colours().size()) - 1);
    int squareColour;
    do {
        squareColour = uniform(rng, 0, static_cast<int>(colours().size()) - 1);
    } while (squareColour == circleColour);
    const int squares = uniform(rng, 1, 4);
    // The circle anywhere in the left half; the squares in k of the four cells of the right
    // half's top two rows (whole cells, see textScene), in random cells so the count is not a
    // position.
    const int cell = size / kCells;
    const int r = size / 8;
    const cv::Point c(uniform(rng, r + 2, size / 2 - r), uniform(rng, r + 2, size - r - 2));
    cv::circle(img, c, r, colours()[static_cast<std::size_t>(circleColour)].bgr, cv::FILLED, cv::LINE_AA);
    std::vector<int> slots = {0, 1, 2, 3};
    std::shuffle(slots.begin(), slots.end(), rng);
    const int side = cell * 7 / 10;
    for (int i = 0; i < squares; ++i) {
        const int x = (2 + slots[static_cast<std::size_t>(i)] % 2) * cell + (cell - side) / 2;
        const int y = (slots[static_cast<std::size_t>(i)] / 2) * cell + (cell - side) / 2;
        cv::rectangle(img, {x, y}, {x + side - 1, y + side - 1}, colours()[static_cast<std::size_t>(squareColour)].bgr, cv::FILLED);
    }
    out.items.push_back({QStringLiteral("knowledge"), QStringLiteral("What colour is the circle?"),
                         QString::fromLatin1(colours()[static_cast<std::size_t>(circleColour)].name),
                         {QString::fromLatin1(colours()[static_cast<std::size_t>(circleColour)].name)}});
    out.items.push_back({QStringLiteral("knowledge"), QStringLiteral("How many squares are there?"), QString::number(squares), {QString::number(squares)}});
    out.png = encodePng(img);
    return out;
}

} // namespace

QString syntheticBenchmarkMetric(const QString &dataset)
{
    if (dataset == QLatin1String("demo-text"))
        return QStringLiteral("anls");
    if (dataset == QLatin1String("demo-chart"))
        return QStringLiteral("relaxed");
    if (dataset == QLatin1String("demo-knowledge"))
        return QStringLiteral("mpa");
    return {};
}

QStringList syntheticFamilies()
{
    return {QStringLiteral("text"), QStringLiteral("chart"), QStringLiteral("knowledge")};
}

QStringList syntheticQuestions()
{
    QStringList q = {QStringLiteral("What word is written on the sign?"), QStringLiteral("What number is on the white label?"),
                     QStringLiteral("Which bar is the tallest?"), QStringLiteral("What colour is the circle?"),
                     QStringLiteral("How many squares are there?")};
    q << QStringLiteral("Which point is the highest?");
    for (const char *label : {"A", "B", "C", "D", "E"})
        q << QStringLiteral("What is the value of bar %1?").arg(QLatin1String(label))
          << QStringLiteral("What is the value at point %1?").arg(QLatin1String(label));
    return q;
}

SyntheticImage synthesizeImage(const QString &family, std::uint64_t seed, int index, int size)
{
    auto rng = rngFor(seed, family, index);
    SyntheticImage img = family == QLatin1String("text")    ? textScene(rng, size)
                       : family == QLatin1String("chart")   ? (index % 3 == 2 ? lineChart(rng, size) : barChart(rng, size))
                       : family == QLatin1String("knowledge") ? shapes(rng, size)
                                                              : throw Error(QStringLiteral("unknown synthetic family \"%1\"").arg(family));
    img.family = family;
    return img;
}

DemoWorldReport createDemoWorld(const store::Workspace &ws, const DemoWorldOptions &o, const ProgressFn &progress)
{
    ws.requireWritable(QStringLiteral("create the demo world"));
    DemoWorldReport report;
    report.imageDir = QDir(ws.root()).filePath(QStringLiteral("demo"));
    const qint64 total = static_cast<qint64>(syntheticFamilies().size()) * (o.poolPerFamily + o.testPerFamily);
    qint64 done = 0;
    auto write = [&](const QString &path, const std::vector<std::uint8_t> &png) {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(reinterpret_cast<const char *>(png.data()), static_cast<qint64>(png.size())) != static_cast<qint64>(png.size()))
            throw Error(QStringLiteral("%1: cannot write (disk full?)").arg(path));
    };
    for (const QString &family : syntheticFamilies()) {
        // Pool images use indices [0, pool), test images [pool, pool + test): never the same image.
        for (int i = 0; i < o.poolPerFamily; ++i) {
            write(QStringLiteral("%1/pool/%2/%3.png").arg(report.imageDir, family).arg(i, 5, 10, QLatin1Char('0')),
                  synthesizeImage(family, o.seed, i, o.size).png);
            reportProgress(progress, ++done, total, QStringLiteral("demo images"));
        }
        QJsonArray questions;
        for (int i = 0; i < o.testPerFamily; ++i) {
            const SyntheticImage img = synthesizeImage(family, o.seed, o.poolPerFamily + i, o.size);
            const QString name = QStringLiteral("%1.png").arg(i, 5, 10, QLatin1Char('0'));
            write(QStringLiteral("%1/test/%2/%3").arg(report.imageDir, family, name), img.png);
            // One question per test image, alternating between the image's facts.
            const SyntheticItem &item = img.items[static_cast<std::size_t>(i) % img.items.size()];
            questions.append(QJsonObject{{QStringLiteral("imgname"), name}, {QStringLiteral("query"), item.question},
                                         {QStringLiteral("label"), item.answer}, {QStringLiteral("question_id"), i}});
            reportProgress(progress, ++done, total, QStringLiteral("demo images"));
        }
        // The labeled split goes in through the ordinary ChartQA-style importer.
        const QString file = QStringLiteral("%1/test/%2/questions.json").arg(report.imageDir, family);
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly))
            throw Error(QStringLiteral("%1: cannot write").arg(file));
        f.write(QJsonDocument(questions).toJson());
        f.close();
        BenchmarkOptions bo;
        bo.dataset = QStringLiteral("demo-") + family;
        bo.split = QStringLiteral("test");
        bo.imageRoot = QFileInfo(file).absolutePath();
        report.testQuestions += Importer(ws).importBenchmark(BenchmarkFormat::ChartQa, file, bo).questions;
    }
    if (o.poolPerFamily > 0)
        report.poolImages = Importer(ws).importImageFolder(report.imageDir + QStringLiteral("/pool")).images;
    if (o.trainPerFamily > 0) {
        // Labeled training pairs (every fact of every image) in LLaVA format, written beside the
        // images and not imported: they are for training the demo models, not for MPA.
        QJsonArray records;
        for (const QString &family : syntheticFamilies()) {
            for (int i = 0; i < o.trainPerFamily; ++i) {
                const int index = 1000000 + i; // disjoint from the pool and test indices
                const SyntheticImage img = synthesizeImage(family, o.seed, index, o.size);
                const QString rel = QStringLiteral("train/%1/%2.png").arg(family).arg(i, 6, 10, QLatin1Char('0'));
                write(QDir(report.imageDir).filePath(rel), img.png);
                for (std::size_t k = 0; k < img.items.size(); ++k)
                    records.append(QJsonObject{{QStringLiteral("id"), QStringLiteral("%1-%2-%3").arg(family).arg(i).arg(k)},
                                               {QStringLiteral("image"), rel},
                                               {QStringLiteral("conversations"), QJsonArray{
                                                   QJsonObject{{QStringLiteral("from"), QStringLiteral("human")}, {QStringLiteral("value"), QString(QStringLiteral("<image>\n") + img.items[k].question)}},
                                                   QJsonObject{{QStringLiteral("from"), QStringLiteral("gpt")}, {QStringLiteral("value"), img.items[k].answer}}}}});
            }
        }
        report.trainPairs = QDir(report.imageDir).filePath(QStringLiteral("train/pairs.json"));
        QFile f(report.trainPairs);
        if (!f.open(QIODevice::WriteOnly))
            throw Error(QStringLiteral("%1: cannot write").arg(report.trainPairs));
        f.write(QJsonDocument(records).toJson(QJsonDocument::Compact));
    }
    return report;
}

} // namespace mpa::datasets
