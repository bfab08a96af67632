#!/usr/bin/env bash
# Regenerates docs/report.png: runs a real scenario against refapi on an
# embedded PostgreSQL, writes the HTML report, and renders it in headless
# Chromium. Look at the picture after a change to the HTML report or its
# chart (reports/html.cc, reports/timeline_chart.cc).
#   ci/screenshot-report.sh                       scenarios/sigterm-mid-load.yaml -> docs/report.png
#   ci/screenshot-report.sh SCENARIO.yaml OUT.png [gracecheck run options...]
# Installs what it needs (ci/install-deps.sh --screenshot) and builds into
# $BUILD_DIR (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."

scenario=${1:-scenarios/sigterm-mid-load.yaml}
png=${2:-docs/report.png}
shift $(( $# > 2 ? 2 : $# ))

ci/install-deps.sh --screenshot
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target gracecheck refapi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A fixed seed, so that the picture changes only when the code does. Exit
# code 1 (a check failed) still makes a picture; anything else is an error.
status=0
"$build/bin/gracecheck" run "$scenario" --seed 1 --html "$work/report.html" "$@" \
  > "$work/console.txt" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
  cat "$work/console.txt" >&2
  echo "ci/screenshot-report.sh: gracecheck run failed with exit code $status" >&2
  exit "$status"
fi

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "ci/screenshot-report.sh: chromium not found" >&2; exit 3; }
# No network, no profile of the user's, nothing running afterwards.
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$work/profile" --window-size="${WINDOW:-1400,1500}" \
  --screenshot="$work/report.png" "file://$work/report.html" 2>"$work/chromium.log" \
  || { cat "$work/chromium.log" >&2; exit 3; }
mkdir -p "$(dirname "$png")"
cp "$work/report.png" "$png"
echo "ci/screenshot-report.sh: wrote $png from a run of $scenario"
