#!/usr/bin/env bash
# Every benchmark, one table: installs what it needs (Debian packages via
# ci/install-deps.sh --bench: wrk, nginx), builds gracecheck and refapi
# (RelWithDebInfo, as CI), and runs bench/run.py. About 8 minutes on 2 cores.
#   bench/run.sh            the full run
#   bench/run.sh --quick    short runs, one round (a smoke test, ~2 minutes)
#   bench/run.sh --only 1,3 some sections (see bench/run.py)
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh --bench
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target gracecheck refapi
BUILD_DIR="$build" exec python3 bench/run.py "$@"
