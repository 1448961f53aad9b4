#pragma once
// Byte-level BPE tokenizer read from a Hugging Face tokenizer.json: Qwen2's layout (NFC, the
// Qwen2 split regex + ByteLevel) and SmolLM2's (Digits + ByteLevel's GPT-2 regex), see
// vlm/pre_tokenizer.h; BPE without unk/byte fallback (bytes without a symbol are dropped, as
// the Rust tokenizer does), ByteLevel decoder. Immutable after loading: one instance is shared by every
// thread (encode/decode keep their scratch state on the stack).
#include "vlm/pre_tokenizer.h"

#include <QHash>
#include <QString>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mpa::vlm {

class Tokenizer
{
public:
    // `path` is tokenizer.json or a folder holding it.
    static std::shared_ptr<const Tokenizer> load(const QString &path);

    // parseSpecial: added tokens written in the text become their ids (the reference's
    // default, split_special_tokens=false); otherwise they are tokenized as plain text.
    std::vector<std::int32_t> encode(const QString &text, bool parseSpecial = true) const;
    QString decode(const std::vector<std::int32_t> &ids, bool skipSpecial = false) const;

    std::optional<std::int32_t> tokenId(const QString &token) const;
    // The token's bytes (added tokens: their text as UTF-8). Empty for unknown ids.
    std::string tokenBytes(std::int32_t id) const;
    bool isSpecial(std::int32_t id) const;
    std::int32_t vocabSize() const { return m_vocabSize; }
    const QString &path() const { return m_path; }

    // Streaming decode: push ids as they are generated; text() returns what can be shown
    // now (incomplete UTF-8 at the end is held back until its remaining bytes arrive).
    class StreamDecoder
    {
    public:
        StreamDecoder(std::shared_ptr<const Tokenizer> tokenizer, bool skipSpecial);
        // The newly completed text.
        QString push(std::int32_t id);
        // Whatever is still held back, decoded with replacement characters.
        QString flush();

    private:
        std::shared_ptr<const Tokenizer> m_tokenizer;
        bool m_skipSpecial;
        std::string m_pending;
    };

    // Qwen2's pre-tokenizer split (exposed for tests): the pieces of an NFC-normalised text.
    static std::vector<std::u32string> preTokenize(const std::u32string &text);

private:
    Tokenizer() = default;
    void encodeOrdinary(const QString &segment, std::vector<std::int32_t> &out) const;
    void bpe(const std::string &bytes, std::vector<std::int32_t> &out) const;

    struct AddedToken
    {
        QString content;
        std::int32_t id;
        bool special;
    };

    QString m_path;
    PreTokenizer m_pre = PreTokenizer::qwen2();
    std::int32_t m_vocabSize = 0;
    std::unordered_map<std::string, std::int32_t> m_vocab; // raw bytes -> id
    std::vector<std::string> m_idToBytes;
    std::vector<bool> m_special;
    std::int32_t m_byteIds[256] = {}; // -1: the byte has no symbol
    // (left id << 32 | right id) -> (rank << 32 | merged id)
    std::unordered_map<std::uint64_t, std::uint64_t> m_merges;
    std::vector<AddedToken> m_added; // sorted by length, longest first
    QHash<QString, std::int32_t> m_addedByContent;
};

// GPT-2's byte-level mapping: raw bytes as the printable characters tokenizer.json stores.
QString byteLevelText(const std::string &bytes);

} // namespace mpa::vlm
