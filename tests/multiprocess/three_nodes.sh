#!/usr/bin/env bash
# The 3-node run of cluster_faults.sh (kills, stop/cont, outsider, exit
# codes, full restart). Usage: three_nodes.sh RAFT_NODE RAFT_CTL
exec bash "$(dirname "$0")/cluster_faults.sh" "$1" "$2" 3
