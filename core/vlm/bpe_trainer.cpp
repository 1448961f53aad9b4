#include "vlm/bpe_trainer.h"

#include "vlm/tokenizer.h"

#include <QJsonArray>
#include <QString>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace mpa::vlm {

namespace {

struct Word
{
    std::vector<int> symbols;
    qint64 count = 0;
};

QJsonObject byteLevelStep()
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("ByteLevel")}, {QStringLiteral("add_prefix_space"), false},
                       {QStringLiteral("trim_offsets"), false}, {QStringLiteral("use_regex"), false}};
}

// Qwen2's pre-tokenizer split, spelled as tokenizer.json spells it.
const char *qwen2SplitRegex()
{
    return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

} // namespace

QStringList qwen2VlSpecialTokens()
{
    return {QStringLiteral("<|endoftext|>"), QStringLiteral("<|im_start|>"), QStringLiteral("<|im_end|>"), QStringLiteral("<|object_ref_start|>"),
            QStringLiteral("<|object_ref_end|>"), QStringLiteral("<|box_start|>"), QStringLiteral("<|box_end|>"), QStringLiteral("<|quad_start|>"),
            QStringLiteral("<|quad_end|>"), QStringLiteral("<|vision_start|>"), QStringLiteral("<|vision_end|>"), QStringLiteral("<|vision_pad|>"),
            QStringLiteral("<|image_pad|>"), QStringLiteral("<|video_pad|>")};
}

QJsonObject trainByteLevelBpe(const QStringList &corpus, const BpeTrainingOptions &options)
{
    // Token strings as raw bytes; ids 0..255 are the single bytes.
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b)
        tokens.emplace_back(1, static_cast<char>(b));

    // Distinct pre-tokenized pieces with their counts (special tokens never reach BPE).
    std::map<std::string, qint64> pieces;
    for (QString line : corpus) {
        for (const QString &special : options.addedTokens)
            line.replace(special, QStringLiteral(" "));
        for (const std::u32string &piece : Tokenizer::preTokenize(line.normalized(QString::NormalizationForm_C).toStdU32String()))
            ++pieces[QString::fromStdU32String(piece).toStdString()];
    }
    std::vector<Word> words;
    for (const auto &[bytes, count] : pieces) {
        Word w;
        w.count = count;
        for (unsigned char c : bytes)
            w.symbols.push_back(c);
        words.push_back(std::move(w));
    }

    QJsonArray merges;
    for (int m = 0; m < options.merges; ++m) {
        std::map<std::pair<int, int>, qint64> pairs;
        for (const Word &w : words)
            for (std::size_t i = 0; i + 1 < w.symbols.size(); ++i)
                pairs[{w.symbols[i], w.symbols[i + 1]}] += w.count;
        std::pair<int, int> best{-1, -1};
        qint64 bestCount = 0;
        for (const auto &[pair, count] : pairs) {
            const bool better = count > bestCount
                                || (count == bestCount
                                    && std::tie(tokens[pair.first], tokens[pair.second]) < std::tie(tokens[best.first], tokens[best.second]));
            if (better) {
                best = pair;
                bestCount = count;
            }
        }
        if (best.first < 0 || bestCount < options.minPairCount)
            break;
        const int merged = static_cast<int>(tokens.size());
        tokens.push_back(tokens[best.first] + tokens[best.second]);
        merges.append(QString(byteLevelText(tokens[best.first]) + QLatin1Char(' ') + byteLevelText(tokens[best.second])));
        for (Word &w : words) {
            std::vector<int> out;
            out.reserve(w.symbols.size());
            for (std::size_t i = 0; i < w.symbols.size(); ++i) {
                if (i + 1 < w.symbols.size() && w.symbols[i] == best.first && w.symbols[i + 1] == best.second) {
                    out.push_back(merged);
                    ++i;
                } else {
                    out.push_back(w.symbols[i]);
                }
            }
            w.symbols.swap(out);
        }
    }

    QJsonObject vocab;
    for (std::size_t id = 0; id < tokens.size(); ++id)
        vocab.insert(byteLevelText(tokens[id]), static_cast<int>(id));
    QJsonArray added;
    for (int i = 0; i < options.addedTokens.size(); ++i)
        added.append(QJsonObject{{QStringLiteral("id"), static_cast<int>(tokens.size()) + i}, {QStringLiteral("content"), options.addedTokens[i]},
                                 {QStringLiteral("single_word"), false}, {QStringLiteral("lstrip"), false}, {QStringLiteral("rstrip"), false},
                                 {QStringLiteral("normalized"), false}, {QStringLiteral("special"), true}});
    const QJsonObject split{{QStringLiteral("type"), QStringLiteral("Split")},
                            {QStringLiteral("pattern"), QJsonObject{{QStringLiteral("Regex"), QString::fromUtf8(qwen2SplitRegex())}}},
                            {QStringLiteral("behavior"), QStringLiteral("Isolated")}, {QStringLiteral("invert"), false}};
    return QJsonObject{
        {QStringLiteral("version"), QStringLiteral("1.0")},
        {QStringLiteral("truncation"), QJsonValue::Null},
        {QStringLiteral("padding"), QJsonValue::Null},
        {QStringLiteral("added_tokens"), added},
        {QStringLiteral("normalizer"), QJsonObject{{QStringLiteral("type"), QStringLiteral("NFC")}}},
        {QStringLiteral("pre_tokenizer"), QJsonObject{{QStringLiteral("type"), QStringLiteral("Sequence")},
                                                      {QStringLiteral("pretokenizers"), QJsonArray{split, byteLevelStep()}}}},
        {QStringLiteral("post_processor"), byteLevelStep()},
        {QStringLiteral("decoder"), byteLevelStep()},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("type"), QStringLiteral("BPE")}, {QStringLiteral("dropout"), QJsonValue::Null},
                                              {QStringLiteral("unk_token"), QJsonValue::Null}, {QStringLiteral("continuing_subword_prefix"), QString()},
                                              {QStringLiteral("end_of_word_suffix"), QString()}, {QStringLiteral("fuse_unk"), false},
                                              {QStringLiteral("byte_fallback"), false}, {QStringLiteral("vocab"), vocab},
                                              {QStringLiteral("merges"), merges}}}};
}

} // namespace mpa::vlm
