// transport -- the direct, in-process transport between peer actors (the
// demo and the library's single-process mode; the test kit has its own
// simulated network with the same message shape).
//
// Protocol:
//   (register_atom, server_id id, caf::actor peer)  adds or replaces the peer
//       of `id` (a restarted node registers its new peer actor).
//   (server_id from, server_id to, M) for every Raft message type M (each
//       alternative of rpc_message; handlers from messages/rpc_handlers.hpp):
//       forwarded unchanged to the peer of `to`; dropped and counted when
//       `to` is unknown (or its peer is gone).
//   (caf::get_atom, status_atom) -> (uint64_t delivered, uint64_t dropped)
//
// Handles and shutdown (docs/architecture.md §9): the transport holds strong
// handles to the registered peers, and the peers hold one to the transport.
// That cycle cannot keep anything alive past a stop: the transport monitors
// every registered peer and forgets it when it goes down, and a peer's
// handles die with its state when it exits. The transport itself is not
// linked to (or owned by) any node; it lives while someone holds a handle
// to it, so its owner should drop its handle or send it an exit
// (caf::anon_send_exit(t, caf::exit_reason::user_shutdown)) at shutdown.
#pragma once

#include <cstdint>
#include <map>

#include <caf/all.hpp>

#include "messages/ids.hpp"

namespace raft::actors {

struct transport_state {
  /// Actor name (CAF uses it in error messages).
  static inline const char* name = "raft.transport";
  /// The registered peer of each server. Invariant: every value is a live
  /// (or just exited, down message pending) peer actor monitored by the
  /// transport.
  std::map<server_id, caf::actor> peers;
  /// Messages forwarded. Monotonic; volatile.
  std::uint64_t delivered = 0;
  /// Messages dropped because `to` had no registered peer. Monotonic.
  std::uint64_t dropped = 0;
};

using transport_actor_type = caf::stateful_actor<transport_state>;

/// Spawn with `sys.spawn(transport_actor)` or spawn_direct_transport(sys).
caf::behavior transport_actor(transport_actor_type* self);

/// Spawns a direct transport (same as `sys.spawn(transport_actor)`).
caf::actor spawn_direct_transport(caf::actor_system& sys);

} // namespace raft::actors
