#include "vlm/tokenizer.h"

#include "util/error.h"
#include "util/json_file.h"
#include "vlm/utf8.h"

#include <cmath>

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <algorithm>
#include <queue>

namespace mpa::vlm {

namespace {

// GPT-2's byte <-> printable code point table.
struct ByteTable
{
    char32_t byteToChar[256];
    std::unordered_map<char32_t, unsigned char> charToByte;
    ByteTable()
    {
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            byteToChar[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
            charToByte[byteToChar[b]] = static_cast<unsigned char>(b);
        }
    }
};

const ByteTable &byteTable()
{
    static const ByteTable t;
    return t;
}

// Token strings in tokenizer.json are byte-level mapped; turn one into its raw bytes.
std::optional<std::string> unmapToken(const QString &token)
{
    std::string out;
    for (char32_t c : token.toUcs4()) {
        auto it = byteTable().charToByte.find(c);
        if (it == byteTable().charToByte.end())
            return std::nullopt;
        out.push_back(static_cast<char>(it->second));
    }
    return out;
}

} // namespace

std::vector<std::u32string> Tokenizer::preTokenize(const std::u32string &text)
{
    return PreTokenizer::qwen2Split(text);
}

std::shared_ptr<const Tokenizer> Tokenizer::load(const QString &pathIn)
{
    const QString path = QFileInfo(pathIn).isDir() ? QDir(pathIn).filePath(QStringLiteral("tokenizer.json")) : pathIn;
    const QJsonDocument doc = json::readFile(path);
    const QJsonObject top = doc.object();
    const QJsonObject model = top.value(QStringLiteral("model")).toObject();
    if (model.value(QStringLiteral("type")).toString() != QLatin1String("BPE"))
        throw Error(QStringLiteral("%1: only BPE tokenizers are supported (model.type is \"%2\")")
                        .arg(path, model.value(QStringLiteral("type")).toString()));
    std::shared_ptr<Tokenizer> tok(new Tokenizer);
    tok->m_pre = PreTokenizer::fromJson(top.value(QStringLiteral("normalizer")), top.value(QStringLiteral("pre_tokenizer")), path);
    if (model.value(QStringLiteral("byte_fallback")).toBool())
        throw Error(QStringLiteral("%1: BPE with byte_fallback is not supported (byte-level BPE only)").arg(path));
    tok->m_path = path;
    const QJsonObject vocab = model.value(QStringLiteral("vocab")).toObject();
    if (vocab.isEmpty())
        throw Error(QStringLiteral("%1: model.vocab is missing or empty").arg(path));
    std::int32_t maxId = -1;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        const auto bytes = unmapToken(it.key());
        if (!bytes || !it.value().isDouble())
            throw Error(QStringLiteral("%1: vocabulary entry \"%2\" is not a byte-level token with an integer id").arg(path, it.key()));
        const auto id = static_cast<std::int32_t>(it.value().toInt());
        if (id < 0)
            throw Error(QStringLiteral("%1: vocabulary entry \"%2\" has a negative id").arg(path, it.key()));
        tok->m_vocab.emplace(*bytes, id);
        maxId = std::max(maxId, id);
    }
    const QJsonArray added = top.value(QStringLiteral("added_tokens")).toArray();
    // Ids index tables sized by the largest one: negative or absurd ids are refused here.
    constexpr std::int32_t kMaxId = 16 * 1024 * 1024;
    for (const QJsonValue &v : added) {
        const QJsonValue id = v.toObject().value(QStringLiteral("id"));
        if (!id.isDouble() || id.toDouble() < 0 || id.toDouble() >= kMaxId || id.toDouble() != std::floor(id.toDouble()))
            throw Error(QStringLiteral("%1: added token \"%2\" has id %3; ids must be integers in 0..%4")
                            .arg(path, v.toObject().value(QStringLiteral("content")).toString(), id.toVariant().toString()).arg(kMaxId - 1));
        maxId = std::max(maxId, static_cast<std::int32_t>(id.toDouble()));
    }
    if (maxId >= kMaxId)
        throw Error(QStringLiteral("%1: vocabulary ids reach %2; at most %3 are supported").arg(path).arg(maxId).arg(kMaxId));
    tok->m_vocabSize = maxId + 1;
    tok->m_idToBytes.assign(static_cast<std::size_t>(tok->m_vocabSize), {});
    tok->m_special.assign(static_cast<std::size_t>(tok->m_vocabSize), false);
    for (const auto &[bytes, id] : tok->m_vocab)
        tok->m_idToBytes[static_cast<std::size_t>(id)] = bytes;
    for (int b = 0; b < 256; ++b) {
        auto it = tok->m_vocab.find(std::string(1, static_cast<char>(b)));
        // SmolLM2's vocabulary lacks 21 byte symbols; with unk_token null the Rust BPE drops
        // such bytes before merging (its neighbours may then merge), and so does bpe().
        tok->m_byteIds[b] = it == tok->m_vocab.end() ? -1 : it->second;
    }

