#include "actors/net/endpoint_actor.hpp"

#include <iostream>
#include <utility>

#include "messages/client_messages.hpp"
#include "messages/raft_messages.hpp"
#include "messages/rpc_handlers.hpp"

namespace raft::net {

namespace {

/// The membership guard: forwards an admitted message to the peer, refuses
/// (counts, logs once per offender) the rest.
template <class Message>
void admit(endpoint_actor_type* self, const std::string& cluster_id,
           server_id from, server_id to, Message& msg) {
  auto& st = self->state;
  const char* why = nullptr;
  if (cluster_id != st.cfg.cluster_id)
    why = "another cluster id";
  else if (st.cfg.members.count(from) == 0)
    why = "a sender outside --cluster";
  else if (to != st.cfg.self)
    why = "addressed to another server";
  if (why != nullptr) {
    ++st.refused;
    auto key = std::make_tuple(cluster_id, from.value, to.value);
    if (st.logged.insert(key).second)
      std::cerr << "raft-node " << st.cfg.self << ": refused a message from "
                << from << " to " << to << " of cluster '" << cluster_id
                << "' (" << why << ")" << std::endl;
    return;
  }
  if (!st.peer)
    return; // not running yet: Raft retransmits
  ++st.forwarded;
  self->send(st.peer, from, to, std::move(msg));
}

} // namespace

caf::behavior endpoint_actor(endpoint_actor_type* self, endpoint_config cfg) {
  self->state.cfg = std::move(cfg);
  auto on_message = [self](net_raft_atom, const std::string& cluster_id,
                           server_id from, server_id to, auto& msg) {
    admit(self, cluster_id, from, to, msg);
  };
  return rpc_handlers<net_raft_atom, const std::string&>(on_message).or_else(
    [self](register_atom, caf::actor& peer, caf::actor& sm) {
      self->state.peer = std::move(peer);
      self->state.state_machine = std::move(sm);
    },
    [self](submit_atom, std::string& cmd) -> caf::result<client_reply> {
      auto& sm = self->state.state_machine;
      if (!sm) {
        client_reply r;
        r.error = errc::shutting_down;
        return r;
      }
      self->delegate(sm, submit_atom::value, std::move(cmd));
      return caf::delegated<client_reply>{};
    },
    [self](caf::get_atom, status_atom) -> caf::result<peer_status> {
      auto& peer = self->state.peer;
      if (!peer)
        return caf::make_error(caf::sec::request_receiver_down);
      self->delegate(peer, caf::get_atom::value, status_atom::value);
      return caf::delegated<peer_status>{};
    },
    [self](caf::get_atom, refused_atom) { return self->state.refused; });
}

} // namespace raft::net
