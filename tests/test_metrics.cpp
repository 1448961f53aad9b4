// Metric behaviour against hand-computed values, including every quirk of the reference
// evaluators listed in reference/metric-quirks.md.
#include "metrics/anls.h"
#include "metrics/mpa_match.h"
#include "metrics/relaxed_accuracy.h"
#include "metrics/vqa_accuracy.h"

#include <QtTest>

using namespace mpa::metrics;

class TestMetrics : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void mpaNormalisation_data();
    void mpaNormalisation();
    void mpaParityOutcomes();
    void majorityAnswerTiesGoToFirstSeen();
    void vqaPunctuation_data();
    void vqaPunctuation();
    void vqaDigitArticle_data();
    void vqaDigitArticle();
    void vqaAtMost32PeriodsRemoved();
    void vqaLeaveOneOutScores_data();
    void vqaLeaveOneOutScores();
    void vqaUnanimousAnswersCompareRaw();
    void vqaDisagreementNormalisesPrediction();
    void anlsQuirks_data();
    void anlsQuirks();
    void anlsBestOfAnswers();
    void levenshteinCounts();
    void relaxed_data();
    void relaxed();
    void pythonFloatParsing();
};

void TestMetrics::mpaNormalisation_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("case and spaces") << "New  York\tCity" << "newyorkcity";
    QTest::newRow("punctuation") << "21-27 Agosto, 2011!" << "2127agosto2011";
    QTest::newRow("underscore kept") << "a_b c" << "a_bc";
    QTest::newRow("non-ascii letters kept") << QString::fromUtf8("Café №5") << QString::fromUtf8("café5");
    QTest::newRow("empty") << "" << "";
}

void TestMetrics::mpaNormalisation()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(mpaNormalise(input), expected);
}

void TestMetrics::mpaParityOutcomes()
{
    // The official example: L reproduces "Virgin", S answers "Qantas": a knowledge gap.
    ParityVerdict v = identifyParity(QStringLiteral("Virgin"), QStringLiteral("Virgin"), QStringLiteral("Qantas"));
    QCOMPARE(mpa::store::toString(v.outcome), mpa::store::toString(mpa::store::Outcome::Gap));
    QVERIFY(v.largeCorrect);
    QVERIFY(!v.smallCorrect);
    // Substring after normalisation: "21-27 agosto 2011" contains "21-27 Agosto 2011".
    QCOMPARE(mpa::store::toString(identifyParity(QStringLiteral("21-27 Agosto 2011"), QStringLiteral("21-27 Agosto 2011"),
                            QStringLiteral("21-27 agosto 2011")).outcome), mpa::store::toString(mpa::store::Outcome::BothRight));
    QCOMPARE(mpa::store::toString(identifyParity(QStringLiteral("38"), QStringLiteral("40"), QStringLiteral("38%")).outcome), mpa::store::toString(mpa::store::Outcome::SOnly));
    QCOMPARE(mpa::store::toString(identifyParity(QStringLiteral("38"), QStringLiteral("40"), QStringLiteral("41")).outcome), mpa::store::toString(mpa::store::Outcome::BothWrong));
    // An empty pseudo answer is never a gap.
    QCOMPARE(mpa::store::toString(identifyParity(QString(), QStringLiteral("x"), QStringLiteral("y")).outcome), mpa::store::toString(mpa::store::Outcome::BothRight));
    QCOMPARE(mpa::store::toString(identifyParity(QStringLiteral("?!"), QStringLiteral("x"), QStringLiteral("y")).outcome), mpa::store::toString(mpa::store::Outcome::BothRight));
}

void TestMetrics::majorityAnswerTiesGoToFirstSeen()
{
    QCOMPARE(majorityAnswer({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("b"), QStringLiteral("a")}), QStringLiteral("a"));
    QCOMPARE(majorityAnswer({QStringLiteral("vine"), QStringLiteral("climb"), QStringLiteral("vine"), QStringLiteral("climb"),
                             QStringLiteral("vine")}), QStringLiteral("vine"));
}

void TestMetrics::vqaPunctuation_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("hyphen becomes space") << "teddy-bear" << "teddy bear";
    QTest::newRow("spaced hyphen deleted") << "fly - kite" << "fly  kite";
    QTest::newRow("digit comma digit deletes all") << "1,996!" << "1996";
    QTest::newRow("comma number anywhere") << "x-ray 1,5" << "xray 15";
    QTest::newRow("apostrophe kept") << "mcdonald's" << "mcdonald's";
    QTest::newRow("colon kept") << "10:30" << "10:30";
    QTest::newRow("decimal kept") << "3.5" << "3.5";
    QTest::newRow("trailing period") << "4.57." << "4.57";
    QTest::newRow("leading period before digit") << ".50" << ".50";
    QTest::newRow("abbreviation") << "u.s." << "us";
    QTest::newRow("no space inserted") << "pepto.bismol" << "peptobismol";
}

