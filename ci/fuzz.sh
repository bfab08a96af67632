#!/usr/bin/env bash
# Fuzzes the scenario parser and the HTTP response parser with libFuzzer
# (clang, ASan+UBSan) for a bounded time each; any crash, sanitizer report,
# leak or broken invariant fails the script and leaves the input in
# build-fuzz/findings/. The corpus kept in harness/fuzz/corpus/ (plus every
# shipped and test scenario) seeds each run; new coverage found is merged
# back into a copy, so that `FUZZ_KEEP=1` can refresh the checked-in corpus.
#   ci/fuzz.sh [SECONDS_PER_TARGET]     (default 120)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
ci/install-deps.sh --fuzz
build=${BUILD_DIR:-build-fuzz}
CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGRACECHECK_FUZZ=ON >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/findings"
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

for target in scenario_fuzz http_response_fuzz; do
  kept=harness/fuzz/corpus/${target%_fuzz}
  mkdir -p "$work/$target"
  cp "$kept"/* "$work/$target"/ 2>/dev/null || true
  if [ "$target" = scenario_fuzz ]; then
    find scenarios -name '*.yaml' -exec cp {} "$work/$target"/ \;
  fi
  before=$(ls "$work/$target" | wc -l)
  echo "ci/fuzz.sh: $target for ${seconds}s from $before inputs"
  # -timeout: an input that takes over 5 s is a hang; -rss_limit_mb: a blow-up.
  "$build/bin/$target" "$work/$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
    -max_len=8192 -artifact_prefix="$build/findings/$target-" -print_final_stats=1 \
    > "$work/$target.log" 2>&1 || {
      tail -60 "$work/$target.log"
      echo "ci/fuzz.sh: $target found a problem: $(ls "$build/findings" | grep "^$target-")" >&2
      exit 1
    }
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$work/$target.log" | sed "s/^/  /"
  echo "ci/fuzz.sh: $target: $(ls "$work/$target" | wc -l) inputs in the corpus after the run, no crash"
  if [ "${FUZZ_KEEP:-0}" = 1 ]; then
    mkdir -p "$kept.new"
    "$build/bin/$target" -merge=1 "$kept.new" "$work/$target" > /dev/null 2>&1
    rm -rf "$kept" && mv "$kept.new" "$kept"
    echo "ci/fuzz.sh: $target: kept $(ls "$kept" | wc -l) inputs in $kept"
  fi
done
