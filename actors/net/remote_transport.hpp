// remote_transport -- the `transport` of a node in distributed mode
// (node_options::transport; docs/architecture.md §7.3). It receives
// (from, to, M) from the local peer and sends it, wrapped as
// (net_raft_atom, cluster_id, from, to, M), to the endpoint actor of `to`.
//
// Connections: at spawn it dials every other member without blocking (a
// request with a timeout to the middleman's actor_handle, connect_atom; see
// docs/architecture.md §9) and monitors the endpoint it gets. A failed dial
// or a down_msg (connection lost; with middleman heartbeats also a hung
// peer) schedules a re-dial after a backoff that starts at backoff_min and
// doubles up to backoff_max; a successful dial resets it. While `to` is not
// connected, its messages are dropped and counted: Raft tolerates loss and
// retransmits.
//
// Protocol:
//   (server_id from, server_id to, M)  for every Raft message type M (each
//       alternative of rpc_message; handlers from messages/rpc_handlers.hpp).
//   (caf::get_atom, status_atom) -> (uint64_t sent, uint64_t dropped,
//                                    uint64_t connected_peers)
//   (redial_atom, server_id id, uint64_t generation)   internal timer.
//
// Shutdown: nobody links to it; its owner sends it an exit
// (caf::anon_send_exit(t, caf::exit_reason::user_shutdown)).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <caf/all.hpp>

#include "actors/net/wire.hpp"

namespace raft::net {

struct remote_transport_config {
  /// Every member (this node included; it is never dialled).
  cluster_map members;
  /// This node.
  server_id self;
  /// Carried in every message; the receiving endpoints check it.
  std::string cluster_id;
  /// Timeout of one connect attempt.
  std::chrono::milliseconds connect_timeout{1000};
  /// Re-dial backoff: starts at backoff_min, doubles up to backoff_max.
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{2000};
  /// Print one line on stderr per connect / disconnect (RAFT_NET_LOG
  /// environment variable set, or true here).
  bool verbose = false;
};

struct remote_transport_state {
  static inline const char* name = "raft.remote_transport";

  /// One remote member.
  struct link {
    member_address addr;
    /// The member's endpoint; invalid while not connected. Invariant: when
    /// valid, it is monitored.
    caf::actor endpoint;
    /// A connect request or a re-dial timer is outstanding.
    bool dialling = false;
    /// Bumped on every state change, so stale timers and answers are
    /// ignored.
    std::uint64_t generation = 0;
    /// The next re-dial's delay.
    std::chrono::milliseconds backoff{0};
  };

  remote_transport_config cfg;
  /// Every member except this node.
  std::map<server_id, link> links;
  /// Counters, monotonic, volatile.
  std::uint64_t sent = 0;
  std::uint64_t dropped = 0;
};

using remote_transport_type = caf::stateful_actor<remote_transport_state>;

/// Spawn with sys.spawn(remote_transport, cfg) in an actor system that has
/// loaded caf::io::middleman.
caf::behavior remote_transport(remote_transport_type* self,
                               remote_transport_config cfg);

} // namespace raft::net
