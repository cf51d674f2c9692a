#!/usr/bin/env bash
# Runs raft-demo with the given arguments, shows its output and ends with
# "raft-demo exit status N" (the tests match it with FAIL_REGULAR_EXPRESSION,
# since a PASS_REGULAR_EXPRESSION alone makes CTest ignore the exit code).
# Usage: run_demo.sh RAFT_DEMO ARGS...
set -uo pipefail
"$@" 2>&1
rc=$?
echo "raft-demo exit status $rc"
exit $rc
