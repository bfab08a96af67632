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

# render REPORT OUT_DIR: every format of REPORT into OUT_DIR; sets $status.
render() {
  mkdir -p "$2"
  set +e
  "$gracecheck" report "$1" --html "$2/r.html" --junit "$2/junit.xml" --markdown "$2/r.md" \
      --console > "$2/console.txt"
  status=$?
  set -e
}

# The initial v1 report predates two of the checks the fixture now runs.
for report in report.json report_v1_initial.json; do
  checks=13
  [ "$report" = report.json ] || checks=10
  out="$tmp/${report%.json}"
  render "$testdata/$report" "$out"
  [ "$status" -eq 1 ] || fail "$report: exit $status, expected 1 (a run failed)"
  grep -q "^FAIL: 7 of $checks checks failed" "$out/console.txt" || fail "$report: no FAIL line"
  if [ "$report" = report.json ]; then
    # threads.growth: the fixture's signal comes during the load.
    grep -q "^PASS: 12 passed, 1 skipped (threads.growth)" "$out/console.txt" \
      || fail "$report: no PASS line"
  else
    # Written before "status": a check read back passed or failed.
    grep -q "^PASS: $checks checks passed" "$out/console.txt" || fail "$report: no PASS line"
  fi
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

# A report with an invalid run (a harness error): exit 3, whatever the
# other runs say, and every format says ERROR with the reasons.
out="$tmp/error"
render "$testdata/report_error.json" "$out"
[ "$status" -eq 3 ] || fail "report_error.json: exit $status, expected 3 (an invalid run)"
grep -q "^ERROR: invalid run: the harness failed" "$out/console.txt" || fail "no ERROR line"
grep -q "^  - the database monitor connection was lost" "$out/console.txt" || fail "no reason"
"$xmllint" --noout --schema "$testdata/junit.xsd" "$out/junit.xml" || fail "error JUnit invalid"
grep -q '<error type="harness" message="invalid run: the database monitor' "$out/junit.xml" \
  || fail "no <error> in the JUnit report"
grep -q '^## ⚠️ gracecheck: 1 of 2 runs invalid (harness error)' "$out/r.md" \
  || fail "no error headline in Markdown"
grep -q '<span class="badge error">ERROR</span>' "$out/r.html" || fail "no ERROR badge in HTML"

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