void TestMetrics::vqaPunctuation()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(vqaProcessPunctuation(input), expected);
}

void TestMetrics::vqaDigitArticle_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("number word") << "ten" << "10";
    QTest::newRow("none is zero") << "none" << "0";
    QTest::newRow("articles dropped") << "The 1847" << "1847";
    QTest::newRow("contraction") << "dont know" << "don't know";
    QTest::newRow("capital keys never match") << "Im here" << "im here";
    QTest::newRow("whitespace collapsed") << "fly  kite" << "fly kite";
    QTest::newRow("official table quirk") << "somebody'd" << "somebodyd";
}

void TestMetrics::vqaDigitArticle()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(vqaProcessDigitArticle(input), expected);
}

void TestMetrics::vqaAtMost32PeriodsRemoved()
{
    // re.UNICODE (32) lands in re.sub's count argument.
    const QString input = QString(40, QLatin1Char('.'));
    QCOMPARE(vqaProcessPunctuation(input), QString(8, QLatin1Char('.')));
}

void TestMetrics::vqaLeaveOneOutScores_data()
{
    QTest::addColumn<int>("matches");
    QTest::addColumn<double>("expected");
    // Mean over the 10 leave-one-out subsets of min(1, matches among the other 9 / 3).
    QTest::newRow("k=0") << 0 << 0.0;
    QTest::newRow("k=1") << 1 << 0.3;   // 9 subsets give 1/3, one gives 0: 3/10
    QTest::newRow("k=2") << 2 << 0.6;   // 8 x 2/3 + 2 x 1/3 = 6/10
    QTest::newRow("k=3") << 3 << 0.9;   // 7 x 1 + 3 x 2/3 = 9/10
    QTest::newRow("k=4") << 4 << 1.0;
    QTest::newRow("k=10") << 10 << 1.0;
}

void TestMetrics::vqaLeaveOneOutScores()
{
    QFETCH(int, matches);
    QFETCH(double, expected);
    QStringList answers;
    for (int i = 0; i < 10; ++i)
        answers << (i < matches ? QStringLiteral("red") : QStringLiteral("other%1").arg(i));
    QVERIFY(qAbs(vqaAccuracy(QStringLiteral("red"), answers) - expected) < 1e-12);
}

void TestMetrics::vqaUnanimousAnswersCompareRaw()
{
    const auto ten = [](const char *a) { return QStringList(10, QString::fromLatin1(a)); };
    QCOMPARE(vqaAccuracy(QStringLiteral("Sushi"), ten("sushi")), 0.0);
    QCOMPARE(vqaAccuracy(QStringLiteral("cross country."), ten("cross country")), 0.0);
    QCOMPARE(vqaAccuracy(QStringLiteral("the samsung"), ten("samsung")), 0.0);
    QCOMPARE(vqaAccuracy(QStringLiteral("  sushi\n"), ten("sushi")), 1.0);
}

void TestMetrics::vqaDisagreementNormalisesPrediction()
{
    QStringList answers = {QStringLiteral("10"), QStringLiteral("10"), QStringLiteral("10"), QStringLiteral("10"),
                           QStringLiteral("ten"), QStringLiteral("9"), QStringLiteral("9"), QStringLiteral("8"),
                           QStringLiteral("11"), QStringLiteral("12")};
    // "Ten" -> "10"; GT "ten" -> "10" as well: 5 matches.
    QCOMPARE(vqaAccuracy(QStringLiteral("Ten"), answers), 1.0);
    QStringList samsung = {QStringLiteral("samsung"), QStringLiteral("samsung"), QStringLiteral("lg")};
    // 3 answers: the leave-one-out mean runs over 3 subsets: (1/3 + 1/3 + 2/3) / 3.
    QVERIFY(qAbs(vqaAccuracy(QStringLiteral("The Samsung."), samsung) - (1.0 / 3 + 1.0 / 3 + 2.0 / 3) / 3) < 1e-12);
}

