#!/usr/bin/env bash
# Installs what is missing, builds sockscope with its tests and runs the whole suite
# (the GUI tests under Xvfb when there is no display).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
cmake --preset debug >/dev/null
cmake --build --preset debug -j "$(nproc)"
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1920x1080x24" ctest --preset debug -j "$(nproc)" "$@"
fi
exec ctest --preset debug -j "$(nproc)" "$@"
