#include "metrics/anls.h"

#include <algorithm>
#include <vector>

namespace mpa::metrics {

namespace {
// ' '.join(s.strip().lower().split())
QString collapse(const QString &s)
{
    return s.toLower().simplified();
}
qsizetype codePoints(const QString &s)
{
    return s.toUcs4().size();
}
} // namespace

int levenshtein(const QString &a, const QString &b)
{
    const QList<uint> x = a.toUcs4();
    const QList<uint> y = b.toUcs4();
    std::vector<int> row(y.size() + 1);
    for (qsizetype j = 0; j <= y.size(); ++j)
        row[j] = static_cast<int>(j);
    for (qsizetype i = 1; i <= x.size(); ++i) {
        int diagonal = row[0];
        row[0] = static_cast<int>(i);
        for (qsizetype j = 1; j <= y.size(); ++j) {
            const int up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (x[i - 1] == y[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[y.size()];
}

double anls(const QString &prediction, const QStringList &answers, double threshold)
{
    if (answers.isEmpty())
        return 0.0;
    const QString pred = collapse(prediction);
    const qsizetype predUpper = codePoints(prediction.toUpper());
    double best = 1.0; // smallest normalised distance
    for (const QString &gt : answers) {
        const qsizetype length = std::max(codePoints(gt.toUpper()), predUpper);
        const double nl = length == 0 ? 0.0 : static_cast<double>(levenshtein(collapse(gt), pred)) / static_cast<double>(length);
        best = std::min(best, nl);
    }
    const double score = 1.0 - best;
    return score < threshold ? 0.0 : score;
}

} // namespace mpa::metrics
