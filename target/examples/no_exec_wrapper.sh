#!/bin/sh
# An entrypoint that neither execs the server nor forwards signals: the
# classic container bug. SIGTERM ends this shell at once (its default
# action); the server, its child, is never told and outlives it.
#   no_exec_wrapper.sh SERVER [ARG...]
"$@"
exit $?
