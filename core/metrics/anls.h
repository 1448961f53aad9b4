#pragma once
// ANLS as the Robust Reading Competition script computes it (threshold 0.5 inclusive,
// denominator from the raw strings after upper()): reference/metric-quirks.md section 2.
#include <QString>
#include <QStringList>

namespace mpa::metrics {

// Levenshtein distance with unit costs over Unicode code points.
int levenshtein(const QString &a, const QString &b);
double anls(const QString &prediction, const QStringList &answers, double threshold = 0.5);

} // namespace mpa::metrics
