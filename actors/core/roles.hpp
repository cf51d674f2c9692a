// Role-specific state: what only a follower, a candidate or a leader has
// lives in its alternative of role_state (a std::variant), so "leader-only"
// is a type, not a comment. Nothing here is persisted: a restarted server is
// a follower that knows no leader.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>

#include "messages/ids.hpp"

namespace raft::core {

/// A snapshot a follower is receiving in chunks (Figure 13 steps 2-5).
/// Lives in the follower alternative: a new leader or term (a new follower
/// state) discards it.
struct incoming_snapshot {
  /// Which snapshot (the leader's last_included).
  log_id last_included;
  /// Size and CRC-32 the leader announced; checked once `done` arrives.
  std::uint64_t total_size = 0;
  std::uint32_t crc32 = 0;
  /// Bytes received so far, contiguous from offset 0. The bytes themselves
  /// went to the persister's staging area (output::snapshot_chunks); only
  /// their count and running CRC stay here, so a large snapshot never sits
  /// in memory. Invariant: received <= total_size.
  std::uint64_t received = 0;
  /// CRC-32 of the bytes received so far (crc32 continued chunk by chunk).
  std::uint32_t received_crc = 0;
};

struct follower {
  /// Leader of current_term this follower heard from, or no_server.
  server_id leader;
  /// The snapshot being received from `leader` in current_term, if any.
  std::optional<incoming_snapshot> incoming = std::nullopt;
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

/// A snapshot a leader is sending to one follower in chunks (§7, Figure
/// 13), one chunk in flight at a time.
struct outgoing_snapshot {
  /// Which snapshot (its last_included). When the leader's own snapshot
  /// changes, the transfer restarts with the new one at offset 0.
  log_id last_included;
  /// Offset of the next chunk to send (or of the chunk in flight); moves to
  /// the follower's next_offset on each reply.
  std::uint64_t offset = 0;
  /// A chunk was sent and is not answered yet (a heartbeat resends it).
  bool chunk_in_flight = false;
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
    /// The entry before next_index is compacted (next_index <= base.index):
    /// send the snapshot with InstallSnapshot, one chunk in flight (§7).
    snapshot,
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
  /// snapshot mode: the transfer in progress.
  outgoing_snapshot outgoing;
  /// ReadIndex (thesis §6.4): highest read round (leader::read_seq) this
  /// follower echoed in an AppendEntries reply of the leader's term --
  /// success or rejection: either proves it still accepted this leader
  /// after that round began. Only grows within one leadership; not
  /// persisted. Invariant: read_ack <= leader::read_seq.
  std::uint64_t read_ack = 0;

  // -- transitions (etcd's Progress.BecomeProbe/Replicate/Snapshot) ---------

  /// The follower durably holds the leader's log through `index` (an
  /// AppendEntries success or an installed snapshot): match_index never
  /// moves back, acknowledged appends leave `inflight`, and next_index
  /// stays above match_index (an ack may overtake what was sent).
  void acknowledge(index_t index) {
    if (index > match_index)
      match_index = index;
    while (!inflight.empty() && inflight.front() <= match_index)
      inflight.pop_front();
    if (next_index <= match_index)
      next_index = match_index.next();
  }
  /// Probe from `next`: one AppendEntries at a time until one succeeds.
  void become_probe(index_t next) {
    state = mode::probe;
    probe_sent = false;
    inflight.clear();
    outgoing.chunk_in_flight = false;
    next_index = next;
  }
  /// The follower's log matches through match_index: stream from there.
  void become_replicate() {
    state = mode::replicate;
    probe_sent = false;
    inflight.clear();
    next_index = match_index.next();
  }
  /// The entry before next_index is compacted: send snapshot `base`.
  void become_snapshot(log_id base) {
    state = mode::snapshot;
    inflight.clear();
    probe_sent = false;
    outgoing = outgoing_snapshot{base};
  }
};

/// A linearizable read held by the leader (ReadIndex, thesis §6.4). Volatile
/// like everything leader-only: when the leadership ends, the read fails.
struct pending_read {
  /// The caller's id (node::read_index's argument).
  std::uint64_t request_id = 0;
  /// The read index: commit_index when the read was registered (0 while it
  /// waits in leader::reads_waiting).
  index_t index;
  /// The first read round that may confirm it: leader::read_seq + 1 at
  /// registration, so that round leaves after the read arrived (0 while
  /// waiting). A majority ack of this round or any later one confirms it.
  std::uint64_t seq = 0;
  /// leader::ticks value at which the read fails with errc::timeout
  /// (config::read_timeout_ticks after it arrived).
  std::uint64_t deadline = 0;
};

struct leader {
  /// Progress of every other member.
  std::map<server_id, progress> followers;
  /// Ticks since the last heartbeat round.
  int heartbeat_elapsed = 0;

  // -- ReadIndex (thesis §6.4); nothing here is persisted --------------------

  /// Last log index when this leadership began (before its no-op, if any):
  /// the entries up to here come from earlier terms. Once commit_index
  /// reaches it, every entry committed before this leadership lies at or
  /// below commit_index (Leader Completeness, §5.4), so commit_index may
  /// serve as a read index (thesis §6.4 step 1; committing the no-op of
  /// this term is the usual way to get there).
  index_t prior_last;
  /// Ticks of this leadership: the clock of pending_read::deadline.
  std::uint64_t ticks = 0;
  /// Latest read round sent: every AppendEntries carries it and followers
  /// echo it. 0 until the first round. Monotonic.
  std::uint64_t read_seq = 0;
  /// Highest round a majority (this leader included) acknowledged.
  /// Monotonic. Invariant: read_confirmed <= read_seq; a round is
  /// outstanding iff read_confirmed < read_seq.
  std::uint64_t read_confirmed = 0;
  /// Reads that arrived before the leader could know the commit index
  /// (commit_index < prior_last), in arrival order. Invariant: empty when
  /// commit_index >= prior_last.
  std::deque<pending_read> reads_waiting;
  /// Registered reads waiting for their round, in registration order (so
  /// index and seq never decrease along it). Invariant: every seq lies in
  /// (read_confirmed, read_seq + 1].
  std::deque<pending_read> reads;
};

using role_state = std::variant<follower, candidate, leader>;

} // namespace raft::core
