// raft-ctl's commands, each run against the endpoints of --cluster and
// returning raft-ctl's exit code: 0 ok; 1 not found (get or delete of an
// absent key) or a cas whose condition did not hold; 2 bad usage (or a
// request the service refuses as malformed / too large); 3 unavailable (no
// endpoint reachable, or no leader / no answer within --timeout-ms).
#pragma once

#include <vector>

#include <caf/all.hpp>

#include "apps/raft_ctl_endpoints.hpp"
#include "apps/raft_ctl_flags.hpp"

namespace raft::ctl {

/// `status`: every endpoint's status, one line each (--json: an array of
/// objects); 3 when none answered.
int cmd_status(caf::actor_system& sys, std::vector<endpoint>& eps,
               const ctl_flags& f);

/// `leader`: the id of the leader with the highest term among the
/// reachable endpoints (--json: {"id": N, "term": T}), asked again until
/// one leads or --timeout-ms passed (then 3).
int cmd_leader(caf::actor_system& sys, std::vector<endpoint>& eps,
               const ctl_flags& f);

/// `put K V`, `get K`, `append K V`, `delete K`, `cas K OLD NEW`: one
/// call through kv::client_actor, which follows leader hints and retries
/// until --timeout-ms. `get` prints the value alone; the others "OK" (or
/// "not found", "cas failed"); --json one object.
int cmd_kv(caf::actor_system& sys, std::vector<endpoint>& eps,
           const ctl_flags& f);

/// `ping [--count N]`: N sequential status round trips to the first
/// reachable endpoint (raft-ctl -> endpoint -> peer -> raft-ctl: one
/// network round trip plus one local hop on the node), timed; prints the
/// rate and the nearest-rank median and p99 (bench/stats.hpp).
int cmd_ping(caf::actor_system& sys, std::vector<endpoint>& eps,
             const ctl_flags& f);

/// `workload ...`: concurrent clients and a linearizability check
/// (raft_ctl_workload.hpp) against the endpoints that answered. The caller
/// has blocked the stop signals (stop_signals.hpp) before the actor system
/// started.
int cmd_workload(caf::actor_system& sys, std::vector<endpoint>& eps,
                 const ctl_flags& f);

} // namespace raft::ctl
