#include "actors/net/remote_transport.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <utility>

#include <caf/io/all.hpp>

#include "messages/raft_messages.hpp"
#include "messages/rpc_handlers.hpp"

namespace raft::net {

namespace {

using link = remote_transport_state::link;

void dial(remote_transport_type* self, server_id id);

/// Schedules the next dial of `id` after its backoff, then doubles it.
void schedule_redial(remote_transport_type* self, server_id id) {
  auto& l = self->state.links.at(id);
  const auto& cfg = self->state.cfg;
  l.dialling = true;
  ++l.generation;
  auto delay = std::max(l.backoff, cfg.backoff_min);
  l.backoff = std::min(delay * 2, cfg.backoff_max);
  self->delayed_send(self, delay, redial_atom::value, id, l.generation);
}

void dial(remote_transport_type* self, server_id id) {
  auto& l = self->state.links.at(id);
  l.dialling = true;
  auto gen = ++l.generation;
  auto mm = self->system().middleman().actor_handle();
  self
    ->request(mm, self->state.cfg.connect_timeout, caf::connect_atom::value,
              l.addr.host, l.addr.port)
    .then(
      [self, id, gen](const caf::node_id&, caf::strong_actor_ptr& ptr,
                      const std::set<std::string>&) {
        auto& l = self->state.links.at(id);
        if (l.generation != gen)
          return;
        auto ep = caf::actor_cast<caf::actor>(std::move(ptr));
        if (!ep) {
          schedule_redial(self, id);
          return;
        }
        self->monitor(ep);
        l.endpoint = std::move(ep);
        l.dialling = false;
        l.backoff = self->state.cfg.backoff_min;
        if (self->state.cfg.verbose)
          std::cerr << "raft-node " << self->state.cfg.self
                    << ": connected to " << id << " at " << l.addr.host << ":"
                    << l.addr.port << std::endl;
      },
      [self, id, gen](caf::error&) {
        auto& l = self->state.links.at(id);
        if (l.generation != gen)
          return;
        schedule_redial(self, id);
      });
}

/// Wraps and sends (from, to, msg) to the endpoint of `to`, or drops it.
template <class Message>
void forward(remote_transport_type* self, server_id from, server_id to,
             Message& msg) {
  auto& st = self->state;
  auto it = st.links.find(to);
  if (it == st.links.end() || !it->second.endpoint) {
    ++st.dropped;
    return;
  }
  ++st.sent;
  self->send(it->second.endpoint, net_raft_atom::value, st.cfg.cluster_id,
             from, to, std::move(msg));
}

} // namespace

caf::behavior remote_transport(remote_transport_type* self,
                               remote_transport_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  if (std::getenv("RAFT_NET_LOG") != nullptr)
    st.cfg.verbose = true;
  for (auto& [id, addr] : st.cfg.members)
    if (id != st.cfg.self)
      st.links[id].addr = addr;
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto& [id, l] : self->state.links) {
      if (l.endpoint && l.endpoint.address() == dm.source) {
        l.endpoint = nullptr;
        if (self->state.cfg.verbose)
          std::cerr << "raft-node " << self->state.cfg.self
                    << ": lost connection to " << id << " ("
                    << self->system().render(dm.reason) << ")" << std::endl;
        schedule_redial(self, id);
        return;
      }
    }
  });
  for (auto& kv : st.links)
    dial(self, kv.first);
  auto on_message = [self](server_id from, server_id to, auto& msg) {
    forward(self, from, to, msg);
  };
  return rpc_handlers(on_message).or_else(
    [self](redial_atom, server_id id, std::uint64_t gen) {
      auto it = self->state.links.find(id);
      if (it != self->state.links.end() && it->second.generation == gen)
        dial(self, id);
    },
    [self](caf::get_atom, status_atom)
      -> caf::result<std::uint64_t, std::uint64_t, std::uint64_t> {
      std::uint64_t up = 0;
      for (auto& kv : self->state.links)
        if (kv.second.endpoint)
          ++up;
      return {self->state.sent, self->state.dropped, up};
    });
}

} // namespace raft::net
