#include "vlm/utf8.h"

namespace mpa::vlm {

namespace {

// Length of the valid sequence starting at i (0 if invalid), and for invalid ones how many
// bytes the maximal subpart covers (so one U+FFFD replaces them).
struct Step
{
    int valid = 0;   // bytes of a complete valid sequence
    int subpart = 1; // bytes to skip when invalid
    char32_t cp = 0;
};

Step step(const unsigned char *s, std::size_t n)
{
    Step r;
    const unsigned char b0 = s[0];
    if (b0 < 0x80) {
        r.valid = 1;
        r.cp = b0;
        return r;
    }
    int len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    char32_t cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) { len = 2; cp = b0 & 0x1F; }
    else if (b0 == 0xE0) { len = 3; lo = 0xA0; cp = b0 & 0x0F; }
    else if (b0 >= 0xE1 && b0 <= 0xEC) { len = 3; cp = b0 & 0x0F; }
    else if (b0 == 0xED) { len = 3; hi = 0x9F; cp = b0 & 0x0F; }
    else if (b0 >= 0xEE && b0 <= 0xEF) { len = 3; cp = b0 & 0x0F; }
    else if (b0 == 0xF0) { len = 4; lo = 0x90; cp = b0 & 0x07; }
    else if (b0 >= 0xF1 && b0 <= 0xF3) { len = 4; cp = b0 & 0x07; }
    else if (b0 == 0xF4) { len = 4; hi = 0x8F; cp = b0 & 0x07; }
    else return r; // invalid lead byte: one replacement for it
    int i = 1;
    for (; i < len; ++i) {
        if (static_cast<std::size_t>(i) >= n)
            break;
        const unsigned char b = s[i];
        const unsigned char l = (i == 1) ? lo : 0x80;
        const unsigned char h = (i == 1) ? hi : 0xBF;
        if (b < l || b > h)
            break;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (i == len) {
        r.valid = len;
        r.cp = cp;
    } else {
        r.subpart = i; // the valid prefix of the sequence becomes one U+FFFD
    }
    return r;
}

} // namespace

QString decodeUtf8Lossy(const std::string &bytes)
{
    QString out;
    out.reserve(static_cast<qsizetype>(bytes.size()));
    const auto *s = reinterpret_cast<const unsigned char *>(bytes.data());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const Step st = step(s + i, bytes.size() - i);
        if (st.valid) {
            appendCodePoint(out, st.cp);
            i += static_cast<std::size_t>(st.valid);
        } else {
            out.append(QChar(0xFFFD));
            i += static_cast<std::size_t>(st.subpart);
        }
    }
    return out;
}

void appendCodePoint(QString &out, char32_t cp)
{
    if (cp < 0x10000) {
        out.append(QChar(static_cast<char16_t>(cp)));
    } else {
        out.append(QChar(QChar::highSurrogate(cp)));
        out.append(QChar(QChar::lowSurrogate(cp)));
    }
}

std::string encodeUtf8(const std::u32string &text)
{
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (c < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else if (c < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (c >> 12)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (c >> 18)));
            out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

std::size_t completeUtf8Prefix(const std::string &bytes)
{
    const auto *s = reinterpret_cast<const unsigned char *>(bytes.data());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const Step st = step(s + i, bytes.size() - i);
        if (st.valid) {
            i += static_cast<std::size_t>(st.valid);
            continue;
        }
        // An invalid sequence cut by the end of the buffer may still become valid.
        if (i + static_cast<std::size_t>(st.subpart) >= bytes.size() && s[i] >= 0xC2 && s[i] <= 0xF4)
            return i;
        i += static_cast<std::size_t>(st.subpart);
    }
    return i;
}

} // namespace mpa::vlm
