#!/usr/bin/env bash
# Measured margins of the checks' thresholds: runs shipped scenarios against
# the correct refapi RUNS times each and prints, per threshold, the median and
# the worst value seen (bench/margins.py). docs/DESIGN.md ("Thresholds and
# their margins") quotes one run of it.
#   bench/margins.sh [RUNS] [SCENARIO.yaml...]   (default 20, every shipped one)
# With GRACECHECK_PG_URL set, on that server (external: no server log).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
shift || true
build=${BUILD_DIR:-build}
cmake --build "$build" --target gracecheck refapi >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(scenarios/*.yaml)
for s in "${scenarios[@]}"; do
  name=$(basename "$s" .yaml)
  # Exit 1 (a check failed) still has a report: the margins show which.
  "$build/bin/gracecheck" run "$s" --repeat "$runs" --json "$tmp/$name.json" \
    > "$tmp/$name.out" 2>&1 || [ $? -eq 1 ] || { cat "$tmp/$name.out" >&2; exit 1; }
  echo "margins: $name: $runs runs" >&2
done
python3 bench/margins.py "$tmp"/*.json
