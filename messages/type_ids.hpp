// One of the two CAF-dependent headers of messages/ (with rpc_handlers.hpp;
// both in the raft_messages_caf target): every type that travels between
// actors is registered here, once, with the same name on every node (an
// unregistered type crosses the network as an empty message), and every verb
// is an atom here.
//
// Use: cfg.add_message_types<caf::id_block::raft>() in every actor_system
// config (raft::register_types(cfg) does it).
#pragma once

#include <string>
#include <vector>

#include <caf/all.hpp>

#include "messages/client_messages.hpp"
#include "messages/ids.hpp"
#include "messages/log_entry.hpp"
#include "messages/node_messages.hpp"
#include "messages/raft_messages.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(raft, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(raft, (raft::term_t))
  CAF_ADD_TYPE_ID(raft, (raft::index_t))
  CAF_ADD_TYPE_ID(raft, (raft::server_id))
  CAF_ADD_TYPE_ID(raft, (raft::log_entry))
  CAF_ADD_TYPE_ID(raft, (raft::log_id))
  CAF_ADD_TYPE_ID(raft, (std::vector<raft::log_entry>))
  CAF_ADD_TYPE_ID(raft, (raft::request_vote))
  CAF_ADD_TYPE_ID(raft, (raft::request_vote_reply))
  CAF_ADD_TYPE_ID(raft, (raft::append_entries))
  CAF_ADD_TYPE_ID(raft, (raft::append_entries_reply))
  CAF_ADD_TYPE_ID(raft, (raft::hard_state))
  CAF_ADD_TYPE_ID(raft, (raft::persist_batch))
  CAF_ADD_TYPE_ID(raft, (raft::persisted))
  CAF_ADD_TYPE_ID(raft, (raft::apply_msg))
  CAF_ADD_TYPE_ID(raft, (std::vector<raft::apply_msg>))
  CAF_ADD_TYPE_ID(raft, (raft::propose_result))
  CAF_ADD_TYPE_ID(raft, (raft::peer_status))
  CAF_ADD_TYPE_ID(raft, (raft::client_reply))
  CAF_ADD_TYPE_ID(raft, (raft::install_snapshot))
  CAF_ADD_TYPE_ID(raft, (raft::install_snapshot_reply))
  CAF_ADD_TYPE_ID(raft, (raft::snapshot_install))
  CAF_ADD_TYPE_ID(raft, (raft::snapshot_chunk))
  CAF_ADD_TYPE_ID(raft, (raft::snapshot_read_back))
CAF_END_TYPE_ID_BLOCK(raft)

namespace raft {

// Verbs (CAF 0.17 atoms: at most 10 characters).
using tick_atom = caf::atom_constant<caf::atom("r_tick")>;
using propose_atom = caf::atom_constant<caf::atom("r_propose")>;
using status_atom = caf::atom_constant<caf::atom("r_status")>;
using load_atom = caf::atom_constant<caf::atom("r_load")>;
using flush_atom = caf::atom_constant<caf::atom("r_flush")>;
using apply_atom = caf::atom_constant<caf::atom("r_apply")>;
using submit_atom = caf::atom_constant<caf::atom("r_submit")>;
using register_atom = caf::atom_constant<caf::atom("r_register")>;
using snapshot_atom = caf::atom_constant<caf::atom("r_snapshot")>;
/// Linearizable read (thesis §6.4) between the state machine actor and its
/// peer: (read_index_atom, std::uint64_t request_id) asks,
/// (read_index_atom, request_id, index_t, bool ok, server_id leader_hint)
/// answers (actors/peer_actor.hpp).
using read_index_atom = caf::atom_constant<caf::atom("r_read")>;

/// Registers every raft message type with an actor system config.
inline void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::raft>();
}

} // namespace raft
