#!/usr/bin/env bash
# Installs what is missing, builds sockscope with its tests and runs the whole suite
# (the GUI tests under Xvfb when there is no display).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
cmake --preset debug >/dev/null
cmake --build --preset debug -j "$(nproc)"
if [ -z "${DISPLAY:-}" ]; then
  # -noreset: by default Xvfb resets when its last client leaves, and a GUI test that
  # connects during the reset fails with "cannot open display".
  exec xvfb-run -a -s "-screen 0 1920x1080x24 -noreset" ctest --preset debug -j "$(nproc)" "$@"
fi
exec ctest --preset debug -j "$(nproc)" "$@"
