#!/usr/bin/env bash
# `gracecheck run --out DIR` end to end (needs PostgreSQL's binaries and
# refapi): DIR gets every report (report.json, report.html, report.md,
# junit.xml) and each run's dir its request records and logs; JUnit
# validates; and `gracecheck report DIR/report.json` renders the very same
# files, because the run renders its reports from that JSON too.
#   out_dir_test.sh GRACECHECK SOURCE_DIR XMLLINT
set -euo pipefail
gracecheck=$1 source=$2 xmllint=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "out_dir_test: $*" >&2; exit 1; }

out="$tmp/out"
"$gracecheck" run "$source/scenarios/sigterm-mid-load.yaml" --seed 11 --out "$out" \
    > "$tmp/console.txt" 2> "$tmp/stderr.txt" \
  || { cat "$tmp/console.txt" "$tmp/stderr.txt" >&2; fail "the run failed"; }
for f in report.json report.html report.md junit.xml postgresql.json \
         sigterm-mid-load-target-1/requests.jsonl sigterm-mid-load-target-1/target.stderr; do
  [ -s "$out/$f" ] || fail "$f missing or empty in --out"
done
"$xmllint" --noout --schema "$source/reports/testdata/junit.xsd" "$out/junit.xml" \
  || fail "junit.xml is not valid"
requests=$(wc -l < "$out/sigterm-mid-load-target-1/requests.jsonl")
grep -q "\"requests\": $requests," "$out/report.json" \
  || fail "requests.jsonl has $requests lines; report.json says otherwise"

"$gracecheck" report "$out/report.json" --html "$tmp/r.html" --markdown "$tmp/r.md" \
    --junit "$tmp/junit.xml" --console > "$tmp/console-again.txt"
cmp "$tmp/r.html" "$out/report.html" || fail "report.html differs when rendered from report.json"
cmp "$tmp/r.md" "$out/report.md" || fail "report.md differs when rendered from report.json"
cmp "$tmp/junit.xml" "$out/junit.xml" || fail "junit.xml differs when rendered from report.json"
# The console report too (without the run's own lines about the target's output).
cmp "$tmp/console-again.txt" "$tmp/console.txt" || fail "the console report differs"
echo "out_dir_test: ok"
