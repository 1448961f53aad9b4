#!/bin/sh
# Builds mpa_core and the `mpa` CLI on a GPU server that has a CUDA build of PyTorch but no
# Qt or OpenCV development files and maybe no network (see design.md).
#
# 1. On a Debian 12 machine with network:   sh packaging/build-gpu-server.sh download debs/
#    (downloads the .deb files the core needs into debs/, without installing them)
# 2. Copy the repository and debs/ to the server, then:
#                                            sh packaging/build-gpu-server.sh build debs/
#    The .debs are unpacked with dpkg -x into build-gpu/prefix (nothing is installed), CMake is
#    pointed at that prefix and at the CUDA libtorch inside the server's PyTorch
#    (python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'), BUILD_GUI=OFF.
set -eu
cd "$(dirname "$0")/.."
MODE="${1:-}"
DEBS="${2:-debs}"
PACKAGES="qt6-base-dev qt6-base-dev-tools libqt6core6 libqt6sql6 libqt6sql6-sqlite libqt6network6 libqt6dbus6
  libopencv-dev libopencv-core-dev libopencv-core406 libopencv-imgproc-dev libopencv-imgproc406
  libopencv-imgcodecs-dev libopencv-imgcodecs406 libdouble-conversion3 libpcre2-16-0 libb2-1 libmd4c0
  libicu72 libzstd1 libgdal32 libtbb12"

case "$MODE" in
download)
  mkdir -p "$DEBS"
  # shellcheck disable=SC2086
  (cd "$DEBS" && apt-get download $PACKAGES)
  echo "downloaded into $DEBS; copy it to the server" >&2
  ;;
build)
  PREFIX="$(pwd)/build-gpu/prefix"
  mkdir -p "$PREFIX"
  for deb in "$DEBS"/*.deb; do dpkg -x "$deb" "$PREFIX"; done
  TORCH_CMAKE="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
  export LD_LIBRARY_PATH="$PREFIX/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DBUILD_GUI=OFF -DBUILD_TESTING=OFF -DMPA_BUILD_BENCH=ON \
    -DCMAKE_PREFIX_PATH="$PREFIX/usr/lib/x86_64-linux-gnu/cmake;$PREFIX/usr;$TORCH_CMAKE" \
    -DQT_HOST_PATH="$PREFIX/usr" -DCMAKE_FIND_ROOT_PATH="$PREFIX"
  cmake --build build-gpu -j "$(nproc)"
  echo "built build-gpu/app/mpa; run with LD_LIBRARY_PATH=$PREFIX/usr/lib/x86_64-linux-gnu" >&2
  ;;
*)
  echo "usage: $0 download DIR | build DIR" >&2
  exit 2
  ;;
esac
