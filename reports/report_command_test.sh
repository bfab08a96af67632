#!/usr/bin/env bash
# `gracecheck report RESULT.json` end to end, on the saved golden reports:
# it renders every format, exactly as the library renders the same report
# (the goldens), JUnit validates against the XSD, the exit code is the
# report's verdict, and what is not a report is refused with exit code 2.
#   report_command_test.sh GRACECHECK TESTDATA_DIR XMLLINT
set -euo pipefail
gracecheck=$1 testdata=$2 xmllint=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "report_command_test: $*" >&2; exit 1; }

# The initial v1 report predates two of the checks the fixture now runs.
for report in report.json report_v1_initial.json; do
  checks=12
  [ "$report" = report.json ] || checks=10
  out="$tmp/${report%.json}"
  mkdir -p "$out"
  set +e
  "$gracecheck" report "$testdata/$report" --html "$out/r.html" --junit "$out/junit.xml" \
      --markdown "$out/r.md" --console > "$out/console.txt"
  status=$?
  set -e
  [ "$status" -eq 1 ] || fail "$report: exit $status, expected 1 (a run failed)"
  grep -q "^FAIL: 7 of $checks checks failed" "$out/console.txt" || fail "$report: no FAIL line"
  grep -q "^PASS: $checks checks passed" "$out/console.txt" || fail "$report: no PASS line"
  "$xmllint" --noout --schema "$testdata/junit.xsd" "$out/junit.xml" \
      || fail "$report: JUnit invalid"
  grep -q '<svg' "$out/r.html" || fail "$report: no chart"
  grep -q '^## ❌ gracecheck: 1 of 2 runs failed' "$out/r.md" || fail "$report: no verdict line"
done

# The current golden report renders into the golden files, byte for byte.
cmp "$tmp/report/junit.xml" "$testdata/junit.xml" || fail "junit.xml differs from the golden"
cmp "$tmp/report/r.md" "$testdata/report.md" || fail "report.md differs from the golden"
cmp "$tmp/report/r.html" "$testdata/report.html" || fail "report.html differs from the golden"
cat "$testdata/console_pass.txt" "$testdata/console_fail.txt" | cmp - "$tmp/report/console.txt" \
  || fail "the console output differs from the goldens"

# Without an output, the console report.
"$gracecheck" report "$testdata/report.json" > "$tmp/default.txt" || true
cmp "$tmp/default.txt" "$tmp/report/console.txt" || fail "no console report by default"

# Not a report: exit 2 and one line naming the file.
echo '{"runs": []}' > "$tmp/other.json"
set +e
"$gracecheck" report "$tmp/other.json" 2> "$tmp/err.txt"
status=$?
set -e
[ "$status" -eq 2 ] || fail "not a report: exit $status, expected 2"
grep -q "gracecheck: error: $tmp/other.json: not a gracecheck report" "$tmp/err.txt" \
  || fail "not a report: $(cat "$tmp/err.txt")"
set +e
"$gracecheck" report "$tmp/missing.json" 2> "$tmp/err.txt"
status=$?
set -e
[ "$status" -eq 2 ] || fail "missing file: exit $status, expected 2"
echo "report_command_test: ok"
