#!/usr/bin/env bash
# Builds the headless program and its tests with sanitizers and runs them:
# AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer), then ThreadSanitizer.
# Any report fails the run. The GUI tests run in scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
jobs="$(nproc)"
common=(-DCMAKE_BUILD_TYPE=Debug -DSOCKSCOPE_BUILD_GUI=OFF -DSOCKSCOPE_BUILD_BENCHMARKS=OFF)

asan="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B build/sanitize-address "${common[@]}" -DCMAKE_CXX_FLAGS="$asan" -DCMAKE_C_FLAGS="$asan" >/dev/null
cmake --build build/sanitize-address -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/sanitize-address -j "$jobs" --output-on-failure

# ThreadSanitizer runs a thread of its own, and unshare(CLONE_NEWUSER) refuses a
# threaded process: the tests that enter a private user namespace cannot run under it.
tsan="-fsanitize=thread"
cmake -S . -B build/sanitize-thread "${common[@]}" -DCMAKE_CXX_FLAGS="$tsan" -DCMAKE_C_FLAGS="$tsan" \
  -DCMAKE_EXE_LINKER_FLAGS="$tsan" >/dev/null
cmake --build build/sanitize-thread -j "$jobs"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build/sanitize-thread -j "$jobs" --output-on-failure -E 'Unprivileged'
