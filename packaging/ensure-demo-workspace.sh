#!/bin/sh
# Makes build/demo.mpaw once (the whole MPA loop on the demo world with the shipped demo models,
# progress on the terminal); a half-made one (an interrupted first run) is started over. Used by
# run-demo.sh and screenshots.sh after the build.
set -eu
cd "$(dirname "$0")/.."
WS="build/demo.mpaw"
if [ ! -f "$WS/demo-complete" ]; then
  rm -rf "$WS"
  build/app/mpa demo run "$WS" --seed 1
  touch "$WS/demo-complete"
fi
