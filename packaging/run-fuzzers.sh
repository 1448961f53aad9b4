#!/bin/sh
# Builds the libFuzzer targets (clang) and runs each for a fixed number of inputs from a fixed
# seed, starting from small real files: the same runs every time, so CI is repeatable. Fails on
# a crash, an address or undefined-behaviour report, a leak, a timeout or memory over 2 GB.
# MPA_FUZZ_RUNS (default 20000) sets the inputs per target; longer hunts by hand:
#   build-fuzz/fuzz_tokenizer_json -max_total_time=600 DIR
set -eu
cd "$(dirname "$0")/.."
RUNS="${MPA_FUZZ_RUNS:-20000}"
FIX="${MPA_FIXTURES_DIR:-$(pwd)/../shared/fixtures}"
sh packaging/build-fuzzers.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tok" "$work/cfg" "$work/ds" "$work/st"
# Seeds: the smallest real files of each kind (any valid file of the format would do).
[ -f "$FIX/smolvlm-tiny/tokenizer.json" ] && cp "$FIX/smolvlm-tiny/tokenizer.json" "$work/tok/smolvlm-tiny"
for f in "$FIX"/*/config.json; do [ -f "$f" ] && cp "$f" "$work/cfg/$(basename "$(dirname "$f")")"; done
[ -d "$FIX/mpa-official" ] && find "$FIX/mpa-official" -name '*.json' -size -20k | sort | head -8 | while read -r f; do cp "$f" "$work/ds/"; done
printf '\000\000\000\000\000\000\000\000{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' > "$work/st/one"
printf '{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}}' > "$work/tok/minimal"
printf '[{"id":1,"image":"a.png","conversations":[{"from":"human","value":"<image>\\nq"},{"from":"gpt","value":"a"}]}]' > "$work/ds/llava"
for pair in tok:fuzz_tokenizer_json cfg:fuzz_config_json ds:fuzz_dataset_json st:fuzz_safetensors_header; do
  dir=${pair%%:*}
  target=${pair#*:}
  if ! "build-fuzz/$target" -seed=1 -runs="$RUNS" -rss_limit_mb=2048 -timeout=20 -artifact_prefix="$work/" "$work/$dir" > "$work/$target.log" 2>&1; then
    tail -40 "$work/$target.log" >&2
    echo "run-fuzzers: $target failed; the input is in $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -1)" >&2
    exit 1
  fi
  echo "run-fuzzers: $target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$work/$target.log")" >&2
done
