// state_machine_actor -- the client-facing actor of a node
// (docs/architecture.md §2.4): applies committed entries to the user's state
// machine and answers the clients that submitted them.
//
// Protocol:
//   (register_atom, caf::actor peer)  sets the peer that proposals go to
//                                     (spawn_node sends it right after
//                                     spawning; the peer and this actor
//                                     need each other's handle).
//   (submit_atom, std::string cmd)    -> client_reply, once known:
//       - errc::not_leader + leader_hint: the peer is not the leader (or no
//         peer is registered yet). Safe to retry elsewhere.
//       - errc::none + index, term, result: the command was applied at
//         (index, term); `result` is what the machine returned.
//       - errc::dropped_entry: another leader's entry took the index; the
//         command was not applied. Safe to retry.
//       - errc::too_large / errc::bad_request: machine->validate() refused
//         the command before it was proposed; nothing changed. Do not
//         retry unchanged.
//       - errc::shutting_down: the peer went away before answering, or this
//         actor stopped while the client waited. Outcome unknown.
//       - errc::timeout: the index was already applied when the peer's
//         answer arrived (cannot happen with CAF's per-pair FIFO order; kept
//         as a defensive answer). Outcome unknown.
//     A client waits as long as the cluster does not move past its index:
//     clients must use a request timeout.
//   (apply_atom, log_entries)         from the peer: committed entries, in
//                                     index order, contiguous. Afterwards
//                                     the actor offers the peer
//                                     (snapshot_atom, last applied index,
//                                     bytes) if machine->take_snapshot
//                                     returns bytes.
//   (apply_atom, apply_msg)           from the peer: a snapshot to install
//                                     (snapshot_valid), handed to
//                                     machine->apply; last applied becomes
//                                     its snapshot_index, and clients
//                                     waiting at an index it covers get
//                                     errc::timeout (outcome unknown). One
//                                     not past the last applied index is
//                                     ignored.
//   (read_index_atom, std::uint64_t id, index_t index, bool ok,
//    server_id hint)                  from the peer: the answer to a read
//                                     (see "Reads").
//   (caf::get_atom, status_atom)      -> index_t: last applied index.
//
// Reads (ReadIndex, Raft thesis §6.4): a submitted command for which
// machine->is_read_only() holds is not proposed. The actor sends
// (read_index_atom, id) to its peer (peer_actor.hpp, "Reads"); on
// (read_index_atom, id, index, ok = true, hint) -- which arrives after
// every entry through `index` -- it answers machine->query(cmd) with
// errc::none (client_reply.index = last applied index); on ok = false it
// answers not_leader with the peer's hint (which names this node itself
// when it still leads but could not confirm it in time). Safe to retry: a
// read changes nothing.
//
// Applying: each entry becomes an apply_msg (6.5840 ApplyMsg). Commands go
// to machine->apply() with command_valid = true. No-op entries (a leader's
// empty entry, thesis §6.4) are NOT passed to the machine: they only advance
// last_applied, and a client waiting at that index gets dropped_entry.
// Entries must arrive contiguously: index == last_applied + 1. A gap or a
// step backwards is a broken invariant: the actor stops loudly (quit with an
// error), as it does when the machine throws.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include <caf/all.hpp>

#include "actors/state_machine.hpp"
#include "messages/client_messages.hpp"
#include "messages/ids.hpp"

namespace raft::actors {

/// Builds the user's state machine (node_options::make_state_machine).
using state_machine_factory = std::function<std::unique_ptr<state_machine>()>;

struct state_machine_state {
  /// Actor name (CAF uses it in error messages).
  static inline const char* name = "raft.state_machine";

  /// A client waiting for the entry it proposed to be applied.
  struct waiting_client {
    /// Term the peer appended the command in. The command was applied iff
    /// the entry applied at the same index has this term.
    term_t term;
    /// Receives the client_reply.
    caf::typed_response_promise<client_reply> promise;
  };

  state_machine_state() = default;
  state_machine_state(const state_machine_state&) = delete;
  state_machine_state& operator=(const state_machine_state&) = delete;

  /// Runs at exit (CAF destroys the state in on_exit): every waiting client
  /// and every pending read gets errc::shutting_down.
  ~state_machine_state();

  /// The user's machine. Built once at spawn; never null while running.
  std::unique_ptr<state_machine> machine;
  /// The peer that proposals go to. Invalid until registered.
  caf::actor peer;
  /// Highest index handed to the machine (or skipped as a no-op) in this
  /// incarnation. Starts at 0. Monotonic; volatile: a restarted node applies
  /// its log again from index 1 into a fresh machine.
  index_t last_applied;
  /// Clients waiting, keyed by the index of their entry. Invariant: every
  /// key is > last_applied.
  std::map<index_t, waiting_client> waiting;
  /// Commands applied (no-ops not counted).
  std::uint64_t commands_applied = 0;

  /// A read-only command (machine->is_read_only) waiting for its peer's
  /// ReadIndex answer. Volatile.
  struct pending_read {
    std::string command;
    caf::typed_response_promise<client_reply> promise;
  };
  /// Reads sent to the peer as (read_index_atom, id), by id.
  std::map<std::uint64_t, pending_read> reads;
  /// Last read id handed out. Monotonic.
  std::uint64_t last_read_id = 0;
  /// Reads answered through ReadIndex.
  std::uint64_t reads_answered = 0;
};

using state_machine_actor_type = caf::stateful_actor<state_machine_state>;

/// Spawn with `sys.spawn(state_machine_actor, make, peer)`; `peer` may be
/// invalid and registered later with (register_atom, peer). `make` is called
/// once, inside the actor.
caf::behavior state_machine_actor(state_machine_actor_type* self,
                                  state_machine_factory make,
                                  caf::actor peer);

} // namespace raft::actors
