#include "metrics/mpa_match.h"

#include <QHash>

namespace mpa::metrics {

QString mpaNormalise(const QString &text)
{
    const QString lower = text.toLower();
    QString out;
    out.reserve(lower.size());
    // Iterate by code point so letters outside the BMP are kept whole.
    for (const char32_t cp : lower.toUcs4()) {
        if (cp == U'_' || QChar::isLetterOrNumber(cp))
            out.append(QString::fromUcs4(&cp, 1)); // (a lone U+FEFF is not a word character anyway)
    }
    return out;
}

bool mpaMatch(const QString &expected, const QString &prediction)
{
    return mpaNormalise(prediction).contains(mpaNormalise(expected));
}

ParityVerdict identifyParity(const QString &pseudoAnswer, const QString &largeAnswer, const QString &smallAnswer)
{
    const QString g = mpaNormalise(pseudoAnswer);
    ParityVerdict v;
    v.largeCorrect = mpaNormalise(largeAnswer).contains(g);
    v.smallCorrect = mpaNormalise(smallAnswer).contains(g);
    if (v.largeCorrect && v.smallCorrect)
        v.outcome = store::Outcome::BothRight;
    else if (v.largeCorrect)
        v.outcome = store::Outcome::Gap;
    else if (v.smallCorrect)
        v.outcome = store::Outcome::SOnly;
    else
        v.outcome = store::Outcome::BothWrong;
    return v;
}

QString majorityAnswer(const QStringList &answers)
{
    QHash<QString, int> counts;
    QString best;
    int bestCount = 0;
    for (const QString &a : answers)
        counts[a] += 1;
    for (const QString &a : answers) { // first seen wins ties
        if (counts.value(a) > bestCount) {
            best = a;
            bestCount = counts.value(a);
        }
    }
    return best;
}

} // namespace mpa::metrics
