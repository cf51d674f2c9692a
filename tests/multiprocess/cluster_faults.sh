#!/usr/bin/env bash
# N raft-node processes on 127.0.0.1 (N = 3 or 5), driven with raft-ctl
# (issue 6):
#   1. start N nodes with fresh data dirs, wait for a leader, write keys;
#   2. twice: SIGKILL the leader, measure the time until `raft-ctl leader`
#      names a new one, keep writing, restart the killed node from its data
#      dir and wait until all N have applied what was committed;
#   2b. SIGSTOP the leader: a new leader appears (time measured), writes go
#      on, SIGCONT: the old leader rejoins and catches up;
#   2c. during 2 and 2b, `raft-ctl workload` runs 3 concurrent recorded
#      clients; their history must be linearizable;
#   3. an (N+1)th process whose id is not in the cluster's --cluster: its
#      messages are refused (status shows refused > 0); then node 1's twin
#      with --cluster-id other: refused too (log line);
#   4. SIGTERM all: each exits 0; a data dir opened as another node's
#      exits 3; a taken port exits 4;
#   5. restart the whole cluster from the data dirs: every acknowledged
#      write is readable.
# Usage: cluster_faults.sh RAFT_NODE RAFT_CTL N
set -u
NODE=$1
CTL=$2
N=$3
OUT=$((N + 1)) # the outsider's id
WORK=$(mktemp -d "${TMPDIR:-/tmp}/raft-mp$N.XXXXXX")
declare -A PID=()
declare -A ACKED=()
FAILED=0
ENDPOINTS=""
FAILOVERS=()
STOPS=()

