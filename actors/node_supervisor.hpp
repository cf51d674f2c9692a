// spawn_node: one Raft server as four CAF actors (peer, election timer,
// persister, state machine) under a supervisor that owns them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <caf/all.hpp>

#include "actors/core/config.hpp"
#include "actors/state_machine.hpp"
#include "persistence/store.hpp"

namespace raft::actors {

struct node_options {
  /// The Raft configuration (id, members, timing in ticks, seed).
  core::config raft;
  /// Interval of the election timer's ticks.
  std::chrono::milliseconds tick_interval{10};
  /// Where the node's state lives; shared with whoever may inspect it after
  /// the node is gone (the test kit's crash copies it).
  std::shared_ptr<persistence::store> store;
  /// The actor that carries peer messages: it receives
  /// (server_id from, server_id to, <raft message>) from this node's peer and
  /// must deliver the same triple to the peer actor of `to`.
  caf::actor transport;
  /// Builds the user's state machine (called once, inside the state machine
  /// actor).
  std::function<std::unique_ptr<state_machine>()> make_state_machine;
  /// Optional: receives a peer_status from the peer after every change of
  /// role, term, leader or vote.
  caf::actor observer;
  /// The peer checks the core's invariants after every input
  /// (peer_config::check_invariants; for tests and debugging).
  bool check_invariants = false;
};

/// The handles of one running node.
struct node_handles {
  /// Owns the other four; killing it stops the node. Keep a handle to it
  /// while the node should run: when the last handle to the supervisor is
  /// dropped, CAF destroys it (exit reason `unreachable`) and its links stop
  /// the node, so a forgotten node cannot hang ~actor_system.
  caf::actor supervisor;
  caf::actor peer;
  caf::actor timer;
  caf::actor persister;
  caf::actor state_machine;
};

/// Spawns a node. The peer loads its state from the persister before it
/// handles anything else; messages arriving meanwhile wait in its mailbox.
node_handles spawn_node(caf::actor_system& sys, node_options opts);

/// Stops a node: every actor of it exits (reason: kill). Non-blocking.
void stop_node(const node_handles& h);

} // namespace raft::actors