    // Merges as "a b" strings (older files) or [a, b] pairs (newer ones).
    const QJsonArray merges = model.value(QStringLiteral("merges")).toArray();
    std::uint32_t rank = 0;
    for (const QJsonValue &m : merges) {
        QString a, b;
        if (m.isString()) {
            const QString s = m.toString();
            const qsizetype sp = s.indexOf(QLatin1Char(' '), 1);
            if (sp < 0)
                throw Error(QStringLiteral("%1: merge %2 \"%3\" is not \"a b\"").arg(path).arg(rank).arg(s));
            a = s.left(sp);
            b = s.mid(sp + 1);
        } else if (m.isArray() && m.toArray().size() == 2) {
            a = m.toArray().at(0).toString();
            b = m.toArray().at(1).toString();
        } else {
            throw Error(QStringLiteral("%1: merge %2 is neither \"a b\" nor [a, b]").arg(path).arg(rank));
        }
        const auto ab = unmapToken(a), bb = unmapToken(b);
        if (!ab || !bb)
            throw Error(QStringLiteral("%1: merge %2 uses characters outside the byte-level alphabet").arg(path).arg(rank));
        auto ia = tok->m_vocab.find(*ab), ib = tok->m_vocab.find(*bb), im = tok->m_vocab.find(*ab + *bb);
        if (ia != tok->m_vocab.end() && ib != tok->m_vocab.end() && im != tok->m_vocab.end()) {
            const std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(ia->second)) << 32) | static_cast<std::uint32_t>(ib->second);
            tok->m_merges.emplace(key, (static_cast<std::uint64_t>(rank) << 32) | static_cast<std::uint32_t>(im->second));
        }
        ++rank;
    }

    for (const QJsonValue &v : added) {
        const QJsonObject o = v.toObject();
        AddedToken t{o.value(QStringLiteral("content")).toString(), static_cast<std::int32_t>(o.value(QStringLiteral("id")).toInt()),
                     o.value(QStringLiteral("special")).toBool()};
        if (t.content.isEmpty())
            throw Error(QStringLiteral("%1: an added token has no content").arg(path));
        tok->m_added.push_back(t);
        tok->m_addedByContent.insert(t.content, t.id);
        tok->m_idToBytes[static_cast<std::size_t>(t.id)] = t.content.toStdString();
        tok->m_special[static_cast<std::size_t>(t.id)] = t.special;
    }
    std::stable_sort(tok->m_added.begin(), tok->m_added.end(), [](const AddedToken &a, const AddedToken &b) {
        return a.content.size() > b.content.size();
    });
    return tok;
}

void Tokenizer::bpe(const std::string &bytes, std::vector<std::int32_t> &out) const
{
    // Fast path: the whole piece is one token.
    if (auto it = m_vocab.find(bytes); it != m_vocab.end()) {
        out.push_back(it->second);
        return;
    }
    // Symbols as a doubly linked list over a vector; a min-heap of candidate merges keyed by
    // (rank, position) applies the lowest-ranked pair first, leftmost first among equals.
    struct Symbol
    {
        std::int32_t id;
        int prev, next;
        bool alive;
    };
    std::vector<Symbol> sym;
    sym.reserve(bytes.size());
    for (char byte : bytes) {
        const std::int32_t id = m_byteIds[static_cast<unsigned char>(byte)];
        if (id >= 0)
            sym.push_back({id, 0, 0, true});
    }
    for (std::size_t i = 0; i < sym.size(); ++i) {
        sym[i].prev = static_cast<int>(i) - 1;
        sym[i].next = i + 1 < sym.size() ? static_cast<int>(i) + 1 : -1;
    }
    struct Candidate
    {
        std::uint32_t rank;
        int left;
        std::int32_t leftId, rightId, merged;
        bool operator>(const Candidate &o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    auto consider = [&](int left) {
        if (left < 0 || sym[left].next < 0)
            return;
        const int right = sym[left].next;
        const std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(sym[left].id)) << 32)
                                  | static_cast<std::uint32_t>(sym[right].id);
        auto it = m_merges.find(key);
        if (it != m_merges.end())
            heap.push({static_cast<std::uint32_t>(it->second >> 32), left, sym[left].id, sym[right].id,
                       static_cast<std::int32_t>(it->second & 0xFFFFFFFFu)});
    };
    for (int i = 0; i + 1 < static_cast<int>(sym.size()); ++i)
        consider(i);
    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        Symbol &l = sym[c.left];
        if (!l.alive || l.id != c.leftId || l.next < 0 || sym[l.next].id != c.rightId)
            continue; // stale
        Symbol &r = sym[l.next];
        l.id = c.merged;
        r.alive = false;
        l.next = r.next;
        if (r.next >= 0)
            sym[r.next].prev = c.left;
        consider(l.prev);
        consider(c.left);
    }
    for (const Symbol &s : sym)
        if (s.alive)
            out.push_back(s.id);
}

