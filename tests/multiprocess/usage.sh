#!/usr/bin/env bash
# raft-node and raft-ctl command lines: bad usage exits 2 with one line on
# stderr; raft-ctl with no reachable node exits 3; a --config file is read
# (a bad line is named). Usage: usage.sh RAFT_NODE RAFT_CTL
set -u
NODE=$1
CTL=$2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/raft-usage.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0

expect() { # code what command...
  local want=$1 what=$2
  shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if [ $rc -ne "$want" ]; then
    echo "FAIL: $what: exit code $rc, expected $want"
    cat "$WORK/out" "$WORK/err"
    FAILED=1
  elif [ "$want" -eq 2 ] && [ "$(wc -l <"$WORK/err")" -ne 1 ]; then
    echo "FAIL: $what: expected one line on stderr, got:"
    cat "$WORK/err"
    FAILED=1
  else
    echo "ok: $what -> $rc: $(head -n 1 "$WORK/err")"
  fi
}

C=1=127.0.0.1:1,2=127.0.0.1:2
expect 2 "node: no flags" "$NODE"
expect 2 "node: unknown flag" "$NODE" --idd 1
expect 2 "node: id not in cluster" "$NODE" --id 3 --cluster $C --data-dir "$WORK/d"
expect 2 "node: bad cluster entry" "$NODE" --id 1 --cluster 1=nohost --data-dir "$WORK/d"
expect 2 "node: duplicate id" "$NODE" --id 1 --cluster 1=a:1,1=b:2 --data-dir "$WORK/d"
expect 2 "node: heartbeat >= election" "$NODE" --id 1 --cluster $C --data-dir "$WORK/d" --election-ms 100 --heartbeat-ms 100
expect 2 "node: bad scheduler policy" "$NODE" --id 1 --cluster $C --data-dir "$WORK/d" --scheduler-policy fast
expect 2 "node: missing --config file" "$NODE" --config "$WORK/none.ini"
printf 'id = 1\ncluster = %s\nthis is not a setting\n' "$C" >"$WORK/bad.ini"
expect 2 "node: bad --config line" "$NODE" --config "$WORK/bad.ini"
grep -q "bad.ini:3" "$WORK/err" || { echo "FAIL: the bad line is not named"; FAILED=1; }
printf 'id = 1\ncluster = %s\n' "$C" >"$WORK/partial.ini"
expect 2 "node: --config without data-dir" "$NODE" --config "$WORK/partial.ini"
expect 0 "node: --help" "$NODE" --help
expect 2 "ctl: no flags" "$CTL"
expect 2 "ctl: no command" "$CTL" --cluster 127.0.0.1:1
expect 2 "ctl: unknown command" "$CTL" --cluster 127.0.0.1:1 frob
expect 2 "ctl: put without value" "$CTL" --cluster 127.0.0.1:1 put k
expect 2 "ctl: bad endpoint" "$CTL" --cluster nohost put k v
expect 3 "ctl: nothing reachable" "$CTL" --cluster 127.0.0.1:1 --timeout-ms 500 get k
expect 3 "ctl: no leader" "$CTL" --cluster 127.0.0.1:1 --timeout-ms 500 leader
expect 0 "ctl: --help" "$CTL" --help
[ $FAILED -eq 0 ] && echo "usage: OK"
exit $FAILED
