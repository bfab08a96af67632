#!/usr/bin/env bash
# Sanitizer builds of everything (gracecheck, refapi, the tests), each running
# the unit tests and end-to-end runs of real scenarios against refapi on the
# embedded PostgreSQL. Any report fails the step (halt_on_error).
#   ci/sanitizers.sh asan    AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer)
#   ci/sanitizers.sh tsan    ThreadSanitizer
#   ci/sanitizers.sh         both, one after the other
# Builds into build-asan/ and build-tsan/ (about 10 min each on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh

# The end-to-end part: scenarios that exercise every thread of the harness
# (load, probes, fault scheduler, log watch, reaper) and refapi's drain.
e2e_scenarios=(scenarios/sigterm-mid-load.yaml scenarios/sigterm-keepalive-storm.yaml
               scenarios/terminate-backends-mid-load.yaml)

run_one() {
  local kind=$1 flags build
  case "$kind" in
    asan) flags=address,undefined ;;
    tsan) flags=thread ;;
    *) echo "ci/sanitizers.sh: unknown sanitizer '$kind' (asan or tsan)" >&2; exit 2 ;;
  esac
  build=${BUILD_PREFIX:-build}-$kind
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRACECHECK_WERROR=ON \
    -DGRACECHECK_SANITIZE="$flags" >/dev/null
  cmake --build "$build" -j "${JOBS:-$(nproc)}"
  export ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  # refapi's suppressions: the uninstrumented libcpp-httplib (target/tsan.supp).
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/target/tsan.supp"
  (cd "$build" && ctest --output-on-failure --timeout 600 -L unit)
  # A sanitizer report in gracecheck, or in refapi, ends that process with a
  # non-zero status: a run that exits other than 0 (pass) fails this step,
  # and the report is in the output (refapi's: in the run's target output).
  local out
  out=$(mktemp -d)
  for s in "${e2e_scenarios[@]}"; do
    echo "ci/sanitizers.sh: $kind: $s"
    if ! "$build/bin/gracecheck" run "$s" --out "$out/$(basename "$s" .yaml)"; then
      grep -rl "Sanitizer" "$out" | while read -r f; do echo "--- $f"; grep -A40 "Sanitizer" "$f"; done
      rm -rf "$out"
      echo "ci/sanitizers.sh: $kind: $s failed" >&2
      exit 1
    fi
  done
  if grep -rl "Sanitizer" "$out"; then
    echo "ci/sanitizers.sh: $kind: a sanitizer reported in the files above" >&2
    rm -rf "$out"
    exit 1
  fi
  rm -rf "$out"
  echo "ci/sanitizers.sh: $kind: clean"
}

kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(asan tsan)
for k in "${kinds[@]}"; do run_one "$k"; done
