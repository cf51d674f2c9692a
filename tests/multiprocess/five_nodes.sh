#!/usr/bin/env bash
# The 5-node run of cluster_faults.sh. Usage: five_nodes.sh RAFT_NODE RAFT_CTL
exec bash "$(dirname "$0")/cluster_faults.sh" "$1" "$2" 5
