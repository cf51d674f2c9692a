#include "actors/transport.hpp"

#include <cstdint>
#include <utility>

#include "messages/raft_messages.hpp"
#include "messages/rpc_handlers.hpp"
#include "messages/type_ids.hpp"

namespace raft::actors {

namespace {

/// Forwards (from, to, msg) to the peer of `to`, or counts a drop.
template <class Message>
void forward(transport_actor_type* self, server_id from, server_id to,
             Message& msg) {
  auto& st = self->state;
  auto it = st.peers.find(to);
  if (it == st.peers.end()) {
    ++st.dropped;
    return;
  }
  ++st.delivered;
  // Sent as ourselves: the peer does not care who carried the message.
  self->send(it->second, from, to, std::move(msg));
}

} // namespace

caf::behavior transport_actor(transport_actor_type* self) {
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& peers = self->state.peers;
    for (auto it = peers.begin(); it != peers.end(); ++it) {
      if (it->second.address() == dm.source) {
        peers.erase(it);
        return;
      }
    }
  });
  auto on_message = [self](server_id from, server_id to, auto& msg) {
    forward(self, from, to, msg);
  };
  return rpc_handlers(on_message).or_else(
    [self](register_atom, server_id id, caf::actor& peer) {
      auto& peers = self->state.peers;
      if (!peer) {
        peers.erase(id);
        return;
      }
      self->monitor(peer);
      peers[id] = std::move(peer);
    },
    [self](caf::get_atom, status_atom)
      -> caf::result<std::uint64_t, std::uint64_t> {
      return {self->state.delivered, self->state.dropped};
    });
}

caf::actor spawn_direct_transport(caf::actor_system& sys) {
  return sys.spawn(transport_actor);
}

} // namespace raft::actors
