#!/bin/sh
# Builds the libFuzzer targets into build-fuzz/ (clang; packaging/run-fuzzers.sh runs them).
set -eu
cd "$(dirname "$0")/.."
if ! command -v clang++ >/dev/null 2>&1; then
  echo "build-fuzzers: clang++ not found; install clang and libclang-rt-14-dev" >&2
  exit 1
fi
cmake -S tests/fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j 2 >/dev/null
echo "build-fuzzers: run e.g. build-fuzz/fuzz_tokenizer_json -max_total_time=60 (also fuzz_safetensors_header, fuzz_config_json, fuzz_dataset_json)" >&2
