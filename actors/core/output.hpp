// What the core asks its shell to do after an input: the "Ready" of
// etcd-raft, the fsm_output of Scylla. The shell (peer_actor) carries it out
// in the order the fields are listed.
#pragma once

#include <optional>
#include <vector>

#include "messages/log_entry.hpp"
#include "messages/node_messages.hpp"
#include "messages/raft_messages.hpp"

namespace raft::core {

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

  /// Role, term, leader or vote changed during this input (for logging and
  /// status publication).
  bool state_changed = false;

  bool empty() const {
    return snapshot_chunks.empty() && !persist && messages.empty() && !apply_snapshot
           && committed.empty() && !state_changed;
  }
};

} // namespace raft::core
