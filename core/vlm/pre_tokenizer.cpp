#include "vlm/pre_tokenizer.h"

#include "util/error.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <iterator>

namespace mpa::vlm {

namespace {

// Unicode White_Space as the Rust regex engine sees it (U+0085 yes, U+FEFF no).
bool isWhite(char32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A)
           || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

struct CodePointRange
{
    char32_t first, last;
};
#include "vlm/unicode_classes.inc"

template<std::size_t N>
bool inRanges(const CodePointRange (&ranges)[N], char32_t c)
{
    const auto *it = std::upper_bound(std::begin(ranges), std::end(ranges), c, [](char32_t v, const CodePointRange &r) { return v < r.first; });
    return it != std::begin(ranges) && c <= (it - 1)->last;
}

// \p{L}, from Unicode 16 tables (vlm/unicode_classes.inc), not Qt's older ones.
bool isLetter(char32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return inRanges(kLetterRanges, c);
}

// \p{N} and Rust's char::is_numeric (Nd, Nl, No).
bool isNumber(char32_t c)
{
    if (c < 0x80)
        return c >= '0' && c <= '9';
    return inRanges(kNumberRanges, c);
}

bool isCrLf(char32_t c) { return c == '\r' || c == '\n'; }
bool isOther(char32_t c) { return !isWhite(c) && !isLetter(c) && !isNumber(c); }

// (?i) simple case folding for the contraction letters ('ſ' folds to 's').
char32_t foldAscii(char32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c == 0x17F)
        return 's';
    return c;
}

// Length of a contraction match at i ('s 't 're 've 'm 'll 'd), or 0.
std::size_t contraction(const std::u32string &t, std::size_t i, bool caseInsensitive)
{
    if (t[i] != '\'' || i + 1 >= t.size())
        return 0;
    auto fold = [&](char32_t c) { return caseInsensitive ? foldAscii(c) : c; };
    const char32_t a = fold(t[i + 1]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if (i + 2 < t.size()) {
        const char32_t b = fold(t[i + 2]);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return 3;
    }
    return 0;
}

// \s+(?!\S)|\s+ over the whitespace run starting at i: a run followed by more text gives its
// last character back to the next piece.
std::size_t whitespaceEnd(const std::u32string &t, std::size_t i)
{
    std::size_t j = i;
    while (j < t.size() && isWhite(t[j]))
        ++j;
    if (j == t.size() || j - i == 1)
        return j;
    return j - 1;
}

} // namespace

PreTokenizer PreTokenizer::fromJson(const QJsonValue &normalizer, const QJsonValue &preTokenizer, const QString &path)
{
    auto text = [](const QJsonValue &v) { return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact)); };
    bool nfc = false;
    if (normalizer.isObject()) {
        if (normalizer.toObject().value(QStringLiteral("type")).toString() != QLatin1String("NFC"))
            throw Error(QStringLiteral("%1: normalizer %2 is not supported (NFC or none)").arg(path, text(normalizer)));
        nfc = true;
    } else if (!normalizer.isNull() && !normalizer.isUndefined()) {
        throw Error(QStringLiteral("%1: \"normalizer\" must be an object or null").arg(path));
    }
    QJsonArray steps;
    const QJsonObject pre = preTokenizer.toObject();
    if (pre.value(QStringLiteral("type")).toString() == QLatin1String("Sequence"))
        steps = pre.value(QStringLiteral("pretokenizers")).toArray();
    else if (!pre.isEmpty())
        steps.append(pre);
    bool digits = false, byteLevel = false, qwen2 = false, byteRegex = false;
    for (const QJsonValue &s : steps) {
        const QJsonObject o = s.toObject();
        const QString type = o.value(QStringLiteral("type")).toString();
        if (type == QLatin1String("Digits") && o.value(QStringLiteral("individual_digits")).toBool() && !byteLevel && !qwen2) {
            digits = true;
        } else if (type == QLatin1String("Split") && !byteLevel && !digits
                   && o.value(QStringLiteral("pattern")).toObject().value(QStringLiteral("Regex")).toString()
                          == QLatin1String("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
                   && o.value(QStringLiteral("behavior")).toString() == QLatin1String("Isolated") && !o.value(QStringLiteral("invert")).toBool()) {
            qwen2 = true;
        } else if (type == QLatin1String("ByteLevel") && !byteLevel) {
            if (o.value(QStringLiteral("add_prefix_space")).toBool())
                throw Error(QStringLiteral("%1: ByteLevel with add_prefix_space is not supported").arg(path));
            byteLevel = true;
            byteRegex = o.value(QStringLiteral("use_regex")).toBool(true);
        } else {
            throw Error(QStringLiteral("%1: pre-tokenizer step %2 is not supported (supported: Qwen2's split regex or Digits, then ByteLevel)")
                            .arg(path, text(s)));
        }
    }
    if (!byteLevel)
        throw Error(QStringLiteral("%1: only byte-level BPE tokenizers are supported (no ByteLevel pre-tokenizer)").arg(path));
    if (qwen2 && byteRegex)
        throw Error(QStringLiteral("%1: Qwen2's split followed by ByteLevel's own regex is not a layout this tokenizer knows").arg(path));
    return PreTokenizer(nfc, digits, qwen2 ? Regex::Qwen2 : byteRegex ? Regex::Gpt2 : Regex::None);
}

