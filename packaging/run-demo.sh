#!/bin/sh
# The README's first command: install what is missing, build, and open mpa-studio on the demo
# workspace. On the first run the whole MPA loop runs on the synthetic demo world with the
# shipped demo models (resources/demo/models): pseudo pairs, parity outcomes, a scripted review,
# evaluations, an alignment run and the paper's comparisons (a few minutes on 2 CPU cores, with
# progress on the terminal); later runs reuse it. Without a display (a server, CI) the window
# is rendered under Xvfb to build/studio.png.
set -eu
cd "$(dirname "$0")/.."
sh packaging/install-deps.sh
sh packaging/build.sh

WS="build/demo.mpaw"
sh packaging/ensure-demo-workspace.sh
build/app/mpa demo report "$WS"

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec build/app/mpa-studio "$WS"
fi
echo "run-demo: no display; rendering the window under Xvfb to build/studio.png" >&2
xvfb-run -a -s "-screen 0 1280x800x24" build/app/mpa-studio "$WS" --screenshot build/studio.png
echo "run-demo: wrote build/studio.png" >&2
