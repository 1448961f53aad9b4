// libFuzzer target: any tokenizer.json is either loaded (then encoding and decoding arbitrary
// text never crashes) or refused with an mpa::Error, never a crash (an added token with id -1
// used to segfault every command loading it).
#include "fuzz_input_file.h"
#include "util/error.h"
#include "vlm/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QString path = fuzzInputFile(data, size, "tokenizer.json");
    try {
        const auto tok = mpa::vlm::Tokenizer::load(path);
        const auto ids = tok->encode(QStringLiteral("Hello 2024 <|im_start|> ½ naïve\n\n  x"));
        (void)tok->decode(ids);
        (void)tok->decode({-5, 0, 1, tok->vocabSize(), 1 << 30}, true);
    } catch (const mpa::Error &) {
    }
    return 0;
}