std::vector<std::u32string> PreTokenizer::split(const QString &text) const
{
    const QList<uint> ucs = (m_nfc ? text.normalized(QString::NormalizationForm_C) : text).toUcs4();
    return split(std::u32string(ucs.begin(), ucs.end()));
}

std::vector<std::u32string> PreTokenizer::split(const std::u32string &text) const
{
    auto byRegex = [&](const std::u32string &t) {
        switch (m_regex) {
        case Regex::Qwen2: return qwen2Split(t);
        case Regex::Gpt2: return gpt2Split(t);
        case Regex::None: break;
        }
        return std::vector<std::u32string>{t};
    };
    if (!m_digits)
        return byRegex(text);
    // The regex runs on each piece Digits left, so it never sees across a numeric character.
    std::vector<std::u32string> out;
    for (const std::u32string &piece : digitSplit(text))
        for (auto &p : byRegex(piece))
            out.push_back(std::move(p));
    return out;
}

std::vector<std::u32string> PreTokenizer::digitSplit(const std::u32string &t)
{
    std::vector<std::u32string> pieces;
    std::size_t start = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (!isNumber(t[i]))
            continue;
        if (i > start)
            pieces.emplace_back(t.substr(start, i - start));
        pieces.emplace_back(1, t[i]);
        start = i + 1;
    }
    if (start < t.size())
        pieces.emplace_back(t.substr(start));
    return pieces;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*
// |\s*[\r\n]+|\s+(?!\S)|\s+ : at each position the first alternative that matches wins, with
// the backtracking behaviour of each alternative worked out by hand.
std::vector<std::u32string> PreTokenizer::qwen2Split(const std::u32string &t)
{
    std::vector<std::u32string> pieces;
    const std::size_t n = t.size();
    std::size_t i = 0;
    while (i < n) {
        std::size_t end = i;
        if (std::size_t c = contraction(t, i, true)) {
            end = i + c;
        } else if (isLetter(t[i]) || (!isCrLf(t[i]) && !isLetter(t[i]) && !isNumber(t[i]) && i + 1 < n && isLetter(t[i + 1]))) {
            end = isLetter(t[i]) ? i : i + 1;
            while (end < n && isLetter(t[end]))
                ++end;
        } else if (isNumber(t[i])) {
            end = i + 1;
        } else if (isOther(t[i]) || (t[i] == ' ' && i + 1 < n && isOther(t[i + 1]))) {
            end = t[i] == ' ' ? i + 1 : i;
            while (end < n && isOther(t[end]))
                ++end;
            while (end < n && isCrLf(t[end]))
                ++end;
        } else {
            std::size_t j = i;
            while (j < n && isWhite(t[j]))
                ++j;
            std::size_t lastBreak = n;
            for (std::size_t k = i; k < j; ++k)
                if (isCrLf(t[k]))
                    lastBreak = k;
            end = lastBreak != n ? lastBreak + 1 // \s*[\r\n]+
                                 : whitespaceEnd(t, i);
        }
        pieces.emplace_back(t.substr(i, end - i));
        i = end;
    }
    return pieces;
}

// GPT-2's 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (contractions case-sensitive; only U+0020 is the optional leading space).
std::vector<std::u32string> PreTokenizer::gpt2Split(const std::u32string &t)
{
    std::vector<std::u32string> pieces;
    const std::size_t n = t.size();
    std::size_t i = 0;
    auto run = [&](std::size_t from, bool (*cls)(char32_t)) {
        std::size_t e = from;
        while (e < n && cls(t[e]))
            ++e;
        return e;
    };
    while (i < n) {
        std::size_t end;
        const bool spaced = t[i] == ' ' && i + 1 < n;
        if (std::size_t c = contraction(t, i, false))
            end = i + c;
        else if (isLetter(t[i]) || (spaced && isLetter(t[i + 1])))
            end = run(isLetter(t[i]) ? i : i + 1, isLetter);
        else if (isNumber(t[i]) || (spaced && isNumber(t[i + 1])))
            end = run(isNumber(t[i]) ? i : i + 1, isNumber);
        else if (isOther(t[i]) || (spaced && isOther(t[i + 1])))
            end = run(isOther(t[i]) ? i : i + 1, isOther);
        else
            end = whitespaceEnd(t, i);
        pieces.emplace_back(t.substr(i, end - i));
        i = end;
    }
    return pieces;
}

} // namespace mpa::vlm
