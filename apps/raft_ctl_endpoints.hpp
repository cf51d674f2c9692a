// How raft-ctl reaches the nodes named by --cluster: its actor system
// configuration, one `endpoint` per address, and the rounds that connect to
// them and ask them for their status (in parallel, each bounded in time).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/net/wire.hpp"
#include "messages/client_messages.hpp"

namespace raft::ctl {

/// raft-ctl's actor system: caf::io, caf-raft's message types, and
/// raft-node's network and scheduler settings (actors/net/io_settings.hpp).
struct ctl_config : caf::actor_system_config {
  ctl_config();
};

/// One endpoint given in --cluster, as raft-ctl last saw it.
struct endpoint {
  /// Where the node listens.
  net::member_address addr;
  /// The node's published endpoint actor; invalid when unreachable.
  caf::actor handle;
  /// The node's status from the last query_all; none when it did not
  /// answer.
  std::optional<peer_status> status;
  /// Messages the node's endpoint refused (wrong cluster, unknown sender).
  std::uint64_t refused = 0;
};

/// "HOST:PORT" of `ep`.
std::string address(const endpoint& ep);

/// Connects to every endpoint not connected yet (each attempt bounded by
/// 2 s; a refused connection fails at once).
void connect_all(caf::actor_system& sys, std::vector<endpoint>& eps);

/// Refreshes each connected endpoint's status (each query bounded by 1 s).
/// An endpoint that does not answer is dropped (dialled again by the next
/// connect_all: the node may have been restarted).
void query_all(caf::actor_system& sys, std::vector<endpoint>& eps);

/// Learns the endpoints' ids (their status). The client can only follow a
/// leader hint to an endpoint whose id it knows, so a node whose status
/// query failed (still starting, or slow under load) is asked again: go on
/// once every endpoint answered, or once some did and one of them leads, or
/// after 2 s with at least one answer; give up at the timeout.
/// Returns the deadline (now + the timeout at the call).
std::chrono::steady_clock::time_point
wait_for_ids(caf::actor_system& sys, std::vector<endpoint>& eps,
             std::chrono::milliseconds timeout);

} // namespace raft::ctl
