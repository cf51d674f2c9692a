// raft-demo --mode kv (the default): the replicated KV service under load
// while its leader is killed and restarted, checked for linearizability.
#pragma once

#include <caf/all.hpp>

#include "apps/raft_demo_cli.hpp"

namespace raft::demo {

/// Runs the KV demo in `sys` (normal scheduler, real time) and returns the
/// exit status: 0 when the history is linearizable -- or the check ran out
/// of time, which the output says -- and every live node holds the same
/// data; 1 otherwise.
int run_kv_demo(caf::actor_system& sys, const demo_options& opts);

} // namespace raft::demo
