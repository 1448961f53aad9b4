#include "metrics/relaxed_accuracy.h"

#include <QRegularExpression>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace mpa::metrics {

std::optional<double> pythonFloat(const QString &text)
{
    // float() strips surrounding whitespace, accepts one sign, digits with single underscores
    // between them, an optional fraction and exponent, and inf/infinity/nan in any case.
    const QString s = text.trimmed();
    static const QRegularExpression number(QStringLiteral(
        R"(^[+-]?(?:(?:\d(?:_?\d)*)(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$)"));
    static const QRegularExpression special(QStringLiteral(R"(^([+-]?)(inf|infinity|nan)$)"),
                                            QRegularExpression::CaseInsensitiveOption);
    if (const auto m = special.match(s); m.hasMatch()) {
        const bool negative = m.captured(1) == QLatin1String("-");
        if (m.captured(2).compare(QLatin1String("nan"), Qt::CaseInsensitive) == 0)
            return std::numeric_limits<double>::quiet_NaN();
        return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    }
    // \d in a QRegularExpression matches any Unicode digit, as Python 3 does; strtod does not,
    // so non-ASCII digits are treated as not-a-number (the data hold none).
    if (!number.match(s).hasMatch())
        return std::nullopt;
    QByteArray ascii = s.toLatin1();
    ascii.replace('_', "");
    for (char c : ascii)
        if (static_cast<unsigned char>(c) > 127)
            return std::nullopt;
    return std::strtod(ascii.constData(), nullptr);
}

namespace {
std::optional<double> toFloat(const QString &text)
{
    if (text.endsWith(QLatin1Char('%'))) {
        QString stripped = text;
        while (stripped.endsWith(QLatin1Char('%')))
            stripped.chop(1);
        if (auto v = pythonFloat(stripped))
            return *v / 100.0;
        return std::nullopt;
    }
    return pythonFloat(text);
}
} // namespace

bool relaxedCorrect(const QString &prediction, const QString &target, double maxRelativeChange)
{
    const auto p = toFloat(prediction);
    const auto t = toFloat(target);
    // Python: `if prediction_float is not None and target_float:` (0.0 is falsy, NaN is not).
    if (p && t && *t != 0.0) {
        const double change = std::abs(*p - *t) / std::abs(*t);
        return change <= maxRelativeChange;
    }
    return prediction.toLower() == target.toLower();
}

} // namespace mpa::metrics
