#!/bin/sh
# Configures (once) and builds MPA Studio into build/ with Ninja, 2 jobs (a libtorch
# translation unit needs ~1.5 GB and 30-45 s; more jobs only thrash on 2 cores).
set -eu
cd "$(dirname "$0")/.."
JOBS="${MPA_BUILD_JOBS:-2}"
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_GUI=ON -DBUILD_TESTING=ON "$@"
fi
cmake --build build -j "$JOBS"
