#!/bin/sh
# The README's second command (and CI's): install what is missing, build, run every test.
# Golden data is read in place from MPA_FIXTURES_DIR (default: ../shared/fixtures next to
# the repository); tests that need it report themselves skipped when it is absent.
set -eu
cd "$(dirname "$0")/.."
sh packaging/install-deps.sh
sh packaging/build.sh
export QT_QPA_PLATFORM=offscreen
export MPA_FIXTURES_DIR="${MPA_FIXTURES_DIR:-$(pwd)/../shared/fixtures}"
cd build
ctest --output-on-failure -j 2 "$@"
