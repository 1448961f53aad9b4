#!/bin/sh
# The README's first command: install what is missing, build, and open mpa-studio on the
# demo workspace (created on the first run from the synthetic demo world, then reused).
# Without a display (a server, CI) the window is rendered under Xvfb to build/studio.png.
set -eu
cd "$(dirname "$0")/.."
sh packaging/install-deps.sh
sh packaging/build.sh

WS="build/demo.mpaw"
if [ ! -f "$WS/workspace.sqlite" ]; then
  # Text in scenes, bar charts and shapes (deterministic), plus the bundled example pairs.
  build/app/mpa demo create "$WS" --seed 1 --pool 60 --test 20
  build/app/mpa import "$WS" --images resources/demo/images
  build/app/mpa import "$WS" --dataset llava resources/demo/pairs.json --image-root resources/demo/images --task chart
fi
build/app/mpa stats "$WS"

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec build/app/mpa-studio "$WS"
fi
echo "run-demo: no display; rendering the window under Xvfb to build/studio.png" >&2
xvfb-run -a -s "-screen 0 1280x800x24" build/app/mpa-studio "$WS" --screenshot build/studio.png
echo "run-demo: wrote build/studio.png" >&2
