#pragma once
// ChartQA relaxed accuracy as lmms-eval / pix2struct compute it: reference/metric-quirks.md
// section 3 (Python float() parsing, '%' handling, a zero target falls back to text).
#include <QString>
#include <optional>

namespace mpa::metrics {

// Python's float(text), or nullopt where Python raises ValueError.
std::optional<double> pythonFloat(const QString &text);
bool relaxedCorrect(const QString &prediction, const QString &target, double maxRelativeChange = 0.05);

} // namespace mpa::metrics
