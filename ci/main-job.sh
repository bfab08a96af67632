#!/usr/bin/env bash
# The main job: installs dependencies (Debian packages), builds, and runs the
# shipped scenario suite against the reference server refapi on an embedded
# PostgreSQL. Exit code: gracecheck's (0 all passed, 1 a check failed, 2 bad
# scenario, 3 infrastructure or an invalid run, 130 interrupted).
#   ci/main-job.sh                            every scenario in scenarios/
#   ci/main-job.sh scenarios/sigterm-mid-load.yaml   just one
# Reports and the target's logs go to out/ (report.html, report.md, junit.xml,
# report.json; one dir per run).
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target gracecheck refapi
if [ $# -eq 0 ]; then set -- scenarios/*.yaml; fi
exec "$build/bin/gracecheck" run "$@" --out out --json out/report.json
