// Tuning of one Raft node. Time is counted in ticks: the election timer actor
// sends one tick every `tick_interval` (10 ms by default), so the defaults
// below mean a heartbeat every 100 ms (at most 10 per second, the 6.5840
// limit) and an election timeout drawn from [300 ms, 600 ms).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "messages/ids.hpp"

namespace raft::core {

struct config {
  /// This server. Must be a member of `members`.
  server_id id;
  /// Every voting member, this server included, in any order.
  std::vector<server_id> members;
  /// Lower bound of the randomized election timeout, in ticks (§5.2). Each
  /// timeout is drawn uniformly from [election_ticks, 2 * election_ticks).
  /// Must be greater than heartbeat_ticks.
  int election_ticks = 30;
  /// A leader sends a heartbeat to every follower each heartbeat_ticks.
  int heartbeat_ticks = 10;
  /// Most entries in one AppendEntries.
  std::size_t max_entries_per_append = 256;
  /// Most payload bytes in one AppendEntries (at least one entry is always
  /// sent, whatever its size).
  std::size_t max_bytes_per_append = 1024 * 1024;
  /// Most unacknowledged AppendEntries carrying entries to one follower in
  /// replicate mode; further sends wait for acknowledgements (flow control,
  /// like etcd's MaxInflightMsgs).
  std::size_t max_inflight_appends = 64;
  /// Most snapshot bytes in one InstallSnapshot chunk (Figure 13; at least
  /// 1). A leader keeps one chunk per follower in flight and sends the next
  /// when the follower answers.
  std::size_t snapshot_chunk_bytes = 1024 * 1024;
  /// Seed of the node's RNG (election timeouts). Same seed, same inputs:
  /// same outputs.
  std::uint64_t rng_seed = 1;
  /// Append an empty entry when becoming leader (thesis §6.4), so entries of
  /// earlier terms commit without waiting for a new command. Off by default:
  /// the 6.5840 tests expect the first command at index 1.
  bool noop_on_election = false;
  /// A read (node::read_index, thesis §6.4) still unconfirmed this many
  /// ticks after it reached the leader fails with errc::timeout, so a leader
  /// cut off from the majority (which, without check-quorum, never learns
  /// that it lost) does not hold reads forever. The default is two election
  /// timeouts' lower bound. Must be >= 1. A leader that cannot yet know the
  /// commit index (thesis §6.4 step 1) counts this time too: with
  /// noop_on_election off, a new leader whose log ends in uncommitted
  /// entries of earlier terms serves no read until a command of its own
  /// term commits.
  int read_timeout_ticks = 60;
};

} // namespace raft::core
