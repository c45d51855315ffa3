#!/usr/bin/env bash
# Installs what is missing, builds sockscope (release) and opens it. Arguments go to
# sockscope, e.g. scripts/run.sh --lesson no-accept --step 3
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release -DSOCKSCOPE_BUILD_TESTS=OFF >/dev/null
cmake --build --preset release -j "$(nproc)"
exec build/release/app/sockscope "$@"
