#!/usr/bin/env bash
# raft-demo's command line: bad values end with exit 2 and one line on
# stderr that names the option; --help exits 0 and documents both modes.
# Usage: demo_usage.sh RAFT_DEMO
set -uo pipefail
demo="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

bad() { # expected-text args...
  local want="$1"
  shift
  local err rc
  err="$("$demo" "$@" 2>&1 >/dev/null)"; rc=$?
  [ "$rc" -eq 2 ] || fail "raft-demo $*: exit $rc, expected 2"
  [ "$(wc -l <<<"$err")" -eq 1 ] || fail "raft-demo $*: not one line: $err"
  grep -q -- "$want" <<<"$err" || fail "raft-demo $*: '$err' does not say '$want'"
}

bad "--mode must be kv or log" --mode raft
bad "--mode needs" --mode
bad "--clients must be between 1 and 64" --clients 0
bad "--clients takes a whole number" --clients many
bad "--seconds must be between 1 and 600" --seconds 0
bad "--max-raft-state must be between -1" --max-raft-state -2
bad "--nodes must be between 1 and 9" --nodes 10
bad "--commands belongs to --mode log" --commands 5
bad "--snapshot-bytes belongs to --mode log" --mode kv --snapshot-bytes 5
bad "--clients belongs to --mode kv" --clients 2 --mode log
bad "unknown argument" --frobnicate

out="$("$demo" --help)"; rc=$?
[ "$rc" -eq 0 ] || fail "--help: exit $rc"
for word in "--mode" "--clients" "--seconds" "--max-raft-state" "--history" \
            "--commands" "--snapshot-bytes" "--data-dir"; do
  grep -q -- "$word" <<<"$out" || fail "--help does not mention $word"
done

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
