// Tokenizer throughput on a corpus file (one text per line), line by line on one thread and
// spread over the hardware threads; prints MB/s and an FNV-1a hash of all ids so the result
// can be compared with the reference (tokenizer_reference.mjs, run by run-tokenizer-bench.sh).
#include "vlm/tokenizer.h"
#include "vlm/utf8.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTextStream>
#include <QThread>
#include <cstdio>

using mpa::vlm::Tokenizer;

namespace {
std::uint64_t fnv(const std::vector<std::vector<std::int32_t>> &all)
{
    std::uint64_t h = 1469598103934665603ull;
    for (const auto &ids : all) {
        for (auto id : ids) {
            h ^= static_cast<std::uint64_t>(id);
            h *= 1099511628211ull;
        }
        h ^= 0xFFFFFFFFull; // line separator
        h *= 1099511628211ull;
    }
    return h;
}
} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_tokenizer TOKENIZER CORPUS\n");
        return 2;
    }
    const auto tok = Tokenizer::load(QString::fromLocal8Bit(argv[1]));
    QFile f(QString::fromLocal8Bit(argv[2]));
    if (!f.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "cannot read %s\n", argv[2]);
        return 1;
    }
    const QByteArray data = f.readAll();
    QStringList lines;
    for (const QByteArray &l : data.split('\n'))
        if (!l.isEmpty())
            // decodeUtf8Lossy, not QString::fromUtf8: the latter drops a leading U+FEFF.
            lines << mpa::vlm::decodeUtf8Lossy(l.toStdString()).replace(QStringLiteral("\\n"), QStringLiteral("\n"));
    const double mb = data.size() / 1e6;

    std::vector<std::vector<std::int32_t>> ids(static_cast<std::size_t>(lines.size()));
    QElapsedTimer t;
    t.start();
    for (qsizetype i = 0; i < lines.size(); ++i)
        ids[static_cast<std::size_t>(i)] = tok->encode(lines[i]);
    const double single = t.nsecsElapsed() / 1e9;
    const std::uint64_t h1 = fnv(ids);

    const int threads = std::max(1, QThread::idealThreadCount());
    std::vector<std::vector<std::int32_t>> ids2(static_cast<std::size_t>(lines.size()));
    t.restart();
    QList<QThread *> pool;
    for (int k = 0; k < threads; ++k) {
        pool << QThread::create([&, k] {
            for (qsizetype i = k; i < lines.size(); i += threads)
                ids2[static_cast<std::size_t>(i)] = tok->encode(lines[i]);
        });
        pool.last()->start();
    }
    for (QThread *th : pool) {
        th->wait();
        delete th;
    }
    const double parallel = t.nsecsElapsed() / 1e9;
    std::printf("mpa: %.2f MB, %lld lines; line by line %.2f MB/s; %d threads %.2f MB/s; ids fnv %016llx%s\n", mb,
                static_cast<long long>(lines.size()), mb / single, threads, mb / parallel, static_cast<unsigned long long>(h1),
                fnv(ids2) == h1 ? "" : " (PARALLEL MISMATCH)");
    return 0;
}
