#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/) with clang in build/fuzz, runs every input of
# fuzz/regressions/<harness>/ and fuzz/corpus/<harness>/ once, then fuzzes each harness
# for SECONDS (default 30). New corpus entries go to a temporary directory, never into
# the repository. Any crash, sanitizer report or broken invariant fails the run and
# keeps the input that caused it (its path is printed): fix the bug, then add the input
# to fuzz/regressions/<harness>/.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS]   (seconds of fuzzing per harness, default 30)" >&2
  exit 2
fi

# What configuring sockscope needs, then clang and its libFuzzer runtime (only a
# recommendation of clang's, so named here).
scripts/setup.sh
clang_packages=(clang libclang-rt-dev)
missing=()
for p in "${clang_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "sockscope: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build=build/fuzz
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSOCKSCOPE_BUILD_FUZZERS=ON -DSOCKSCOPE_BUILD_GUI=OFF -DSOCKSCOPE_BUILD_TESTS=OFF \
  -DSOCKSCOPE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" --target sockscope_fuzzers -j "$(nproc)"

# One harness per seed corpus: fuzz/corpus/<harness>/ goes with build/fuzz/fuzz/fuzz_<harness>.
harnesses=()
for dir in fuzz/corpus/*/; do
  harnesses+=("$(basename "$dir")")
done

work="$(mktemp -d "${TMPDIR:-/tmp}/sockscope-fuzz.XXXXXX")"
keep_work=0
trap '[ "$keep_work" -eq 1 ] || rm -rf "$work"' EXIT

dictionary()
{
  case "$1" in
    lesson | json_positions) echo "-dict=fuzz/json.dict" ;;
  esac
}

fail()
{
  keep_work=1
  echo "fuzz: $1" >&2
  echo "fuzz: its log is $2; inputs that crashed are kept in $work" >&2
  tail -n 60 "$2" >&2
  exit 1
}

# First every known input once: regressions must stay fixed, seeds must run clean.
for h in "${harnesses[@]}"; do
  bin="$build/fuzz/fuzz_$h"
  inputs=()
  for f in fuzz/regressions/"$h"/* fuzz/corpus/"$h"/*; do
    [ -f "$f" ] && inputs+=("$f")
  done
  [ ${#inputs[@]} -gt 0 ] || continue # with no file to run, the binary would fuzz instead
  log="$work/$h-inputs.log"
  mkdir -p "$work/$h"
  if ! "$bin" -artifact_prefix="$work/$h/" "${inputs[@]}" >"$log" 2>&1; then
    fail "$h: a regression or seed input fails" "$log"
  fi
  echo "fuzz: $h: ${#inputs[@]} regression and seed inputs run clean"
done

# Then each harness for the bounded time, starting from its seeds.
for h in "${harnesses[@]}"; do
  bin="$build/fuzz/fuzz_$h"
  mkdir -p "$work/$h/corpus"
  log="$work/$h-fuzz.log"
  # shellcheck disable=SC2046 # the dictionary option is one word or none
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/$h/" $(dictionary "$h") "$work/$h/corpus" "fuzz/corpus/$h" >"$log" 2>&1; then
    fail "$h: fuzzing found a crash" "$log"
  fi
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  status="$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' || true)"
  echo "fuzz: $h: ${seconds} s, ${execs:-?} executions, no crash (${status:-no status line})"
done
