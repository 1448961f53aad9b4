#pragma once
// Helpers shared by the test executables.
#include "store/workspace.h"
#include "vlm/model_config.h"

#include <QString>
#include <QTemporaryDir>

namespace mpa::test {

// MPA_FIXTURES_DIR, or ../shared/fixtures beside the source tree. Empty when absent (tests
// that need it then QSKIP, as on a user's machine).
QString fixturesDir();
QString fixture(const QString &relativePath);
// A data-driven test's folder argument: a path as given, or the name of a folder under the
// fixtures directory (how CTest registers each shared folder); empty when it names a fixture
// folder but the fixtures are absent (the test then skips).
QString fixtureFolder(const QString &pathOrName);
// The built `mpa` executable.
QString cliPath();

// Real encoded images written with OpenCV's encoders.
void writeJpeg(const QString &path, int width, int height, int seed = 0);
void writePng(const QString &path, int width, int height, int seed = 0);
// A copy of `source` keeping only the first `keepBytes` bytes.
void writeTruncatedCopy(const QString &source, const QString &target, qint64 keepBytes);
void writeText(const QString &path, const QByteArray &content);

// The smallest Qwen2-VL the pipeline tests train and run: hidden 32, 1 layer, 1 vision block,
// the real 151,657-token Qwen2 vocabulary (rounded up to 151,680, tied head).
vlm::Qwen2VLConfig tinyQwen2VLConfig();

qint64 countRows(const store::Workspace &ws, const QString &table, const QString &where = QStringLiteral("1"));

} // namespace mpa::test

// QSKIP unless the golden fixtures are present.
#define MPA_REQUIRE_FIXTURES()                                                                 \
    do {                                                                                       \
        if (mpa::test::fixturesDir().isEmpty())                                                \
            QSKIP("golden fixtures not found (set MPA_FIXTURES_DIR or provide ../shared/fixtures)"); \
    } while (0)
