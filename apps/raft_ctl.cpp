// raft-ctl: talks to a cluster of raft-node processes (issue 6).
//
//   raft-ctl --cluster HOST:PORT,... [--json] [--timeout-ms MS] COMMAND
//     put K V | get K | append K V | delete K | cas K OLD NEW
//     status | leader
//     workload [--clients C] [--seconds T] [--seed S] [--history FILE]
//       (apps/raft_ctl_workload.hpp: concurrent clients until T seconds or
//       SIGTERM, then a linearizability check; exit 1 if not linearizable)
//     ping [--count N]  (N timed status round trips to the first endpoint)
//
// --cluster may name any subset of the nodes. raft-ctl connects to each
// endpoint (non-blocking connect with a timeout), learns its server id from
// its status, and runs KV commands through kv::client_actor over those
// endpoints, which follows leader hints and retries until --timeout-ms.
//
// Output: human by default; --json prints one JSON value. `get K` prints
// the value alone (plus a newline). `leader` prints the leader's id
// (--json: {"id": N, "term": T}).
//
// Files: raft_ctl_flags (the command line), raft_ctl_endpoints (reaching
// the nodes), raft_ctl_commands (one function per command),
// raft_ctl_workload (the workload command's clients and check).
//
// Exit codes: 0 ok; 1 not found (get or delete of an absent key) or a cas
// whose condition did not hold; 2 bad usage (or a request the service
// refuses as malformed / too large); 3 unavailable (no endpoint reachable,
// or no leader / no answer within --timeout-ms).
#include <variant>
#include <vector>

#include <caf/all.hpp>

#include "apps/raft_ctl_commands.hpp"
#include "apps/raft_ctl_endpoints.hpp"
#include "apps/raft_ctl_flags.hpp"
#include "apps/stop_signals.hpp"

int main(int argc, char** argv) {
  using namespace raft::ctl;
  auto parsed = parse_flags(argc, argv);
  if (auto* code = std::get_if<int>(&parsed))
    return *code;
  const auto& f = std::get<ctl_flags>(parsed);
  const auto& verb = f.command[0];
  if (verb == "workload")
    raft::apps::block_stop_signals(); // the workload waits for them
  ctl_config cfg;
  caf::actor_system sys{cfg};
  std::vector<endpoint> eps;
  for (auto& a : f.endpoints)
    eps.push_back(endpoint{a, {}, {}, 0});
  if (verb == "status")
    return cmd_status(sys, eps, f);
  if (verb == "leader")
    return cmd_leader(sys, eps, f);
  if (verb == "ping")
    return cmd_ping(sys, eps, f);
  if (verb == "workload")
    return cmd_workload(sys, eps, f);
  return cmd_kv(sys, eps, f);
}
