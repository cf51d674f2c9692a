// endpoint_actor -- the one actor a raft-node process publishes on its port
// (docs/architecture.md §7.2). It is the node's front door: Raft traffic
// from other nodes, client requests and status queries all arrive here.
//
// Protocol:
//   (register_atom, caf::actor peer, caf::actor state_machine)
//       sets the local node's actors (sent once the node is spawned, again
//       after a local restart). Until then Raft traffic and client
//       requests are dropped (Raft and the client retry).
//   (net_raft_atom, std::string cluster_id, server_id from, server_id to, M)
//       for every Raft message type M (wire.hpp; handlers from
//       messages/rpc_handlers.hpp): forwarded as
//       (from, to, M) to the local peer iff cluster_id is this cluster's,
//       `from` is a member of --cluster and `to` is this node. Otherwise
//       refused: counted, and one line on stderr the first time a given
//       (cluster id, from, to) offends.
//   (submit_atom, std::string cmd) -> client_reply
//       delegated to the local state machine actor (which answers the
//       caller directly); shutting_down when no node is registered.
//   (caf::get_atom, status_atom) -> peer_status
//       delegated to the local peer.
//   (caf::get_atom, refused_atom) -> std::uint64_t: refused messages.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <tuple>

#include <caf/all.hpp>

#include "actors/net/wire.hpp"
#include "messages/ids.hpp"

namespace raft::net {

struct endpoint_config {
  /// This cluster's id (--cluster-id); traffic carrying another is refused.
  std::string cluster_id;
  /// This node's id.
  server_id self;
  /// The members (--cluster ids); traffic from anyone else is refused.
  std::set<server_id> members;
};

struct endpoint_state {
  static inline const char* name = "raft.endpoint";
  /// Set once at spawn.
  endpoint_config cfg;
  /// The local node's actors; invalid until registered.
  caf::actor peer;
  caf::actor state_machine;
  /// Raft messages refused. Monotonic; volatile.
  std::uint64_t refused = 0;
  /// Raft messages forwarded to the peer. Monotonic; volatile.
  std::uint64_t forwarded = 0;
  /// Offenders already logged: (cluster id, from, to).
  std::set<std::tuple<std::string, std::uint32_t, std::uint32_t>> logged;
};

using endpoint_actor_type = caf::stateful_actor<endpoint_state>;

/// Spawn with sys.spawn(endpoint_actor, cfg).
caf::behavior endpoint_actor(endpoint_actor_type* self, endpoint_config cfg);

} // namespace raft::net
