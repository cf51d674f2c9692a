// peer_actor -- one Raft server as a CAF actor: a thin shell around
// raft::core::node (docs/architecture.md §2.1, §3.2). Every handler feeds
// one input to the core and then drains the core's output; the actor itself
// knows no Raft rule (no role, no term logic, no ordering decisions).
//
// Lifecycle (the only use of behavior changes, and done with request/await):
// 1. loading: the peer asks its persister for the durable state with
//    (load_atom). While the answer is outstanding, every other message stays
//    in the mailbox (CAF's `await` skips and caches them).
// 2. running: the core is built from the loaded state; the cached messages
//    are then handled in arrival order.
//
// Messages handled while running:
//   (tick_atom)                                   -> node.tick()
//   (server_id from, server_id to, M)             -> node.step(from, msg)
//       for every Raft message type M (each alternative of rpc_message;
//       handlers from messages/rpc_handlers.hpp); dropped when `to` is
//       not this peer's id
//   (snapshot_atom, index_t index, std::string data) -> node.snapshot(...)
//       the service's snapshot through `index`, offered by the state
//       machine actor (the core ignores one it cannot use)
//   (snapshot_read_back)             -> node.on_snapshot_read_back(...)
//       the persister's read-back of an installed snapshot's bytes, sent
//       before the (persisted) of the batch that installed it
//   (persisted)                                   -> node.on_persisted(...)
//   (propose_atom, std::string cmd)               -> propose_result
//   (read_index_atom, std::uint64_t request_id)   -> node.read_index(id);
//                                       answered later, see "Reads" below
//   (caf::get_atom, status_atom)                  -> peer_status
//
// Drain, after every input, in the order of core::output:
//   0. output.snapshot_chunks -> (snapshot_chunk) each to the persister,
//                          which stages it, before the batch that may
//                          install the snapshot;
//   1. output.persist   -> (persist_batch) to the persister, which answers
//                          (persisted) to this actor once it is durable
//                          (preceded by (snapshot_read_back) when the
//                          batch installs a received snapshot);
//   2. output.messages  -> (from, to, <concrete message>) to the transport;
//   3a. output.apply_snapshot -> (apply_atom, apply_msg) to the state
//                          machine, before any committed entry;
//   3b. output.committed -> (apply_atom, log_entries) to the state machine;
//   4. output.reads_ready / reads_failed -> (read_index_atom, ...) to the
//      state machine (see "Reads");
//   5. output.state_changed -> peer_status to the observer (if any) and, if
//      the environment variable RAFT_LOG is set, one line on stderr:
//        "peer 2 became leader term=5 leader=2 voted_for=2"
//        "peer 2 state follower term=6 leader=3 voted_for=0"
//
// Reads (linearizable, ReadIndex of Raft thesis §6.4). The state machine
// actor asks its own peer:
//   (read_index_atom, std::uint64_t request_id)
// request_id is the state machine's key for the read (opaque to the peer).
// No response is returned to the request; instead, exactly once per request
// (unless the peer dies first -- the state machine then fails its pending
// reads, it monitors the peer anyway), the peer sends to cfg.state_machine:
//   (read_index_atom, std::uint64_t request_id, index_t index, bool ok,
//    server_id leader_hint)
// - ok == true: the read is linearizable at read index `index`. Every entry
//   through `index` was sent to the state machine (apply_atom) BEFORE this
//   message, so the state machine answers the read from its current state
//   right away (CAF keeps the order of messages between two actors).
//   leader_hint is this peer's id.
// - ok == false (index is 0): the read failed; the client retries.
//   leader_hint == another server: not the leader, ask that one;
//   leader_hint == no_server: not the leader, leader unknown;
//   leader_hint == this peer's id: still leader, but no majority confirmed
//   it within config::read_timeout_ticks (e.g. partitioned).
// A read never touches the log or the persister. Without a state machine
// actor (tests) the answers are dropped.
//
// Failures stop the peer loudly (quit with an error, one line on stderr),
// never silently: the persister or the state machine actor going down (the
// peer monitors both), a failed load, or an exception thrown by the core (a
// broken contract, e.g. an unexpected persisted acknowledgement).
#pragma once

#include <optional>

#include <caf/all.hpp>

#include "actors/core/config.hpp"
#include "actors/core/node.hpp"
#include "messages/client_messages.hpp"

namespace raft::actors {

/// Everything a peer actor needs at spawn time.
struct peer_config {
  /// Raft configuration of the core (id, members, ticks, seed).
  core::config raft;
  /// Loads the durable state and makes persist batches durable. Required.
  caf::actor persister;
  /// Receives (from, to, msg) for every outgoing Raft message. May be
  /// invalid (a single-member cluster sends nothing).
  caf::actor transport;
  /// Receives (apply_atom, apply_msg) with a snapshot to install,
  /// (apply_atom, log_entries) with committed entries and the answers to
  /// reads (read_index_atom, ...). May be invalid in tests; all of these
  /// are then dropped.
  caf::actor state_machine;
  /// Receives a peer_status after every change of role, term, leader or
  /// vote. Optional.
  caf::actor observer;
  /// After every input, check the core's invariants (core::check and
  /// core::check_transition, actors/core/invariants.hpp; the whole log and
  /// the snapshot's CRC every 1024th input, their recent part otherwise); a
  /// violation stops the peer loudly like any broken contract, naming every
  /// violated invariant. For tests and debugging.
  bool check_invariants = false;
};

/// State of a peer actor. Nothing here is persisted by the actor itself:
/// everything durable goes through the persister in persist batches.
struct peer_state {
  /// Actor name (CAF uses it in error messages).
  static inline const char* name = "raft.peer";

  /// Spawn-time configuration: the handles this peer talks to. Set once at
  /// start, never changed. The strong handles form cycles (peer <-> state
  /// machine, peer <-> transport) that CAF breaks when the peer exits: the
  /// state is destroyed in on_exit.
  peer_config cfg;

  /// The Raft core. Empty while loading; set exactly once, when the
  /// persister's answer to (load_atom) arrives. Invariant: engaged whenever
  /// a running-behavior handler runs (await guarantees it).
  std::optional<core::node> node;

  /// Whether RAFT_LOG was set at spawn time (enables state-change lines).
  bool log_enabled = false;

  /// Role as of the last printed or published status (to print "became"
  /// lines only when the role changes).
  raft::role last_role = raft::role::follower;

  /// Inputs checked so far (cfg.check_invariants): which check is full.
  std::uint64_t inputs_checked = 0;
};

using peer_actor_type = caf::stateful_actor<peer_state>;

/// Spawn with `sys.spawn(peer_actor, cfg)`. See the file comment for the
/// protocol.
caf::behavior peer_actor(peer_actor_type* self, peer_config cfg);

} // namespace raft::actors
