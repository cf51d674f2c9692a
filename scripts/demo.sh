#!/usr/bin/env bash
# Sets up everything (Debian packages, build) and runs raft-demo, the main
# job: a 5-node Raft cluster in one process. Extra arguments go to raft-demo
# (try --help).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/setup.sh"
exec "$here/build/apps/raft-demo" "$@"
