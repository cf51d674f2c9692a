// The wire protocol between raft-node processes (docs/architecture.md §7.1).
// Every Raft message that crosses the network is wrapped with the sender's
// cluster id and both server ids, so the receiving endpoint can refuse
// traffic from another cluster or from a server outside its --cluster list
// before the peer ever sees it:
//
//   (net_raft_atom, std::string cluster_id, server_id from, server_id to, M)
//     M any alternative of rpc_message (messages/raft_messages.hpp); the
//     endpoint's handlers come from rpc_handlers<net_raft_atom,
//     const std::string&> (messages/rpc_handlers.hpp).
//
// All of these types are registered by raft::register_types (type_ids.hpp);
// both sides must register them or the message arrives empty.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "messages/ids.hpp"
#include "messages/type_ids.hpp"

namespace raft::net {

/// Tags a wrapped Raft message (see the file comment).
using net_raft_atom = caf::atom_constant<caf::atom("n_raft")>;
/// (caf::get_atom, refused_atom) -> std::uint64_t: messages refused by an
/// endpoint (wrong cluster id, unknown sender, or addressed to another id).
using refused_atom = caf::atom_constant<caf::atom("n_refused")>;
/// Internal to remote_transport: dial server `id` again.
using redial_atom = caf::atom_constant<caf::atom("n_redial")>;

/// Where a cluster member listens.
struct member_address {
  std::string host;
  std::uint16_t port = 0;
};

/// The --cluster map: every member's id and address (this node included).
using cluster_map = std::map<server_id, member_address>;

/// Parses "1=HOST:PORT,2=HOST:PORT,...". Ids >= 1, unique; ports 1..65535;
/// hosts non-empty. Returns false with a one-line reason in `why`.
bool parse_cluster_map(const std::string& text, cluster_map& out,
                       std::string& why);

/// Parses "HOST:PORT" (the last ':' separates the port). False on error.
bool parse_host_port(const std::string& text, member_address& out);

} // namespace raft::net
