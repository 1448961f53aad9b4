#pragma once
// Trains a byte-level BPE tokenizer in the Qwen2 layout (NFC, Qwen2's split regex, ByteLevel,
// BPE without unk) from a text corpus, and writes it as a Hugging Face tokenizer.json that
// both our Tokenizer and the `tokenizers` library load. The demo models use it: Qwen2's own
// 151k-entry vocabulary would make a CPU-trainable model mostly embedding table.
#include <QJsonObject>
#include <QStringList>

namespace mpa::vlm {

struct BpeTrainingOptions
{
    int merges = 500;         // merge rules learned on top of the 256 byte tokens
    int minPairCount = 2;     // a pair seen fewer times is not merged
    QStringList addedTokens;  // special tokens, given ids after the BPE vocabulary in this order
};

// The tokenizer.json document. Deterministic: ties between equally frequent pairs go to the
// lexicographically smallest pair of token strings.
QJsonObject trainByteLevelBpe(const QStringList &corpus, const BpeTrainingOptions &options);

// The Qwen2-VL special tokens, in Qwen2's order.
QStringList qwen2VlSpecialTokens();

} // namespace mpa::vlm
