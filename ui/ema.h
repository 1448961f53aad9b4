#pragma once
// Exponential moving average for training curves, debiased like Adam's moments (and
// TensorBoard's smoothing): s_t = b s_{t-1} + (1 - b) x_t, shown as s_t / (1 - b^t), so the
// start of a run is not dragged towards zero. Applied per series.
#include <QVector>
#include <cmath>

namespace mpa::ui {

inline QVector<double> debiasedEma(const QVector<double> &values, double beta)
{
    QVector<double> out;
    out.reserve(values.size());
    double s = 0.0;
    for (qsizetype t = 0; t < values.size(); ++t) {
        s = beta * s + (1.0 - beta) * values[t];
        const double correction = 1.0 - std::pow(beta, static_cast<double>(t + 1));
        out.append(correction > 0 ? s / correction : values[t]);
    }
    return out;
}

} // namespace mpa::ui
