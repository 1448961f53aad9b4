#include "metrics/vqa_accuracy.h"

#include <QHash>
#include <QRegularExpression>
#include <QSet>

namespace mpa::metrics {

namespace {

// The evaluator's tables, verbatim. Keys with capitals can never match (the text is
// lower-cased first); they are kept so the table stays the official one.
const QHash<QString, QString> &contractions()
{
    static const QHash<QString, QString> table = [] {
        const char *pairs[][2] = {
            {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"}, {"couldnt", "couldn't"},
            {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"}, {"didnt", "didn't"}, {"doesnt", "doesn't"},
            {"dont", "don't"}, {"hadnt", "hadn't"}, {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"}, {"hasnt", "hasn't"},
            {"havent", "haven't"}, {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"}, {"hes", "he's"},
            {"howd", "how'd"}, {"howll", "how'll"}, {"hows", "how's"}, {"Id've", "I'd've"}, {"I'dve", "I'd've"},
            {"Im", "I'm"}, {"Ive", "I've"}, {"isnt", "isn't"}, {"itd", "it'd"}, {"itd've", "it'd've"}, {"it'dve", "it'd've"},
            {"itll", "it'll"}, {"let's", "let's"}, {"maam", "ma'am"}, {"mightnt", "mightn't"}, {"mightnt've", "mightn't've"},
            {"mightn'tve", "mightn't've"}, {"mightve", "might've"}, {"mustnt", "mustn't"}, {"mustve", "must've"},
            {"neednt", "needn't"}, {"notve", "not've"}, {"oclock", "o'clock"}, {"oughtnt", "oughtn't"},
            {"ow's'at", "'ow's'at"}, {"'ows'at", "'ow's'at"}, {"'ow'sat", "'ow's'at"}, {"shant", "shan't"},
            {"shed've", "she'd've"}, {"she'dve", "she'd've"}, {"she's", "she's"}, {"shouldve", "should've"},
            {"shouldnt", "shouldn't"}, {"shouldnt've", "shouldn't've"}, {"shouldn'tve", "shouldn't've"},
            {"somebody'd", "somebodyd"}, {"somebodyd've", "somebody'd've"}, {"somebody'dve", "somebody'd've"},
            {"somebodyll", "somebody'll"}, {"somebodys", "somebody's"}, {"someoned", "someone'd"},
            {"someoned've", "someone'd've"}, {"someone'dve", "someone'd've"}, {"someonell", "someone'll"},
            {"someones", "someone's"}, {"somethingd", "something'd"}, {"somethingd've", "something'd've"},
            {"something'dve", "something'd've"}, {"somethingll", "something'll"}, {"thats", "that's"},
            {"thered", "there'd"}, {"thered've", "there'd've"}, {"there'dve", "there'd've"}, {"therere", "there're"},
            {"theres", "there's"}, {"theyd", "they'd"}, {"theyd've", "they'd've"}, {"they'dve", "they'd've"},
            {"theyll", "they'll"}, {"theyre", "they're"}, {"theyve", "they've"}, {"twas", "'twas"}, {"wasnt", "wasn't"},
            {"wed've", "we'd've"}, {"we'dve", "we'd've"}, {"weve", "we've"}, {"werent", "weren't"}, {"whatll", "what'll"},
            {"whatre", "what're"}, {"whats", "what's"}, {"whatve", "what've"}, {"whens", "when's"}, {"whered", "where'd"},
            {"wheres", "where's"}, {"whereve", "where've"}, {"whod", "who'd"}, {"whod've", "who'd've"},
            {"who'dve", "who'd've"}, {"wholl", "who'll"}, {"whos", "who's"}, {"whove", "who've"}, {"whyll", "why'll"},
            {"whyre", "why're"}, {"whys", "why's"}, {"wont", "won't"}, {"wouldve", "would've"}, {"wouldnt", "wouldn't"},
            {"wouldnt've", "wouldn't've"}, {"wouldn'tve", "wouldn't've"}, {"yall", "y'all"}, {"yall'll", "y'all'll"},
            {"y'allll", "y'all'll"}, {"yall'd've", "y'all'd've"}, {"y'alld've", "y'all'd've"}, {"y'all'dve", "y'all'd've"},
            {"youd", "you'd"}, {"youd've", "you'd've"}, {"you'dve", "you'd've"}, {"youll", "you'll"}, {"youre", "you're"},
            {"youve", "you've"},
        };
        QHash<QString, QString> t;
        for (const auto &p : pairs)
            t.insert(QString::fromLatin1(p[0]), QString::fromLatin1(p[1]));
        return t;
    }();
    return table;
}

const QHash<QString, QString> &numberWords()
{
    static const QHash<QString, QString> table = {
        {QStringLiteral("none"), QStringLiteral("0")}, {QStringLiteral("zero"), QStringLiteral("0")},
        {QStringLiteral("one"), QStringLiteral("1")}, {QStringLiteral("two"), QStringLiteral("2")},
        {QStringLiteral("three"), QStringLiteral("3")}, {QStringLiteral("four"), QStringLiteral("4")},
        {QStringLiteral("five"), QStringLiteral("5")}, {QStringLiteral("six"), QStringLiteral("6")},
        {QStringLiteral("seven"), QStringLiteral("7")}, {QStringLiteral("eight"), QStringLiteral("8")},
        {QStringLiteral("nine"), QStringLiteral("9")}, {QStringLiteral("ten"), QStringLiteral("10")},
    };
    return table;
}

// The evaluator's punctuation list, in its order (the order matters: replacements are
// cumulative on the output while every test looks at the original input).
const QStringList &punctuation()
{
    static const QStringList list = {
        QStringLiteral(";"), QStringLiteral("/"), QStringLiteral("["), QStringLiteral("]"), QStringLiteral("\""),
        QStringLiteral("{"), QStringLiteral("}"), QStringLiteral("("), QStringLiteral(")"), QStringLiteral("="),
        QStringLiteral("+"), QStringLiteral("\\"), QStringLiteral("_"), QStringLiteral("-"), QStringLiteral(">"),
        QStringLiteral("<"), QStringLiteral("@"), QStringLiteral("`"), QStringLiteral(","), QStringLiteral("?"),
        QStringLiteral("!"),
    };
    return list;
}

bool isAsciiDigit(QChar c) { return c >= QLatin1Char('0') && c <= QLatin1Char('9'); }

// Python 2's re \d is ASCII only.
bool hasDigitCommaDigit(const QString &s)
{
    for (qsizetype i = 1; i + 1 < s.size(); ++i)
        if (s[i] == QLatin1Char(',') && isAsciiDigit(s[i - 1]) && isAsciiDigit(s[i + 1]))
            return true;
    return false;
}

// Python's str.strip() / split() whitespace.
bool isPyWhitespace(QChar c) { return c.isSpace() || c == QChar(0x1c) || c == QChar(0x1d) || c == QChar(0x1e) || c == QChar(0x1f); }

QString pyStrip(const QString &s)
{
    qsizetype b = 0, e = s.size();
    while (b < e && isPyWhitespace(s[b]))
        ++b;
    while (e > b && isPyWhitespace(s[e - 1]))
        --e;
    return s.mid(b, e - b);
}

QStringList pySplit(const QString &s)
{
    QStringList words;
    QString cur;
    for (QChar c : s) {
        if (isPyWhitespace(c)) {
            if (!cur.isEmpty())
                words << cur;
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.isEmpty())
        words << cur;
    return words;
}

QString basicClean(QString s)
{
    s.replace(QLatin1Char('\n'), QLatin1Char(' '));
    s.replace(QLatin1Char('\t'), QLatin1Char(' '));
    return pyStrip(s);
}

} // namespace

QString vqaProcessPunctuation(const QString &in)
{
    QString out = in;
    const bool commaNumber = hasDigitCommaDigit(in);
    for (const QString &p : punctuation()) {
        if (in.contains(p + QLatin1Char(' ')) || in.contains(QLatin1Char(' ') + p) || commaNumber)
            out.remove(p);
        else
            out.replace(p, QStringLiteral(" "));
    }
    // "(?!<=\d)(\.)(?!\d)" with re.UNICODE passed as count=32: the first 32 periods that are
    // not followed by a digit are deleted.
    QString result;
    result.reserve(out.size());
    int removed = 0;
    for (qsizetype i = 0; i < out.size(); ++i) {
        if (out[i] == QLatin1Char('.') && removed < 32 && !(i + 1 < out.size() && isAsciiDigit(out[i + 1]))) {
            ++removed;
            continue;
        }
        result += out[i];
    }
    return result;
}

QString vqaProcessDigitArticle(const QString &in)
{
    QStringList words;
    for (QString word : pySplit(in.toLower())) {
        word = numberWords().value(word, word);
        if (word == QLatin1String("a") || word == QLatin1String("an") || word == QLatin1String("the"))
            continue;
        words << word;
    }
    for (QString &word : words)
        word = contractions().value(word, word);
    return words.join(QLatin1Char(' '));
}

double vqaAccuracy(const QString &prediction, const QStringList &humanAnswers)
{
    if (humanAnswers.isEmpty())
        return 0.0;
    QStringList gts;
    gts.reserve(humanAnswers.size());
    for (const QString &a : humanAnswers)
        gts << basicClean(a);
    QString pred = basicClean(prediction);
    const QSet<QString> distinct(gts.begin(), gts.end());
    if (distinct.size() > 1) {
        for (QString &a : gts)
            a = vqaProcessDigitArticle(vqaProcessPunctuation(a));
        pred = vqaProcessDigitArticle(vqaProcessPunctuation(pred));
    }
    // Leave-one-out by position: matches among the other answers.
    const qsizetype total = gts.count(pred);
    double sum = 0.0;
    for (const QString &a : gts) {
        const qsizetype others = total - (a == pred ? 1 : 0);
        sum += std::min(1.0, static_cast<double>(others) / 3.0);
    }
    return sum / static_cast<double>(gts.size());
}

} // namespace mpa::metrics
