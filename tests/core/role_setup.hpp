// Putting the node under test into a role by feeding it what a real cluster
// would (heartbeats, timeouts, votes), so one test body can run once per
// role (etcd's raft_paper_test.go does the same).
#pragma once

#include <cstdint>
#include <vector>

#include "messages/node_messages.hpp"
#include "tests/core/core_harness.hpp"

namespace raft::core_test {

struct role_setup {
  /// Cluster size; the node under test is server 1.
  std::uint32_t servers = 3;
  /// Term the node is in afterwards.
  std::uint64_t term = 2;
  /// The node's log (restored as durable). For a candidate or leader all
  /// terms must be < term.
  log_entries log;
  /// Leader only: the followers answer the first heartbeat with success
  /// (their logs equal the leader's), so they are in replicate mode.
  bool followers_caught_up = true;
  /// Applied to the config before the node is built.
  config cfg = cluster_config(1, 3);
};

/// Server 1 in role `r`: a follower of leader 2 (told so by a heartbeat), a
/// candidate that timed out and sent its RequestVotes, or a leader elected
/// by a majority. Everything emitted on the way is acknowledged and dropped.
harness make_in_role(raft::role r, role_setup s = {});

/// Every role, for GENERATE(from_range(all_roles)).
inline const std::vector<raft::role> all_roles{
  raft::role::follower, raft::role::candidate, raft::role::leader};

} // namespace raft::core_test
