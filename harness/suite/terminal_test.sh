#!/usr/bin/env bash
# The live status line in a real terminal: tmux, 80 columns. A run must
# leave no trail of it (a line that fills the last column wraps, "\r" then
# returns only to its second row, and every redraw left a copy: 22 in one
# run), mark the moment the signal went out, end with the tally line, and,
# interrupted with Ctrl-C, erase the status line and say so.
#   terminal_test.sh GRACECHECK SOURCE_DIR
set -euo pipefail
gracecheck=$1 src=$2
tmp=$(mktemp -d)
panes=0 sock=""
cleanup() {
  local i
  for ((i = 1; i <= panes; i++)); do tmux -L "gc-terminal-test-$$-$i" kill-server 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "terminal_test: $*" >&2; echo "--- the pane:" >&2; cat "$tmp/pane" >&2; exit 1; }

# Runs `command` in a new 80x60 pane; `then` (tmux keys) once `when`
# (a regex) shows in it; waits for the command's exit; the pane in $tmp/pane.
pane() {
  local command=$1 when=${2:-} then=${3:-}
  panes=$((panes + 1))
  sock=gc-terminal-test-$$-$panes  # a server of its own for each pane
  tmux -L "$sock" new-session -d -x 80 -y 60 -s t \
    "cd '$src' && TERM=xterm $command; echo EXIT=\$?; sleep 120"
  local sent="" i
  for ((i = 0; i < 1200; i++)); do
    tmux -L "$sock" capture-pane -p -t t > "$tmp/pane"
    if [[ -n "$when" && -z "$sent" ]] && grep -Eq "$when" "$tmp/pane"; then
      tmux -L "$sock" send-keys -t t $then
      sent=1
    fi
    grep -q '^EXIT=' "$tmp/pane" && return 0
    sleep 0.1
  done
  fail "the command did not end within 120 s"
}

pane "'$gracecheck' run scenarios/sigterm-mid-load.yaml"
grep -q '^EXIT=0$' "$tmp/pane" || fail "the run did not pass"
! grep -Eq 'done, [0-9]+ in flight' "$tmp/pane" || fail "the status line left a copy behind"
grep -Eq '^  first signal sent at 2\.[0-9][0-9]s$' "$tmp/pane" || fail "the signal is not marked"
grep -Eq '^gracecheck: 1 run in [0-9.]+s: 1 passed, 0 failed, 0 errors; ' "$tmp/pane" ||
  fail "no tally line"

# Ctrl-C while the status line is drawn.
pane "'$gracecheck' run scenarios/sigterm-mid-load.yaml" 'done, [0-9]+ in flight' C-c
grep -q '^EXIT=130$' "$tmp/pane" || fail "Ctrl-C did not end it with 130"
! grep -Eq 'done, [0-9]+ in flight' "$tmp/pane" || fail "the status line stayed after Ctrl-C"
grep -q '^gracecheck: interrupted by SIGINT' "$tmp/pane" || fail "it did not say it was interrupted"
echo "terminal_test: ok"
