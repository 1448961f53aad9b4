#pragma once
// The normaliser and pre-tokenizer of a byte-level BPE tokenizer.json, for the layouts the
// supported models use:
//  - Qwen2: NFC, then Split with the Qwen2 regex (contractions case-insensitive, one
//    character per number), then ByteLevel without its own regex;
//  - SmolLM2 (SmolVLM) and GPT-2 style: no normaliser, optionally Digits(individual_digits),
//    then ByteLevel with GPT-2's regex ('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
//    ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+).
// Each regex is a hand-written scanner reproducing the Rust regex engine's leftmost-first
// matches (no regex library matches its Unicode classes and look-ahead exactly).
#include <QJsonValue>
#include <QString>
#include <string>
#include <vector>

namespace mpa::vlm {

class PreTokenizer
{
public:
    enum class Regex { Qwen2, Gpt2, None };

    // Reads tokenizer.json's "normalizer" and "pre_tokenizer"; any other layout is refused with
    // a message naming `path` and what was found.
    static PreTokenizer fromJson(const QJsonValue &normalizer, const QJsonValue &preTokenizer, const QString &path);
    static PreTokenizer qwen2() { return PreTokenizer(true, false, Regex::Qwen2); }

    // Normalises (NFC when the tokenizer says so) and splits a text without added tokens.
    std::vector<std::u32string> split(const QString &text) const;
    std::vector<std::u32string> split(const std::u32string &normalised) const;

    bool nfc() const { return m_nfc; }
    bool digits() const { return m_digits; }
    Regex regex() const { return m_regex; }

    static std::vector<std::u32string> qwen2Split(const std::u32string &text);
    static std::vector<std::u32string> gpt2Split(const std::u32string &text);
    // Digits(individual_digits=true): every numeric character (Nd, Nl, No) its own piece.
    static std::vector<std::u32string> digitSplit(const std::u32string &text);

private:
    PreTokenizer(bool nfc, bool digits, Regex regex)
        : m_nfc(nfc)
        , m_digits(digits)
        , m_regex(regex)
    {
    }
    bool m_nfc;
    bool m_digits;
    Regex m_regex;
};

} // namespace mpa::vlm
