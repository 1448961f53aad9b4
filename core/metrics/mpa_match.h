#pragma once
// The official MPA normalisation and substring criterion (vl2g/MPA), used by its Parity
// Identifier and by its evaluation script. See reference/mpa-method.md.
#include "store/records.h"

#include <QString>
#include <QStringList>

namespace mpa::metrics {

// Lowercase, then drop whitespace and every non-word character: only letters, digits and
// '_' remain (Python 3's Unicode-aware \w).
QString mpaNormalise(const QString &text);

// norm(expected) is a substring of norm(prediction). An empty expectation matches anything,
// exactly as Python's `'' in s` does.
bool mpaMatch(const QString &expected, const QString &prediction);

struct ParityVerdict
{
    bool largeCorrect = false;
    bool smallCorrect = false;
    store::Outcome outcome = store::Outcome::BothWrong;
};

// The official Parity Identifier: gap <=> L reproduces its own pseudo answer and S does not.
// An empty pseudo answer is never a gap (it "matches" both models).
ParityVerdict identifyParity(const QString &pseudoAnswer, const QString &largeAnswer, const QString &smallAnswer);

// The official evaluation's ground truth: the most frequent human answer, the first one seen
// winning ties (Python's Counter.most_common).
QString majorityAnswer(const QStringList &answers);

} // namespace mpa::metrics
