// Role-specific state (STYLE habit 3): what only a follower, a candidate or a
// leader has lives in its alternative, so "leader-only" is a type, not a
// comment.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <variant>

#include "messages/ids.hpp"

namespace raft::core {

struct follower {
  /// Leader of current_term this follower heard from, or no_server.
  server_id leader;
};

struct candidate {
  /// Servers that granted their vote in current_term, self included.
  std::set<server_id> granted;
  /// Servers that refused.
  std::set<server_id> refused;
  /// The persist batch that makes this candidacy (term + self-vote)
  /// durable. Votes count only once it is durable.
  std::uint64_t self_vote_batch = 0;
};

/// What a leader knows about one follower (Figure 2 nextIndex/matchIndex,
/// plus etcd-style flow control).
struct progress {
  enum class mode : std::uint8_t {
    /// Next index unknown: send one AppendEntries per heartbeat (or per
    /// reply) and wait for the answer.
    probe,
    /// Follower keeps up: stream entries without waiting for replies, up to
    /// max_inflight_appends unacknowledged messages.
    replicate,
  };
  /// Index of the next log entry to send (Figure 2). Invariant:
  /// match_index < next_index <= leader's last_index + 1.
  index_t next_index;
  /// Highest index known to be replicated (durably) on the follower. Only
  /// grows within one leadership.
  index_t match_index;
  mode state = mode::probe;
  /// probe mode: an AppendEntries was sent since the last heartbeat/reply.
  bool probe_sent = false;
  /// replicate mode: last index of each unacknowledged AppendEntries sent.
  std::deque<index_t> inflight;
};

struct leader {
  /// Progress of every other member.
  std::map<server_id, progress> followers;
  /// Ticks since the last heartbeat round.
  int heartbeat_elapsed = 0;
};

using role_state = std::variant<follower, candidate, leader>;

} // namespace raft::core
