// endpoint_relay -- a local stand-in for one remote raft-node endpoint, for
// clients that outlive node restarts (raft-ctl workload). It dials the
// endpoint without blocking, monitors it, and re-dials with backoff (50 ms
// doubling to 1 s) after a failed dial or a lost connection, so a client
// that holds the relay reaches the node again after it restarts.
//
// Protocol (the endpoint's, as far as clients use it):
//   (submit_atom, std::string) -> client_reply: delegated to the endpoint;
//       while disconnected, answered at once with errc::shutting_down (the
//       KV client then tries the next server).
//   (caf::get_atom, status_atom) -> peer_status: delegated; an error while
//       disconnected.
#pragma once

#include <chrono>
#include <cstdint>

#include <caf/all.hpp>

#include "actors/net/wire.hpp"

namespace raft::net {

struct endpoint_relay_state {
  static inline const char* name = "raft.endpoint_relay";
  member_address addr;
  /// The endpoint; invalid while disconnected. Monitored when valid.
  caf::actor remote;
  /// Bumped on every dial, so stale answers and timers are ignored.
  std::uint64_t generation = 0;
  std::chrono::milliseconds backoff{50};
};

using endpoint_relay_type = caf::stateful_actor<endpoint_relay_state>;

/// Spawn with sys.spawn(endpoint_relay, addr) in an actor system that has
/// loaded caf::io::middleman.
caf::behavior endpoint_relay(endpoint_relay_type* self, member_address addr);

} // namespace raft::net
