#pragma once
// UTF-8 helpers with the reference semantics: invalid sequences decode to U+FFFD per maximal
// subpart (as Rust's String::from_utf8_lossy and Python's errors="replace" do).
#include <QString>
#include <string>

namespace mpa::vlm {

QString decodeUtf8Lossy(const std::string &bytes);
// Code points to UTF-8 / QString. (QString::fromUcs4 is not used because it drops a leading
// U+FEFF as a byte-order mark, and U+FEFF is an ordinary token in real text.)
std::string encodeUtf8(const std::u32string &text);
void appendCodePoint(QString &out, char32_t cp);
// Length of the longest prefix of `bytes` that does not end inside an incomplete (but so far
// valid) UTF-8 sequence: what a streaming decoder may emit now.
std::size_t completeUtf8Prefix(const std::string &bytes);

} // namespace mpa::vlm
