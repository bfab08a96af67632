#!/usr/bin/env bash
# The test command: installs dependencies (Debian packages), builds with
# warnings as errors, and runs every test (labels: unit, pg). PostgreSQL is
# not expected to be running: the tests start their own clusters.
#   ci/test.sh              all tests
#   ci/test.sh -L unit      only the unit tests (any ctest arguments)
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRACECHECK_WERROR=ON
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure --timeout 300 "$@"
