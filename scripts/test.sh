#!/usr/bin/env bash
# Builds caf-raft (scripts/setup.sh) and runs the whole test suite with ctest.
# Extra arguments go to ctest, e.g.
#   bash scripts/test.sh -LE realtime      # skip the real-clock runs
#   bash scripts/test.sh -R '^core:'       # only the core tests
# Replay a randomized failure with RAFT_SEED=<seed> (printed by the failure).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/setup.sh"
exec ctest --test-dir "$here/build" --output-on-failure -j2 "$@"
