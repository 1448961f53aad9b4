#!/bin/sh
# The README's second command (and CI's): install what is missing, build, run every test.
# Golden data is read in place from MPA_FIXTURES_DIR (default: ../shared/fixtures next to
# the repository); tests that need it report themselves skipped when it is absent.
set -eu
cd "$(dirname "$0")/.."
sh packaging/install-deps.sh --with-fuzzers
sh packaging/build.sh
# The official OpenAI Node SDK, an independent client for the `mpa serve` test (best effort:
# without node or the npm registry that one test reports itself skipped).
if command -v npm >/dev/null 2>&1 && [ ! -f build/node-test/node_modules/openai/package.json ]; then
  mkdir -p build/node-test
  (cd build/node-test && npm install --silent --no-audit --no-fund openai >/dev/null 2>&1) \
    || echo "run-tests: could not install the npm package openai; its test will be skipped" >&2
fi
export QT_QPA_PLATFORM=offscreen
export MPA_FIXTURES_DIR="${MPA_FIXTURES_DIR:-$(pwd)/../shared/fixtures}"
(cd build && ctest --output-on-failure -j 2 "$@")
# The parsers of untrusted files under libFuzzer, a fixed number of inputs each (MPA_SKIP_FUZZ=1 skips).
[ "${MPA_SKIP_FUZZ:-0}" = "1" ] || sh packaging/run-fuzzers.sh

