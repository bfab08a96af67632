#!/bin/sh
# An entrypoint that starts the server as its child and forwards SIGTERM and
# SIGINT to it (what an entrypoint that cannot exec must do), then exits with
# the server's status. gracecheck signals this shell; the server serves.
#   forwarding_wrapper.sh SERVER [ARG...]
"$@" &
child=$!
trap 'kill -TERM "$child"' TERM
trap 'kill -INT "$child"' INT
wait "$child"  # returns early, above 128, when a trapped signal arrives
status=$?
if kill -0 "$child" 2>/dev/null; then
  wait "$child"
  status=$?
fi
exit "$status"
