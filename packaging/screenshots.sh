#!/bin/sh
# Saves a screenshot of each mpa-studio view under Xvfb (README shows them from
# resources/screenshots), on the demo workspace that run-demo.sh makes: the whole MPA loop on
# the synthetic demo world with the shipped demo models. Needs nothing outside the repository.
set -eu
cd "$(dirname "$0")/.."
sh packaging/install-deps.sh
sh packaging/build.sh
OUT="${1:-resources/screenshots}"
WS="build/demo.mpaw"
sh packaging/ensure-demo-workspace.sh
mkdir -p "$OUT"
for view in home browser images samples review runs models; do
  xvfb-run -a -s "-screen 0 1280x800x24" build/app/mpa-studio "$WS" --view "$view" --screenshot "$OUT/$view.png"
done
# The flip table of the student on demo-knowledge before (run 14) and after MPA (run 18): the
# demo loop always creates its runs in this order (see core/demo/demo_loop.cpp).
xvfb-run -a -s "-screen 0 1280x800x24" build/app/mpa-studio "$WS" --compare 14,18 --screenshot "$OUT/evaluation.png"
echo "screenshots in $OUT" >&2