void TestMetrics::anlsQuirks_data()
{
    QTest::addColumn<QString>("prediction");
    QTest::addColumn<QString>("answer");
    QTest::addColumn<double>("expected");
    QTest::newRow("exact") << "Stop" << "stop" << 1.0;
    QTest::newRow("padding lowers NL") << "          " << "stop" << 0.6;
    QTest::newRow("padded prediction") << "  st  " << "stop" << 1.0 - 2.0 / 6.0;
    QTest::newRow("padded answer") << "exot" << "  exit  " << 0.875;
    QTest::newRow("upper lengthens") << "strase" << QString::fromUtf8("straße") << 1.0 - 1.0 / 7.0;
    QTest::newRow("exactly 0.5 is kept") << "st" << "stop" << 0.5;
    QTest::newRow("ab ac") << "ab" << "ac" << 0.5;
    QTest::newRow("below threshold") << "xyz" << "stop" << 0.0;
    QTest::newRow("both empty") << "" << "" << 1.0;
    QTest::newRow("internal whitespace collapsed") << "new\t york" << "new york" << 1.0 - 0.0;
}

void TestMetrics::anlsQuirks()
{
    QFETCH(QString, prediction);
    QFETCH(QString, answer);
    QFETCH(double, expected);
    QVERIFY2(qAbs(anls(prediction, {answer}) - expected) < 1e-12,
             qPrintable(QStringLiteral("got %1").arg(anls(prediction, {answer}), 0, 'g', 17)));
}

void TestMetrics::anlsBestOfAnswers()
{
    QCOMPARE(anls(QStringLiteral("coca cola"), {QStringLiteral("pepsi"), QStringLiteral("Coca Cola")}), 1.0);
}

void TestMetrics::levenshteinCounts()
{
    QCOMPARE(levenshtein(QStringLiteral("kitten"), QStringLiteral("sitting")), 3);
    QCOMPARE(levenshtein(QStringLiteral("ab"), QStringLiteral("ba")), 2); // transposition costs 2
    QCOMPARE(levenshtein(QString(), QStringLiteral("abc")), 3);
    // Code points, not UTF-16 units: one emoji is one edit.
    QCOMPARE(levenshtein(QString::fromUtf8("a\U0001F600"), QStringLiteral("ab")), 1);
}

void TestMetrics::relaxed_data()
{
    QTest::addColumn<QString>("prediction");
    QTest::addColumn<QString>("target");
    QTest::addColumn<bool>("correct");
    QTest::newRow("exactly 5% is float-sensitive") << "1.05" << "1" << false;
    QTest::newRow("70 -> 66.5") << "66.5" << "70" << true;
    QTest::newRow("2000 -> 1900") << "1900" << "2000" << true;
    QTest::newRow("361 -> 379.05") << "379.05" << "361" << false;
    QTest::newRow("percent divides") << "524%" << "524" << false;
    QTest::newRow("percent matches fraction") << "30%" << "0.3" << true;
    QTest::newRow("zero gold falls back to text") << "0.0" << "0" << false;
    QTest::newRow("zero gold exact text") << "0" << "0" << true;
    QTest::newRow("trailing period") << "Colombia." << "Colombia" << false;
    QTest::newRow("case-insensitive text") << "colombia" << "Colombia" << true;
    QTest::newRow("trailing space in text") << "LinkedIn " << "LinkedIn" << false;
    QTest::newRow("list spacing") << "[2011,2012]" << "[2011, 2012]" << false;
    QTest::newRow("thousands separator is text") << "2,011" << "2011" << false;
    QTest::newRow("float strips whitespace") << " 42 " << "42" << true;
    QTest::newRow("underscores") << "60_668" << "60668" << true;
    QTest::newRow("exponent") << "2.008000e+03" << "2008" << true;
    QTest::newRow("nan never correct") << "nan" << "5" << false;
    QTest::newRow("inf never correct") << "inf" << "5" << false;
    QTest::newRow("years are numbers") << "2014" << "2013" << true;
    QTest::newRow("1915 for 2015") << "1915" << "2015" << true;
}

void TestMetrics::relaxed()
{
    QFETCH(QString, prediction);
    QFETCH(QString, target);
    QFETCH(bool, correct);
    QCOMPARE(relaxedCorrect(prediction, target), correct);
}

void TestMetrics::pythonFloatParsing()
{
    QCOMPARE(pythonFloat(QStringLiteral("+0012.5")).value(), 12.5);
    QCOMPARE(pythonFloat(QStringLiteral(".5")).value(), 0.5);
    QCOMPARE(pythonFloat(QStringLiteral("5.")).value(), 5.0);
    QVERIFY(!pythonFloat(QStringLiteral("1__0")));
    QVERIFY(!pythonFloat(QStringLiteral("_10")));
    QVERIFY(!pythonFloat(QStringLiteral("$5")));
    QVERIFY(!pythonFloat(QStringLiteral("")));
    QVERIFY(!pythonFloat(QStringLiteral(".")));
    QVERIFY(std::isinf(pythonFloat(QStringLiteral("-Infinity")).value()));
}

QTEST_APPLESS_MAIN(TestMetrics)
#include "test_metrics.moc"