cleanup() {
  [ -n "${WORKLOAD:-}" ] && kill -9 "$WORKLOAD" 2>/dev/null
  for i in "${!PID[@]}"; do
    kill -9 "${PID[$i]}" 2>/dev/null
  done
  wait 2>/dev/null
  if [ "$FAILED" -ne 0 ]; then
    for f in "$WORK"/*.log; do
      echo "---- $f"
      tail -n 30 "$f"
    done
  fi
  if [ "$FAILED" -ne 0 ] && [ -n "${RAFT_MP_KEEP:-}" ]; then
    echo "kept $WORK (RAFT_MP_KEEP)"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  FAILED=1
  "$CTL" --cluster "$ENDPOINTS" --timeout-ms 2000 status
  exit 1
}

# -- ports: N+1 consecutive free ports, starting from one derived from $$ -----
# Below the kernel's ephemeral range (outgoing connections take ports from
# it at any time), and not used by any TCP socket in any state.
# Nothing may listen on it: a connect through bash's /dev/tcp (no extra
# package; ss and /proc/net/tcp do not see every socket in some sandboxes).
# raft-node binds with SO_REUSEADDR, so TIME_WAIT leftovers do not matter,
# and the range lies below the ephemeral ports outgoing connections take.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports_free() { # first count
  local p
  for p in $(seq "$1" $(($1 + $2 - 1))); do port_free "$p" || return 1; done
}
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
SPAN=$((EPHEMERAL_LOW - 10000 - 100))
BASE=$((10000 + ($$ * 7) % SPAN))
for _ in $(seq 1 50); do
  ports_free $BASE $((N + 1)) && break
  BASE=$((10000 + (BASE - 10000 + 10) % SPAN))
done
port() { echo $((BASE + $1 - 1)); } # the port of node id $1
CLUSTER="" ENDPOINTS=""
for i in $(seq 1 "$N"); do
  CLUSTER="$CLUSTER${CLUSTER:+,}$i=127.0.0.1:$(port "$i")"
  ENDPOINTS="$ENDPOINTS${ENDPOINTS:+,}127.0.0.1:$(port "$i")"
done
NODES=$(seq 1 "$N")
echo "$N nodes on ports $(port 1)..$(port "$N") (+$(port $OUT) for the outsider), work dir $WORK"

start_node() { # id
  "$NODE" --id "$1" --cluster "$CLUSTER" --data-dir "$WORK/data$1" \
    --election-ms 300 --heartbeat-ms 50 >>"$WORK/node$1.log" 2>&1 &
  PID[$1]=$!
}

ctl() { "$CTL" --cluster "$ENDPOINTS" "$@"; }

await_new_leader() { # label verb: waits up to 15 s for a leader other
  # than $LEADER; sets NEW to it and dt to the seconds that took
  local t0
  t0=$(now)
  NEW=$(ctl --timeout-ms 15000 leader) || fail "$1: no new leader"
  dt=$(since "$t0")
  [ "$NEW" != "$LEADER" ] || fail "$1: $2 leader $LEADER still leads"
}

stop_all_nodes() { # label: SIGTERM every node; each must exit 0
  local i rc
  for i in $NODES; do kill -TERM "${PID[$i]}"; done
  for i in $NODES; do
    wait "${PID[$i]}"
    rc=$?
    [ $rc -eq 0 ] || fail "node $i: exit code $rc after $1"
    unset "PID[$i]"
  done
}

stop_extra() { # key name: SIGTERM the extra process PID[key]; it must exit 0
  kill -TERM "${PID[$1]}"
  wait "${PID[$1]}" || fail "$2 exit code $?"
  unset "PID[$1]"
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

put() { # key value: records the write iff acknowledged
  if ctl put "$1" "$2" >/dev/null; then
    ACKED[$1]=$2
  else
    echo "put $1 not acknowledged (rc $?)"
  fi
}

check_all_acked() { # label
  local k v
  for k in "${!ACKED[@]}"; do
    v=$(ctl get "$k") || fail "$1: get $k failed (rc $?)"
    [ "$v" = "${ACKED[$k]}" ] || fail "$1: $k = '$v', expected '${ACKED[$k]}'"
  done
  echo "$1: all ${#ACKED[@]} acknowledged writes readable"
}

wait_converged() { # every node has applied what was committed when called
  local deadline=$((SECONDS + 15)) target="" json applied
  while [ $SECONDS -lt $deadline ]; do
    json=$(ctl --json status)
    applied=$(echo "$json" | grep -o '"applied":[0-9]*' | cut -d: -f2)
    if [ -z "$target" ]; then
      target=$(echo "$json" | grep -o '"commit":[0-9]*' | cut -d: -f2 \
               | sort -n | tail -n 1)
    fi
    if [ -n "$target" ] && [ "$(echo "$applied" | grep -c .)" -eq "$N" ] \
       && [ "$(echo "$applied" | sort -n | head -n 1)" -ge "$target" ]; then
      echo "converged: all $N nodes applied index $target"
      return 0
    fi
    sleep 0.2
  done
  ctl status
  fail "nodes did not catch up within 15 s"
}

# -- 1. start, first leader, writes -------------------------------------------
for i in $NODES; do start_node $i; done
t0=$(now)
LEADER=$(ctl --timeout-ms 15000 leader) || fail "no first leader"
echo "first leader: $LEADER after $(since "$t0") s"
for k in 1 2 3 4 5; do put "key$k" "v$k-$RANDOM"; done
ctl append log a >/dev/null && ctl append log b >/dev/null \
  || fail "append failed"
[ "$(ctl get log)" = "ab" ] || fail "append: log = '$(ctl get log)'"
ACKED[log]=ab
ctl get absent-key >/dev/null 2>&1
[ $? -eq 1 ] || fail "get of an absent key: exit code is not 1"
ctl cas key1 "${ACKED[key1]}" swapped >/dev/null || fail "cas failed"
ACKED[key1]=swapped
ctl cas key1 wrong-old x >/dev/null && fail "cas with a wrong old value succeeded"
check_all_acked "before the kills"

# -- 2. kill the leader twice ---------------------------------------------------
# Concurrent recorded clients on their own keys (k1..k3) through the kills
# and the stop below; their history is checked for linearizability at 2c.
"$CTL" --cluster "$ENDPOINTS" workload --clients 3 --seconds 170 \
  --history "$WORK/history.html" >"$WORK/workload.log" 2>&1 &
WORKLOAD=$!
sleep 1
for round in 1 2; do
  LEADER=$(ctl --timeout-ms 15000 leader) || fail "round $round: no leader"
  kill -9 "${PID[$LEADER]}"
  wait "${PID[$LEADER]}" 2>/dev/null
  await_new_leader "round $round" killed
  FAILOVERS+=("$dt")
  echo "round $round: SIGKILL leader $LEADER -> new leader $NEW after $dt s"
  for k in 1 2 3 4 5; do put "r$round-k$k" "v$k-$RANDOM"; done
  put key2 "overwritten-in-round-$round"
  start_node "$LEADER"
  wait_converged
  check_all_acked "round $round"
done

# -- 2b. a hung leader: SIGSTOP, new leader, writes, SIGCONT ---------------------
LEADER=$(ctl --timeout-ms 15000 leader) || fail "stop: no leader"
kill -STOP "${PID[$LEADER]}"
await_new_leader stop stopped
STOPS+=("$dt")
echo "stop: SIGSTOP leader $LEADER -> new leader $NEW after $dt s"
for k in 1 2 3; do put "stop-k$k" "v$k-$RANDOM"; done
kill -CONT "${PID[$LEADER]}"
wait_converged
check_all_acked "after SIGCONT"

# -- 2c. the workload's history ---------------------------------------------------
kill -TERM $WORKLOAD
wait $WORKLOAD
rc=$?
WORKLOAD=""
grep -E "^(workload|linearizability):" "$WORK/workload.log"
[ $rc -eq 0 ] || fail "workload: exit code $rc (1 = not linearizable)"
grep -q "^linearizability: ok" "$WORK/workload.log" \
  || echo "note: the workload's history was not verified (checker budget)"

# -- 3. an outsider (id N+1, not in the cluster's --cluster) is refused -------
"$NODE" --id $OUT --cluster "$CLUSTER,$OUT=127.0.0.1:$(port $OUT)" \
  --data-dir "$WORK/data$OUT" --election-ms 300 --heartbeat-ms 50 \
  >"$WORK/outsider.log" 2>&1 &
PID[$OUT]=$!
# Wait for the outsider's own refusal: the refused counters may already be
# above 0 from something else (a message that reached the wrong member after
# the restarts of section 2 is refused too).
for _ in $(seq 1 50); do
  grep -q "refused a message from $OUT to" "$WORK"/node*.log && break
  sleep 0.2
done
grep -q "refused a message from $OUT to" "$WORK"/node*.log \
  || fail "no refusal log line"
refused=$(ctl --json status | grep -o '"refused":[0-9]*' | cut -d: -f2 \
          | awk '{s += $1} END {print s + 0}')
[ "$refused" -gt 0 ] || fail "the outsider's messages were not refused"
echo "outsider: $refused messages refused"
stop_extra "$OUT" outsider
# ... and so is a member id carrying another cluster id (on the wire): node
# 1's twin of cluster "other", on the outsider's port with its own data dir.
TWIN_CLUSTER=$(echo "$CLUSTER" | sed "s/^1=127.0.0.1:[0-9]*/1=127.0.0.1:$(port $OUT)/")
"$NODE" --id 1 --cluster "$TWIN_CLUSTER" --cluster-id other \
  --data-dir "$WORK/twin" --election-ms 300 --heartbeat-ms 50 \
  >"$WORK/twin.log" 2>&1 &
PID[twin]=$!
for _ in $(seq 1 50); do
  grep -q "refused a message from 1 to .* of cluster 'other' (another cluster id)" \
    "$WORK"/node*.log && break
  sleep 0.2
done
grep -q "of cluster 'other' (another cluster id)" "$WORK"/node*.log \
  || fail "the other cluster's messages were not refused"
echo "twin of node 1 with cluster id 'other': refused"
stop_extra twin twin
ctl --timeout-ms 15000 leader >/dev/null || fail "no leader after the outsider"
check_all_acked "after the outsider"

# -- 4. SIGTERM all, exit codes ---------------------------------------------------
"$NODE" --id 1 --cluster "1=127.0.0.1:$(port 2),2=127.0.0.1:$(port 1)" \
  --data-dir "$WORK/other" >"$WORK/node-port.log" 2>&1
rc=$?
[ $rc -eq 4 ] || fail "port in use: exit code $rc, expected 4"
stop_all_nodes SIGTERM
echo "SIGTERM: all $N nodes exited 0"
"$NODE" --id 2 --cluster "$CLUSTER" --data-dir "$WORK/data1" \
  >"$WORK/node-dir.log" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "another node's data dir: exit code $rc, expected 3"
"$NODE" --id 1 --cluster "$CLUSTER" --data-dir "$WORK/data1" \
  --cluster-id other >>"$WORK/node-dir.log" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "another cluster's data dir: exit code $rc, expected 3"
echo "refusals: port in use -> 4, foreign data dirs -> 3"

# -- 5. whole-cluster restart ---------------------------------------------------
for i in $NODES; do start_node $i; done
t0=$(now)
LEADER=$(ctl --timeout-ms 15000 leader) || fail "no leader after the restart"
echo "restart: leader $LEADER after $(since "$t0") s"
check_all_acked "after the full restart"
stop_all_nodes "the final SIGTERM"

echo "failover times (s): ${FAILOVERS[*]}"
echo "failover after SIGSTOP (s): ${STOPS[*]}"
echo "cluster_faults $N nodes: OK"
