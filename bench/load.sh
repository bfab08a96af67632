#!/usr/bin/env bash
# Benchmark: gracecheck's load generator against wrk, on the same target in
# the same run, and the memory each recorded request costs.
#
#  1. Throughput, closed model: CONNS connections as fast as refapi answers
#     GET /healthz for SECONDS, gracecheck (recording and classifying every
#     request) then wrk, alternated ROUNDS times. The generator is pinned to
#     CPU 0 and refapi to CPU 1 (taskset), so the generators' own cost is what
#     differs. Prints requests/s of each and the ratio (medians).
#  2. Memory per recorded request: peak RSS of `gracecheck run` (VmHWM) over
#     a long closed-model run, minus that of a run with 1/10 the requests,
#     divided by the difference in requests.
#
#   bench/load.sh [SECONDS] [CONNS] [ROUNDS]      (default 5 50 3)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
conns=${2:-50}
rounds=${3:-3}
build=${BUILD_DIR:-build}
cmake --build "$build" --target gracecheck refapi >/dev/null
command -v wrk >/dev/null || { echo "bench/load.sh: wrk not found (apt-get install wrk)" >&2; exit 3; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() { [ -n "${refapi_pid:-}" ] && kill "$refapi_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

scenario() {  # scenario NAME DURATION CONNS SIGTERM_AT -> a closed-model scenario, refapi on CPU 1
  cat > "$tmp/$1.yaml" <<YAML
name: $1
target:
  command: ["taskset", "-c", "1", "{refapi}", "--listen", "127.0.0.1:{port}", "--db", "{database_url}"]
load:
  model: closed
  connections: $3
  duration: $2
  requests:
    - { method: GET, path: /healthz }
faults:
  - { at: $4, send: SIGTERM }
expect:
  exit: { code: 0, within: 5s }
YAML
}
gracecheck_rps() {  # gracecheck_rps SCENARIO -> requests/s as recorded
  taskset -c 0 "$build/bin/gracecheck" run "$tmp/$1.yaml" --json "$tmp/$1.json" >/dev/null 2>&1 || true
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]; print(round(r["summary"]["requests_per_second"]))' "$tmp/$1.json"
}

# 1. Throughput.
scenario tput "${seconds}s" "$conns" "$((seconds * 1000 + 200))ms"
# wrk needs a refapi of its own, on CPU 1 too, with a database.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/bin/gracecheck" with-db -- taskset -c 1 "$build/bin/refapi" --listen "127.0.0.1:$port" \
  --db '{database_url}' > "$tmp/refapi.log" 2>&1 &
refapi_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
g=() w=()
for i in $(seq "$rounds"); do
  g+=("$(gracecheck_rps tput)")
  w+=("$(taskset -c 0 wrk -t1 -c"$conns" -d"${seconds}s" "http://127.0.0.1:$port/healthz" |
         awk '/Requests\/sec/ {printf "%d", $2}')")
  echo "bench/load.sh: round $i: gracecheck ${g[-1]} req/s, wrk ${w[-1]} req/s" >&2
done
kill -INT "$refapi_pid"; wait "$refapi_pid" 2>/dev/null || true; refapi_pid=
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
gm=$(median "${g[@]}") wm=$(median "${w[@]}")

# 2. Memory per recorded request: VmHWM of gracecheck itself, long run vs short run.
hwm() {  # hwm SCENARIO -> "peak_kb requests"
  taskset -c 0 "$build/bin/gracecheck" run "$tmp/$1.yaml" --json "$tmp/$1.json" >/dev/null 2>&1 &
  local pid=$! peak=0 kb
  while kill -0 "$pid" 2>/dev/null; do
    kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$peak" ] && peak=$kb
    sleep 0.2
  done
  wait "$pid" || true
  echo "$peak $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["summary"]["requests"])' "$tmp/$1.json")"
}
long=$((seconds * 6))
scenario memlong "${long}s" 32 "$((long * 1000 + 200))ms"
short=$(( (long + 9) / 10 ))
scenario memshort "${short}s" 32 "$((short * 1000 + 200))ms"
read -r kb_long n_long <<<"$(hwm memlong)"
read -r kb_short n_short <<<"$(hwm memshort)"
per=$(python3 -c "print(round(($kb_long - $kb_short) * 1024 / max(1, $n_long - $n_short), 1))")

printf '\n%-44s %12s %12s %8s\n' "measure" "gracecheck" "wrk" "ratio"
printf '%-44s %12s %12s %8s\n' "closed model, $conns conns, /healthz, req/s (median of $rounds)" \
  "$gm" "$wm" "$(python3 -c "print(f'{$gm/$wm:.2f}x')")"
printf '%-44s %12s\n' "peak RSS, ${long}s run ($n_long requests)" "$((kb_long / 1024)) MiB"
printf '%-44s %12s\n' "peak RSS, short run ($n_short requests)" "$((kb_short / 1024)) MiB"
printf '%-44s %12s\n' "memory per recorded request (bytes)" "$per"
