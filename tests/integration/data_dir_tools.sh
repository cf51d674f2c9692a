#!/usr/bin/env bash
# raft-demo --mode log --data-dir keeps state across runs and across a
# whole-cluster restart; raft-inspect reports a clean directory (exit 0), a
# torn tail (exit 3, and the next start drops it and says so), corruption
# before the tail (exit 1, and the node refuses to start naming file and
# offset), and a foreign directory (exit 4); with snapshots on, a restart
# starts from the snapshot file and raft-inspect verifies it.
# Usage: data_dir_tools.sh RAFT_DEMO RAFT_INSPECT
set -uo pipefail
demo="$1"
inspect="$2"
work="$(mktemp -d "${TMPDIR:-/tmp}/caf-raft-tools-XXXXXX")"
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_rc() { # expected actual what
  [ "$1" -eq "$2" ] || fail "$3: exit $2, expected $1"
}

# 1. A fresh directory, and a second run on top of it (snapshots off, so the
#    log ranges are known).
out="$("$demo" --mode log --nodes 3 --seed 11 --snapshot-bytes 0 --data-dir "$work/data")"; rc=$?
expect_rc 0 $rc "first raft-demo run"
grep -q "full restart:" <<<"$out" || fail "first run printed no full restart"
out="$("$demo" --mode log --nodes 3 --seed 12 --snapshot-bytes 0 --data-dir "$work/data")"; rc=$?
expect_rc 0 $rc "second raft-demo run"
grep -q "node 1 opened $work/data/node-1: log 1\.\.60 " <<<"$out" \
  || fail "second run did not recover the 60 entries of the first: $out"

# 2. A clean directory.
"$inspect" "$work/data/node-1" >"$work/out.txt"; rc=$?
expect_rc 0 $rc "raft-inspect on a clean directory"
grep -q "cluster raft-demo, node 1" "$work/out.txt" || fail "no identity line"
grep -q "log             1\.\.120 " "$work/out.txt" || fail "wrong log range: $(cat "$work/out.txt")"
"$inspect" --json "$work/data/node-2" | grep -q '"ok":true' \
  || fail "--json does not say ok"
# --json escapes strings as JSON (apps/json_string.hpp): a copy of the
# directory under a name with a quote, a backslash, a tab, a control
# character, a newline, a carriage return and a UTF-8 letter.
odd=$'odd "q" \\ tab\t ctl\x01 nl\n cr\r \xc3\xa9'
cp -r "$work/data/node-1" "$work/$odd"
expected='"dir":"'"$work"'/odd \"q\" \\ tab\t ctl\u0001 nl\n cr\r '$'\xc3\xa9''",'
"$inspect" --json "$work/$odd" >"$work/out.json"; rc=$?
expect_rc 0 $rc "raft-inspect --json on an oddly named directory"
grep -qF -- "$expected" "$work/out.json" \
  || fail "--json escaped the directory name wrongly: $(cat "$work/out.json")"

# 3. A torn tail: cut the last record short.
seg="$(ls "$work/data/node-3"/log-*.seg | tail -n 1)"
size=$(stat -c %s "$seg")
truncate -s $((size - 3)) "$seg"
"$inspect" "$work/data/node-3" >"$work/out.txt"; rc=$?
expect_rc 3 $rc "raft-inspect on a torn tail"
grep -q "torn tail: $(basename "$seg") offset" "$work/out.txt" \
  || fail "torn tail not named: $(cat "$work/out.txt")"
out="$("$demo" --mode log --nodes 3 --seed 13 --snapshot-bytes 0 --data-dir "$work/data")"; rc=$?
expect_rc 0 $rc "raft-demo after a torn tail"
grep -q "node 3 opened .*dropped a torn tail" <<<"$out" \
  || fail "the torn tail was not reported on start"

# 4. Corruption before the tail: flip a byte inside the second record.
seg="$(ls "$work/data/node-2"/log-*.seg | head -n 1)"
printf '\xff' | dd of="$seg" bs=1 seek=120 conv=notrunc 2>/dev/null
"$inspect" "$work/data/node-2" >"$work/out.txt"; rc=$?
expect_rc 1 $rc "raft-inspect on corruption"
grep -q "CORRUPT: $(basename "$seg") offset" "$work/out.txt" \
  || fail "corruption not named: $(cat "$work/out.txt")"
"$demo" --mode log --nodes 3 --seed 14 --snapshot-bytes 0 --data-dir "$work/data" >"$work/out.txt" 2>&1; rc=$?
expect_rc 1 $rc "raft-demo on a corrupt directory"
grep -q "$(basename "$seg")" "$work/out.txt" \
  || fail "the refusal does not name the file: $(cat "$work/out.txt")"

# 5. Snapshots by size: the whole-cluster restart starts from the snapshot.
out="$("$demo" --mode log --nodes 3 --seed 15 --snapshot-bytes 200 --data-dir "$work/snap")"; rc=$?
expect_rc 0 $rc "raft-demo with snapshots"
grep -q "snapshots at index" <<<"$out" || fail "no snapshot was taken: $out"
grep -q "node 1 opened $work/snap/node-1: log .*, snapshot snapshot-" <<<"$out" \
  || fail "the restart did not find a snapshot: $out"
grep -q "restored its state machine from the snapshot" <<<"$out" \
  || fail "no state machine restored from a snapshot: $out"
"$inspect" "$work/snap/node-1" >"$work/out.txt"; rc=$?
expect_rc 0 $rc "raft-inspect with a snapshot"
grep -q "^snapshot        through index .*CRC ok" "$work/out.txt" \
  || fail "raft-inspect shows no verified snapshot: $(cat "$work/out.txt")"
# An interrupted snapshot transfer leaves a staging file: reported, not
# state, removed when the node starts again.
head -c 1000 /dev/urandom > "$work/snap/node-2/snapshot-incoming.tmp"
"$inspect" "$work/snap/node-2" >"$work/out.txt"; rc=$?
expect_rc 0 $rc "raft-inspect with a staging file"
grep -q "temp file snapshot-incoming.tmp (a snapshot transfer" "$work/out.txt" \
  || fail "raft-inspect does not report the staging file: $(cat "$work/out.txt")"
out="$("$demo" --mode log --nodes 3 --seed 16 --snapshot-bytes 200 --data-dir "$work/snap")"; rc=$?
expect_rc 0 $rc "raft-demo over an interrupted transfer"
[ ! -e "$work/snap/node-2/snapshot-incoming.tmp" ] \
  || fail "the staging file survived a restart"
seg="$(ls "$work/snap/node-1"/snapshot-*.snap)"
printf '\xff' | dd of="$seg" bs=1 seek=60 conv=notrunc 2>/dev/null
"$inspect" "$work/snap/node-1" >/dev/null; rc=$?
expect_rc 1 $rc "raft-inspect on a corrupt snapshot"

# 6. Not a data directory.
mkdir -p "$work/empty"
"$inspect" "$work/empty" >/dev/null 2>&1; rc=$?
expect_rc 4 $rc "raft-inspect on a foreign directory"
"$inspect" >/dev/null 2>&1; rc=$?
expect_rc 2 $rc "raft-inspect without arguments"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
