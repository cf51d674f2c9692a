#include "actors/net/endpoint_relay.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include <caf/io/all.hpp>

#include "messages/client_messages.hpp"

namespace raft::net {

namespace {

constexpr auto backoff_min = std::chrono::milliseconds{50};
constexpr auto backoff_max = std::chrono::milliseconds{1000};

void dial(endpoint_relay_type* self);

void redial_later(endpoint_relay_type* self) {
  auto& st = self->state;
  auto gen = ++st.generation;
  auto delay = st.backoff;
  st.backoff = std::min(st.backoff * 2, backoff_max);
  self->delayed_send(self, delay, redial_atom::value, server_id{}, gen);
}

void dial(endpoint_relay_type* self) {
  auto& st = self->state;
  auto gen = ++st.generation;
  auto mm = self->system().middleman().actor_handle();
  self
    ->request(mm, std::chrono::seconds{1}, caf::connect_atom::value,
              st.addr.host, st.addr.port)
    .then(
      [self, gen](const caf::node_id&, caf::strong_actor_ptr& ptr,
                  const std::set<std::string>&) {
        auto& st = self->state;
        if (st.generation != gen)
          return;
        auto ep = caf::actor_cast<caf::actor>(std::move(ptr));
        if (!ep) {
          redial_later(self);
          return;
        }
        self->monitor(ep);
        st.remote = std::move(ep);
        st.backoff = backoff_min;
      },
      [self, gen](caf::error&) {
        if (self->state.generation == gen)
          redial_later(self);
      });
}

} // namespace

caf::behavior endpoint_relay(endpoint_relay_type* self, member_address addr) {
  self->state.addr = std::move(addr);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.remote && st.remote.address() == dm.source) {
      st.remote = nullptr;
      redial_later(self);
    }
  });
  dial(self);
  return {
    [self](redial_atom, server_id, std::uint64_t gen) {
      if (self->state.generation == gen && !self->state.remote)
        dial(self);
    },
    [self](submit_atom, std::string& cmd) -> caf::result<client_reply> {
      if (!self->state.remote) {
        client_reply r;
        r.error = errc::shutting_down;
        return r;
      }
      self->delegate(self->state.remote, submit_atom::value, std::move(cmd));
      return caf::delegated<client_reply>{};
    },
    [self](caf::get_atom, status_atom) -> caf::result<peer_status> {
      if (!self->state.remote)
        return caf::make_error(caf::sec::request_receiver_down);
      self->delegate(self->state.remote, caf::get_atom::value,
                     status_atom::value);
      return caf::delegated<peer_status>{};
    },
  };
}

} // namespace raft::net
