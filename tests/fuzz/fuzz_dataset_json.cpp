// libFuzzer target: the dataset readers (LLaVA conversations, TextVQA / ChartQA / VQA
// benchmarks, the MPA scripts' PA and PI outputs) turn any file into records or an
// mpa::Error, never a crash; relative image paths never leave their root.
#include "datasets/benchmark_formats.h"
#include "datasets/conversation_formats.h"
#include "datasets/mpa_results.h"
#include "fuzz_input_file.h"
#include "util/error.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace mpa::datasets;
    const QString path = fuzzInputFile(data, size, "PA_fuzz_textVQA.json");
    const QString root = QStringLiteral("/dev/shm/mpa-fuzz-root");
    auto inside = [&](const QString &image) {
        if (!image.isEmpty() && !image.startsWith(QLatin1Char('/')))
            std::abort(); // every resolved path is absolute
    };
    try {
        for (const QaPair &p : readLlava(path, root))
            inside(p.imagePath);
    } catch (const mpa::Error &) {
    }
    try {
        (void)readMpaPseudoAnnotations(path, root);
    } catch (const mpa::Error &) {
    }
    try {
        (void)readMpaParityAnswers(path, root);
    } catch (const mpa::Error &) {
    }
    BenchmarkOptions options;
    options.imageRoot = root;
    for (auto reader : {readTextVqa, readChartQa, readVqa, readBenchmarkAuto}) {
        try {
            (void)reader(path, options);
        } catch (const mpa::Error &) {
        }
    }
    return 0;
}
