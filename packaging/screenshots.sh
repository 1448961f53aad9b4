#!/bin/sh
# Saves a screenshot of each mpa-studio view under Xvfb (README shows them from
# resources/screenshots). The workspace is built with the real pipeline from bundled data only:
# the demo images and question-answer pairs, the Parity Identifier run with two small random
# models (so the outcomes are real but meaningless until the demo models exist), and a short
# alignment. Only the tokenizer comes from the fixtures.
set -eu
cd "$(dirname "$0")/.."
sh packaging/install-deps.sh
sh packaging/build.sh
FIX="${MPA_FIXTURES_DIR:-$(pwd)/../shared/fixtures}"
OUT="${1:-resources/screenshots}"
WS="build/screenshots-ws.mpaw"
MPA=build/app/mpa
rm -rf "$WS" build/screenshots-model build/screenshots-large
mkdir -p "$OUT"
$MPA init "$WS"
$MPA import "$WS" --images resources/demo/images
$MPA import "$WS" --dataset llava resources/demo/pairs.json --image-root resources/demo/images --task chart
$MPA create-random-model build/screenshots-model --tokenizer "$FIX/qwen2-tokenizer" --hidden 64 --seed 2
$MPA create-random-model build/screenshots-large --tokenizer "$FIX/qwen2-tokenizer" --hidden 64 --seed 1
$MPA identify "$WS" --large build/screenshots-large --small build/screenshots-model --max-new-tokens 6
$MPA align "$WS" --model build/screenshots-model --select all --grad-accum 1 --epochs 20 --lr 0.002 --warmup 0.1
for view in browser review runs samples; do
  xvfb-run -a -s "-screen 0 1280x800x24" build/app/mpa-studio "$WS" --view "$view" --screenshot "$OUT/$view.png"
done
echo "screenshots in $OUT" >&2
