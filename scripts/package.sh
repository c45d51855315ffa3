#!/usr/bin/env bash
# Builds sockscope's Debian package, build/package/sockscope_VERSION_ARCH.deb (CPack DEB:
# a release build installed in /usr with Debian's hardening flags). Installs what is
# missing first. Then: sudo apt install ./build/package/sockscope_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --package
build=build/package
# Debian's flags (hardening: fortify, stack protector, relro, now, PIE).
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DSOCKSCOPE_BUILD_TESTS=OFF -DSOCKSCOPE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
rm -f "$build"/sockscope_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
ls "$build"/sockscope_*.deb
