#!/usr/bin/env bash
# Benchmark: how late do time-triggered faults fire, with the harness and the
# target both busy? 200 faults (SIGWINCH, which refapi ignores) 15 ms apart,
# under a closed-model load as fast as refapi answers, on this machine's two
# cores. Prints p50/p99/max of trigger-met -> signal-sent lag over all faults
# of all runs.  Usage: bench/fault_lag.sh [RUNS] (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
build=${BUILD_DIR:-build}
cmake --build "$build" --target gracecheck refapi >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  cat <<'YAML'
name: fault-lag-bench
description: 200 harmless signals 15 ms apart under full closed-model load.
target:
  command: ["{refapi}", "--listen", "127.0.0.1:{port}", "--db", "{database_url}"]
load:
  model: closed
  connections: 32
  duration: 3.5s
  requests:
    - { weight: 1, method: GET, path: /healthz }
faults:
YAML
  for i in $(seq 1 200); do
    printf '  - { name: "w%d", at: %dms, send: SIGWINCH }\n' "$i" $((200 + i * 15))
  done
  cat <<'YAML'
  - { at: 3.4s, send: SIGTERM }
expect:
  exit: { code: 0, within: 3s }
YAML
} > "$tmp/bench.yaml"
"$build/bin/gracecheck" run "$tmp/bench.yaml" --repeat "$runs" --json "$tmp/r.json" >/dev/null 2>&1 || true
python3 - "$tmp/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lags = sorted(f["lag_ms"] for run in r["runs"] for f in run["faults"] if f.get("lag_ms") is not None)
reqs = [run["summary"]["requests_per_second"] if "requests_per_second" in run.get("summary", {}) else None for run in r["runs"]]
def pct(p): return lags[min(len(lags) - 1, int(p * len(lags)))]
print(f"faults: {len(lags)} over {len(r['runs'])} runs; load {reqs} req/s")
print(f"lag p50 {pct(0.50)*1000:.1f} us, p90 {pct(0.90)*1000:.1f} us, p99 {pct(0.99)*1000:.1f} us, max {lags[-1]*1000:.1f} us")
PY
