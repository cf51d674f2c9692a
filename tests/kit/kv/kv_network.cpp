#include "tests/kit/kv/kv_network.hpp"

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "messages/client_messages.hpp"
#include "messages/type_ids.hpp"

namespace raft::testing {

namespace {

using kvn_forward_atom = caf::atom_constant<caf::atom("kvn_fwd")>;
using kvn_fail_atom = caf::atom_constant<caf::atom("kvn_fail")>;

struct kvn_state {
  static inline const char* name = "raft.kv_network";

  /// A request in flight.
  struct call {
    std::int32_t client = 0;
    std::int32_t server = 0;
    std::string cmd;
    caf::typed_response_promise<client_reply> promise;
    /// The destination's incarnation when the request reached it.
    std::uint64_t incarnation = 0;
  };

  /// Current state machine actor of each server (invalid: crashed).
  std::vector<caf::actor> servers;
  /// Bumped at every change of servers[i]. Monotonic.
  std::vector<std::uint64_t> incarnation;
  /// Per client: which servers it reaches.
  std::map<std::int32_t, std::vector<bool>> links;
  bool reliable = true;
  std::mt19937_64 rng;
  std::map<std::uint64_t, call> calls;
  std::uint64_t next_id = 0;

  /// The call in flight with id `id`; nullptr once it was answered.
  call* find_call(std::uint64_t id) {
    auto it = calls.find(id);
    return it == calls.end() ? nullptr : &it->second;
  }

  bool linked(std::int32_t client, std::int32_t server) const {
    auto it = links.find(client);
    return it != links.end() && server >= 0
           && static_cast<std::size_t>(server) < it->second.size()
           && it->second[static_cast<std::size_t>(server)];
  }
  std::uint64_t below(std::uint64_t n) { return rng() % n; }
};

using kvn_actor = caf::stateful_actor<kvn_state>;

/// labrpc without LongDelays: the caller learns of the loss after 0-99 ms.
void fail_later(kvn_actor* self, std::uint64_t id) {
  auto d = std::chrono::milliseconds{self->state.below(100)};
  self->delayed_send(self, d, kvn_fail_atom::value, id);
}

void fail_now(kvn_actor* self, std::uint64_t id) {
  auto* c = self->state.find_call(id);
  if (c == nullptr)
    return;
  c->promise.deliver(caf::make_error(caf::sec::request_timeout));
  self->state.calls.erase(id);
}

void forward(kvn_actor* self, std::uint64_t id) {
  auto& st = self->state;
  auto* c = st.find_call(id);
  if (c == nullptr)
    return;
  auto s = static_cast<std::size_t>(c->server);
  if (!st.linked(c->client, c->server) || !st.servers[s]) {
    fail_later(self, id);
    return;
  }
  c->incarnation = st.incarnation[s];
  self->request(st.servers[s], caf::infinite, submit_atom::value, c->cmd)
    .then(
      [self, id](client_reply& r) {
        auto& st = self->state;
        auto* c = st.find_call(id);
        if (c == nullptr)
          return;
        auto s = static_cast<std::size_t>(c->server);
        // A reply from a crashed instance, or lost on an unreliable net.
        if (st.incarnation[s] != c->incarnation
            || (!st.reliable && st.below(1000) < 100)) {
          fail_now(self, id);
          return;
        }
        c->promise.deliver(std::move(r));
        st.calls.erase(id);
      },
      [self, id](caf::error&) { fail_now(self, id); });
}

caf::behavior kv_network(kvn_actor* self, int servers, std::uint64_t seed) {
  auto& st = self->state;
  st.servers.resize(static_cast<std::size_t>(servers));
  st.incarnation.resize(static_cast<std::size_t>(servers));
  st.rng.seed(seed);
  return {
    [self](kvn_call_atom, std::int32_t client, std::int32_t server,
           std::string& cmd) -> caf::result<client_reply> {
      auto& st = self->state;
      auto rp = self->make_response_promise<client_reply>();
      auto id = st.next_id++;
      st.calls.emplace(id, kvn_state::call{client, server, std::move(cmd), rp,
                                           0});
      if (server < 0 || static_cast<std::size_t>(server) >= st.servers.size()) {
        fail_now(self, id);
        return rp;
      }
      if (st.reliable) {
        forward(self, id);
        return rp;
      }
      // labrpc unreliable: a short delay, then 10 % of requests are lost.
      auto d = std::chrono::milliseconds{st.below(27)};
      if (st.below(1000) < 100) {
        self->delayed_send(self, d, kvn_fail_atom::value, id);
        return rp;
      }
      self->delayed_send(self, d, kvn_forward_atom::value, id);
      return rp;
    },
    [self](kvn_forward_atom, std::uint64_t id) { forward(self, id); },
    [self](kvn_fail_atom, std::uint64_t id) { fail_now(self, id); },
    [self](kvn_server_atom, std::int32_t server, caf::actor& sm) {
      auto& st = self->state;
      if (server >= 0 && static_cast<std::size_t>(server) < st.servers.size()) {
        auto s = static_cast<std::size_t>(server);
        st.servers[s] = std::move(sm);
        ++st.incarnation[s];
      }
      return caf::ok_atom::value;
    },
    [self](kvn_link_atom, std::int32_t client,
           std::vector<std::int32_t>& to) {
      auto& st = self->state;
      std::vector<bool> reach(st.servers.size(), false);
      for (auto s : to)
        if (s >= 0 && static_cast<std::size_t>(s) < reach.size())
          reach[static_cast<std::size_t>(s)] = true;
      st.links[client] = std::move(reach);
      return caf::ok_atom::value;
    },
    [self](kvn_reliable_atom, bool reliable) {
      self->state.reliable = reliable;
      return caf::ok_atom::value;
    },
  };
}

caf::behavior client_endpoint(caf::event_based_actor* self, caf::actor net,
                              std::int32_t client, std::int32_t server) {
  return {
    [=](submit_atom, std::string& cmd) {
      return self->delegate(net, kvn_call_atom::value, client, server,
                            std::move(cmd));
    },
  };
}

} // namespace

caf::actor spawn_kv_network(caf::actor_system& sys, int servers,
                            std::uint64_t seed) {
  return sys.spawn(kv_network, servers, seed);
}

caf::actor spawn_client_endpoint(caf::actor_system& sys, caf::actor net,
                                 int client, int server) {
  return sys.spawn(client_endpoint, std::move(net),
                   static_cast<std::int32_t>(client),
                   static_cast<std::int32_t>(server));
}

} // namespace raft::testing
