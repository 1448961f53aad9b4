#!/bin/sh
# Installs the Debian 12 packages MPA Studio builds, runs and tests with. Idempotent: only
# missing packages are installed, and apt's index is refreshed only when something is missing.
set -eu

PACKAGES="cmake ninja-build g++ pkg-config
  qt6-base-dev libqt6sql6-sqlite libsqlite3-dev qt6-qpa-plugins qt6-httpserver-dev qt6-websockets-dev qt6-svg-dev
  libtorch-dev libopencv-dev libdnnl-dev
  libqcustomplot-dev libqcustomplot2.1-qt6
  libopenblas0-pthread
  xvfb xauth"
# The tests' libFuzzer targets (packaging/run-fuzzers.sh): clang and its sanitizer runtimes.
if [ "${1:-}" = "--with-fuzzers" ]; then
  PACKAGES="$PACKAGES clang libclang-rt-14-dev"
fi
# qt6-websockets-dev: Debian 12's Qt6HttpServer CMake package requires Qt6WebSockets but does not depend on it.
# libdnnl-dev: the header of the oneDNN libtorch already loads, called directly for the prefill and
# vision GEMMs (core/vlm/onednn_matmul.h).
# libopenblas0-pthread matters: Debian's default reference BLAS ran fp32 matmul at 4 GFLOP/s
# on the 2-core build machines, OpenBLAS at 80-105 GFLOP/s (libtorch uses the alternative).

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: missing packages:$missing; run as root or install sudo" >&2; exit 1
  fi
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q $missing
