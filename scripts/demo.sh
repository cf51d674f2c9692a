#!/usr/bin/env bash
# Sets up everything (Debian packages, build) and runs raft-demo, the main
# job: a 5-node Raft cluster in one process serving the replicated KV store
# to 4 clients while its leader is killed and restarted, ending with a
# linearizability verdict and the path of the HTML history (about 10 s).
# Extra arguments go to raft-demo (try --help; --mode log: the command-log
# demo).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$here/scripts/setup.sh"
exec "$here/build/apps/raft-demo" "$@"