void Tokenizer::encodeOrdinary(const QString &segment, std::vector<std::int32_t> &out) const
{
    if (segment.isEmpty())
        return;
    for (const std::u32string &piece : m_pre.split(segment))
        bpe(encodeUtf8(piece), out);
}

std::vector<std::int32_t> Tokenizer::encode(const QString &text, bool parseSpecial) const
{
    std::vector<std::int32_t> out;
    if (!parseSpecial || m_added.empty()) {
        encodeOrdinary(text, out);
        return out;
    }
    // Added tokens are matched on the raw text, leftmost first, longest among those.
    qsizetype start = 0, i = 0;
    const qsizetype n = text.size();
    while (i < n) {
        const AddedToken *hit = nullptr;
        for (const AddedToken &t : m_added) {
            if (t.content.at(0) == text.at(i) && QStringView(text).mid(i).startsWith(t.content)) {
                hit = &t;
                break;
            }
        }
        if (!hit) {
            ++i;
            continue;
        }
        encodeOrdinary(text.mid(start, i - start), out);
        out.push_back(hit->id);
        i += hit->content.size();
        start = i;
    }
    encodeOrdinary(text.mid(start), out);
    return out;
}

QString Tokenizer::decode(const std::vector<std::int32_t> &ids, bool skipSpecial) const
{
    std::string bytes;
    for (std::int32_t id : ids) {
        if (id < 0 || id >= m_vocabSize)
            continue; // ids beyond the tokenizer (the model's padded vocabulary) decode to nothing
        if (skipSpecial && m_special[static_cast<std::size_t>(id)])
            continue;
        bytes += m_idToBytes[static_cast<std::size_t>(id)];
    }
    return decodeUtf8Lossy(bytes);
}

std::optional<std::int32_t> Tokenizer::tokenId(const QString &token) const
{
    if (auto it = m_addedByContent.constFind(token); it != m_addedByContent.cend())
        return *it;
    const auto bytes = unmapToken(token);
    if (bytes)
        if (auto it = m_vocab.find(*bytes); it != m_vocab.end())
            return it->second;
    return std::nullopt;
}

std::string Tokenizer::tokenBytes(std::int32_t id) const
{
    return id >= 0 && id < m_vocabSize ? m_idToBytes[static_cast<std::size_t>(id)] : std::string();
}

bool Tokenizer::isSpecial(std::int32_t id) const
{
    return id >= 0 && id < m_vocabSize && m_special[static_cast<std::size_t>(id)];
}

Tokenizer::StreamDecoder::StreamDecoder(std::shared_ptr<const Tokenizer> tokenizer, bool skipSpecial)
    : m_tokenizer(std::move(tokenizer))
    , m_skipSpecial(skipSpecial)
{
}

QString Tokenizer::StreamDecoder::push(std::int32_t id)
{
    if (m_skipSpecial && m_tokenizer->isSpecial(id))
        return {};
    m_pending += m_tokenizer->tokenBytes(id);
    const std::size_t ready = completeUtf8Prefix(m_pending);
    const QString text = decodeUtf8Lossy(m_pending.substr(0, ready));
    m_pending.erase(0, ready);
    return text;
}

QString Tokenizer::StreamDecoder::flush()
{
    const QString text = decodeUtf8Lossy(m_pending);
    m_pending.clear();
    return text;
}

QString byteLevelText(const std::string &bytes)
{
    std::u32string out;
    for (unsigned char b : bytes)
        out.push_back(byteTable().byteToChar[b]);
    return QString::fromStdU32String(out);
}

} // namespace mpa::vlm
