#!/usr/bin/env bash
# `gracecheck validate` and `gracecheck run` warn about a scenario that asks
# for a check it can never measure: one `file:line:col: warning: …` line at
# the key, on stderr; validate still exits 0, and no shipped scenario warns.
#   validate_command_test.sh GRACECHECK SOURCE_DIR
set -euo pipefail
gracecheck=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "validate_command_test: $*" >&2; exit 1; }
cd "$src"
warned=scenarios/testdata/warnings/growth-during-load.yaml
expected="$warned:16:14: warning: expect.threads.growth cannot be measured:"

set +e
"$gracecheck" validate "$warned" > "$tmp/out" 2> "$tmp/err"
status=$?
set -e
[ "$status" -eq 0 ] || fail "validate: exit $status, expected 0 (a warning is no error)"
grep -q "^1 scenario valid$" "$tmp/out" || fail "validate: $(cat "$tmp/out")"
[ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "validate: not one warning line: $(cat "$tmp/err")"
grep -qF "$expected" "$tmp/err" || fail "validate: $(cat "$tmp/err")"

"$gracecheck" validate scenarios/*.yaml > /dev/null 2> "$tmp/err" || fail "shipped: invalid"
[ ! -s "$tmp/err" ] || fail "a shipped scenario warns: $(cat "$tmp/err")"

# run prints the same warning before anything starts (here it then stops:
# the JSON report could not be written, exit 2, nothing run).
set +e
"$gracecheck" run "$warned" --json /nonexistent/dir/report.json > /dev/null 2> "$tmp/err"
status=$?
set -e
[ "$status" -eq 2 ] || fail "run: exit $status, expected 2 (unwritable report)"
grep -qF "$expected" "$tmp/err" || fail "run printed no warning: $(cat "$tmp/err")"
# A scenario that names a binary of its own ({mybin}) validates with the
# same --bin NAME=PATH that run takes, and says which placeholders it knows
# without it; the built targets ({go-fixed}) are known as for run.
cat > "$tmp/mybin.yaml" <<'YAML'
name: mybin
description: A target of the user's own.
target:
  command: ["{mybin}", "--port", "{port}"]
  ready: { http_get: /healthz }
faults:
  - { at: 1s, send: SIGTERM }
YAML
set +e
"$gracecheck" validate "$tmp/mybin.yaml" > /dev/null 2> "$tmp/err"
status=$?
set -e
[ "$status" -eq 2 ] || fail "validate without --bin: exit $status, expected 2"
grep -qF "mybin.yaml:4:14: target.command[0]: unknown placeholder {mybin}" "$tmp/err" ||
  fail "validate without --bin: $(cat "$tmp/err")"
"$gracecheck" validate "$tmp/mybin.yaml" --bin mybin=/usr/local/bin/myserver > "$tmp/out" 2> "$tmp/err" ||
  fail "validate --bin: $(cat "$tmp/err")"
grep -q "^1 scenario valid$" "$tmp/out" || fail "validate --bin: $(cat "$tmp/out")"

# --target NAME=CMD is checked as run would take it: its placeholders
# (with --bin), and one name per target.
"$gracecheck" validate scenarios/sigterm-idle.yaml --bin mybin=/usr/local/bin/myserver \
  --target 'mine={mybin} --port {port} --db {database_url}' > "$tmp/out" 2> "$tmp/err" ||
  fail "validate --target: $(cat "$tmp/err")"
grep -q "^1 scenario valid$" "$tmp/out" || fail "validate --target: $(cat "$tmp/out")"
# Runs "$@" with stderr in $tmp/err; its exit code in $status.
status_of() { set +e; "$@" > /dev/null 2> "$tmp/err"; status=$?; set -e; }
status_of "$gracecheck" validate scenarios/sigterm-idle.yaml --target 'mine={mybin} --port {port}'
[ "$status" -eq 2 ] || fail "validate --target {mybin} without --bin: exit $status, expected 2"
grep -qF "gracecheck: error: --target mine={mybin} --port {port}: " "$tmp/err" ||
  fail "validate --target {mybin} without --bin: $(cat "$tmp/err")"
grep -qF "{mybin}" "$tmp/err" || fail "the unknown placeholder is not named: $(cat "$tmp/err")"
status_of "$gracecheck" validate scenarios/sigterm-idle.yaml --target 'a={refapi}' \
  --target 'a={refapi} -v'
[ "$status" -eq 2 ] || fail "validate with a target name twice: exit $status, expected 2"
grep -qF "the name 'a' is already given to another --target" "$tmp/err" ||
  fail "validate with a target name twice: $(cat "$tmp/err")"
echo "validate_command_test: ok"
