#!/bin/sh
# Builds the .deb, installs it on this machine with its dependencies, and runs the installed
# CLI: `mpa --version`, a tiny workspace end to end (demo world, stats, export) and the whole
# MPA loop in small with the installed demo models.
set -eu
cd "$(dirname "$0")/.."
sh packaging/install-deps.sh
if ! dpkg-query -W -f='${Status}' dpkg-dev 2>/dev/null | grep -q "install ok installed"; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpkg-dev   # dpkg-shlibdeps for the dependencies
fi
sh packaging/build.sh
(cd build && cpack -G DEB)
DEB="$(ls -t build/mpa-studio_*.deb | head -1)"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "./$DEB"
echo "installed $DEB" >&2
/usr/bin/mpa --version
/usr/bin/mpa --help | head -5
TMP="$(mktemp -d)"
/usr/bin/mpa demo create "$TMP/tiny" --pool 3 --test 2
/usr/bin/mpa stats "$TMP/tiny"
/usr/bin/mpa export "$TMP/tiny" --format jsonl --select all "$TMP/all.jsonl"
# The installed demo models (share/mpa-studio/demo-models) through the whole loop, in small.
/usr/bin/mpa demo run "$TMP/loop" --pool 6 --test 4 --epochs 1 --no-comparisons
test -f /usr/share/applications/mpa-studio.desktop
test -f /usr/share/metainfo/io.github.mpastudio.MpaStudio.metainfo.xml
rm -rf "$TMP"
echo "test-deb: the installed package works" >&2
