#include "verdict_text.h"

#include <QCoreApplication>

#include <cmath>

namespace mpa::ui {

namespace {
QString tr(const char *s)
{
    return QCoreApplication::translate("Verdicts", s);
}
} // namespace

QString outcomeLabel(const QString &o)
{
    if (o == QLatin1String("gap"))
        return tr("knowledge gap");
    if (o == QLatin1String("both_right"))
        return tr("both right");
    if (o == QLatin1String("s_only"))
        return tr("only the small model right");
    if (o == QLatin1String("both_wrong"))
        return tr("both wrong");
    return o.isEmpty() ? tr("not identified") : o;
}

QString outcomeExplanation(const QString &o)
{
    if (o == QLatin1String("gap"))
        return tr("The large model gave the pseudo answer and the small one did not: something the small model can learn. Approved gaps are what alignment trains on by default.");
    if (o == QLatin1String("both_right"))
        return tr("Both models gave the pseudo answer: nothing to teach.");
    if (o == QLatin1String("s_only"))
        return tr("Only the small model gave the pseudo answer: the large model disagrees with its own pair, so the pair may be wrong.");
    if (o == QLatin1String("both_wrong"))
        return tr("Neither model gave the pseudo answer: often a garbled or wrong pair; reject it unless the pair itself is right.");
    return tr("The Parity Identifier has not judged this sample yet (Runs > Identify parity).");
}

QString reviewLabel(const QString &s)
{
    if (s == QLatin1String("approved"))
        return tr("approved");
    if (s == QLatin1String("rejected"))
        return tr("rejected");
    return tr("not reviewed");
}

QString criterionLabel(const QString &c)
{
    if (c == QLatin1String("mpa"))
        return tr("MPA substring match (the official criterion: the normalised answer contains the pseudo answer)");
    if (c == QLatin1String("vqa"))
        return tr("VQA accuracy ≥ 0.5");
    if (c == QLatin1String("anls"))
        return tr("ANLS ≥ 0.5");
    if (c == QLatin1String("relaxed"))
        return tr("relaxed accuracy (5 % numeric tolerance)");
    return c;
}

QString confidenceText(const std::optional<double> &logprob)
{
    if (!logprob)
        return {};
    return tr("large model %1 % sure").arg(100.0 * std::exp(*logprob), 0, 'f', std::exp(*logprob) < 0.1 ? 1 : 0);
}

QString verdictLegend()
{
    return tr("<span style='color:#d35400'>orange</span>: knowledge gap (large model right, small wrong) · grey: parse failure · "
              "✓ approved · ✗ rejected · · not reviewed. Only approved knowledge gaps train by default.");
}

QString outcomeLabelSql()
{
    return QStringLiteral("CASE s.outcome WHEN 'gap' THEN '%1' WHEN 'both_right' THEN '%2' WHEN 's_only' THEN '%3' WHEN 'both_wrong' THEN '%4' ELSE '' END")
        .arg(outcomeLabel(QStringLiteral("gap")), outcomeLabel(QStringLiteral("both_right")), outcomeLabel(QStringLiteral("s_only")),
             outcomeLabel(QStringLiteral("both_wrong")));
}

} // namespace mpa::ui
