// raft-ctl workload: concurrent KV clients against a running cluster, with
// their history recorded and checked for linearizability (issue 6). The
// clients are raft-demo's (apps/raft_demo_kv_workload: a random mix of get,
// put, append and cas over three shared keys, unique values); here they
// talk to raft-node processes through endpoint relays, which re-dial a node
// that restarts.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/net/wire.hpp"
#include "messages/ids.hpp"

namespace raft::ctl {

/// Runs `raft-ctl ... workload [--clients C] [--seconds T] [--seed S]
/// [--history FILE]` (`args` after the word "workload") against `servers`
/// (id and address of every endpoint). Runs until T seconds passed
/// (default 10) or SIGTERM/SIGINT arrives (the caller must have blocked
/// them before the actor system started: apps/stop_signals.hpp), then
/// reads every key, checks the history and prints the verdict. Returns the
/// exit code: 0 linearizable (or the check ran out of time: "not
/// verified"), 1 not linearizable, 2 bad usage, 3 unavailable (the keys
/// could not be reset).
int run_workload(caf::actor_system& sys,
                 const std::vector<std::pair<server_id, net::member_address>>&
                   servers,
                 const std::vector<std::string>& args);

} // namespace raft::ctl
