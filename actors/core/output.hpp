// What the core asks its shell to do after an input: the "Ready" of
// etcd-raft, the fsm_output of Scylla. The shell (peer_actor) carries it out
// in the order the fields are listed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/client_messages.hpp"
#include "messages/log_entry.hpp"
#include "messages/node_messages.hpp"
#include "messages/raft_messages.hpp"

namespace raft::core {

/// A linearizable read confirmed by the leader (ReadIndex, thesis §6.4): the
/// state machine may answer read `request_id` from its state once it has
/// applied `index`. Volatile: never persisted.
struct read_state {
  /// The caller's id of the read (node::read_index's argument).
  std::uint64_t request_id = 0;
  /// The read index: the leader's commit_index when the read was
  /// registered. Every write committed before node::read_index was called
  /// lies at or below it.
  index_t index;
  friend bool operator==(const read_state& a, const read_state& b) {
    return a.request_id == b.request_id && a.index == b.index;
  }
};

/// A read the node gave up on: the caller retries, at `leader_hint` if it
/// names a server. Volatile: never persisted.
struct read_failure {
  std::uint64_t request_id = 0;
  /// Leader of the current term as this node knows it (itself after a
  /// timeout), or no_server.
  server_id leader_hint;
  /// errc::not_leader: this node is not (or no longer) the leader;
  /// errc::timeout: still leader, but no majority confirmed it within
  /// config::read_timeout_ticks (e.g. partitioned from the majority).
  /// Both are safe to retry: a read changes nothing.
  errc reason = errc::not_leader;
  friend bool operator==(const read_failure& a, const read_failure& b) {
    return a.request_id == b.request_id && a.leader_hint == b.leader_hint
           && a.reason == b.reason;
  }
};

/// "read 7 index=3"
std::string to_string(const read_state& x);
/// "read 7 failed not_leader leader=2"
std::string to_string(const read_failure& x);

struct output {
  /// 0. Hand these chunks of a snapshot being received to the persister's
  ///    staging area (store::stage_snapshot_chunk), in order, BEFORE the
  ///    batch of 1 (which may install them: snapshot_install::staged).
  std::vector<snapshot_chunk> snapshot_chunks;

  /// 1. Hand this batch to the persister. It must be made durable and
  ///    acknowledged (on_persisted) in the order batches were emitted.
  std::optional<persist_batch> persist;

  /// 2. Send these now. Messages that promise durable state (vote grants,
  ///    append acks, a candidate's vote requests) appear here only after
  ///    on_persisted covered what they promise: "the server must ... update
  ///    its persistent state before responding to RPCs" (Figure 2, thesis
  ///    §3.8). A leader's AppendEntries may go out before its own write is
  ///    durable (thesis §10.2.1).
  std::vector<envelope> messages;

  /// 3a. Hand this snapshot to the state machine (an apply_msg with
  ///     snapshot_valid, snapshot, snapshot_term, snapshot_index; 6.5840
  ///     ApplyMsg) BEFORE `committed`: the state machine replaces its state
  ///     with it. Set (a) once an InstallSnapshot from the leader is durable
  ///     here (Figure 13 step 8, "reset state machine using snapshot
  ///     contents"), and (b) in the first output after a restart from a
  ///     snapshot, so a fresh state machine starts from it. Its index is
  ///     always above every index handed out before in this incarnation
  ///     (applied never moves backwards).
  std::optional<apply_msg> apply_snapshot;

  /// 3b. Hand these committed entries to the state machine, in order. The
  ///     first one directly follows the last one of the previous batch (or
  ///     the snapshot of 3a).
  log_entries committed;

  /// 4a. Reads confirmed by a majority (thesis §6.4), in the order they were
  ///     registered. Each one's index is at or below the last index handed
  ///     to the state machine in this output (3a/3b) or an earlier one: a
  ///     state machine that consumes outputs in order may answer the read
  ///     from its current state as soon as it sees it.
  std::vector<read_state> reads_ready;

  /// 4b. Reads that failed (not leader, leadership lost, timed out): the
  ///     caller retries. Every read passed to node::read_index ends up in
  ///     exactly one of reads_ready and reads_failed -- unless the node is
  ///     destroyed first (its reads die with it).
  std::vector<read_failure> reads_failed;

  /// Role, term, leader or vote changed during this input (for logging and
  /// status publication).
  bool state_changed = false;

  bool empty() const {
    return snapshot_chunks.empty() && !persist && messages.empty() && !apply_snapshot
           && committed.empty() && reads_ready.empty() && reads_failed.empty()
           && !state_changed;
  }
};

} // namespace raft::core
