// kv::blocking_client and kv::client_actor against a real 3-node KV cluster
// on the normal scheduler (real time, label realtime): every operation's
// semantics end to end, local refusal of oversized commands, exactly-once
// writes across a leader crash, and the same with ReadIndex reads.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actors/kv/kv_state_machine.hpp"
#include "actors/kv_client/blocking_client.hpp"
#include "actors/node_supervisor.hpp"
#include "actors/transport.hpp"
#include "messages/type_ids.hpp"
#include "persistence/memory_store.hpp"

using namespace raft;
using namespace std::chrono_literals;

namespace {

/// N KV nodes behind one direct transport, on the real scheduler.
struct kv_nodes {
  caf::actor transport;
  std::vector<actors::node_handles> nodes;

  kv_nodes(caf::actor_system& sys, std::uint32_t n, bool read_index,
           std::size_t max_sessions = kv::kv_limits{}.max_sessions) {
    transport = sys.spawn(actors::transport_actor);
    for (std::uint32_t id = 1; id <= n; ++id) {
      actors::node_options o;
      o.raft.id = server_id{id};
      for (std::uint32_t j = 1; j <= n; ++j)
        o.raft.members.emplace_back(j);
      o.raft.election_ticks = 15;
      o.raft.heartbeat_ticks = 3;
      o.raft.rng_seed = 42 + id;
      o.raft.noop_on_election = read_index;
      o.tick_interval = 5ms;
      auto store = std::make_shared<persistence::memory_store>();
      o.store = store;
      o.transport = transport;
      o.make_state_machine = [store, read_index, max_sessions] {
        kv::kv_options kv;
        kv.read_index = read_index;
        kv.limits.max_sessions = max_sessions;
        kv.max_raft_state = 2000;
        kv.raft_state_bytes = [store] { return store->raft_state_size(); };
        return std::make_unique<kv::kv_state_machine>(std::move(kv));
      };
      nodes.push_back(actors::spawn_node(sys, std::move(o)));
      caf::anon_send(transport, register_atom::value, server_id{id},
                     nodes.back().peer);
    }
  }

  kv::client_options client(std::uint64_t seed) const {
    kv::client_options o;
    for (std::size_t k = 0; k < nodes.size(); ++k)
      o.servers.emplace_back(server_id{static_cast<std::uint32_t>(k + 1)},
                             nodes[k].state_machine);
    o.request_timeout = 300ms;
    o.seed = seed;
    return o;
  }

  /// The id (1-based) of a node that says it leads, or 0.
  std::uint32_t leader(caf::actor_system& sys) {
    caf::scoped_actor self{sys};
    std::uint32_t result = 0;
    for (auto& h : nodes)
      self->request(h.peer, 1s, caf::get_atom::value, status_atom::value)
        .receive(
          [&](peer_status& s) {
            if (s.role == role::leader)
              result = s.id.value;
          },
          [](caf::error&) {});
    return result;
  }

  void stop() {
    for (auto& h : nodes)
      actors::stop_node(h);
    nodes.clear();
  }
};

/// The client's session id and last seq (its status).
std::pair<std::uint64_t, std::uint64_t> session_of(caf::actor_system& sys,
                                                   const caf::actor& client) {
  caf::scoped_actor self{sys};
  std::pair<std::uint64_t, std::uint64_t> result{~0ull, ~0ull};
  self->request(client, 1s, caf::get_atom::value, status_atom::value)
    .receive(
      [&](std::uint64_t id, std::uint64_t seq, std::uint64_t) {
        result = {id, seq};
      },
      [](caf::error&) {});
  return result;
}

void run_scenario(bool read_index) {
  caf::actor_system_config cfg;
  register_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  kv_nodes c{sys, 3, read_index};
  {
    kv::blocking_client kv{sys, c.client(1)};
    CHECK(session_of(sys, kv.actor()).first == 0); // no session yet
    // Every operation, end to end (the first call also finds the leader).
    CHECK(kv.put("k", "v1").error == errc::none);
    // The first write opened a session: its id is a log index.
    auto [id, seq] = session_of(sys, kv.actor());
    CHECK(id != 0);
    CHECK(id != ~0ull);
    CHECK(seq == 1);
    auto r = kv.get("k");
    CHECK(r.error == errc::none);
    CHECK(r.found);
    CHECK(r.value == "v1");
    CHECK(kv.append("k", "+2").error == errc::none);
    CHECK(kv.get("k").value == "v1+2");
    CHECK_FALSE(kv.cas("k", "nope", "x").ok);
    CHECK(kv.cas("k", "v1+2", "v3").ok);
    CHECK(kv.get("k").value == "v3");
    CHECK(kv.create("new", "n").ok);
    CHECK_FALSE(kv.create("new", "again").ok);
    CHECK(kv.del("new").ok);
    CHECK_FALSE(kv.del("new").ok);
    CHECK_FALSE(kv.get("new").found);
    // Oversized: refused with too_large, nothing changed.
    std::string huge(kv::kv_limits{}.max_value_bytes + 1, 'h');
    CHECK(kv.put("k", huge).error == errc::too_large);
    CHECK(kv.get("k").value == "v3");
    // Crash the leader: the client finds the new one; every acknowledged
    // append is there exactly once.
    auto l = c.leader(sys);
    REQUIRE(l != 0);
    actors::stop_node(c.nodes[l - 1]);
    std::string expected = "v3";
    for (int i = 0; i < 20; ++i) {
      auto piece = "," + std::to_string(i);
      REQUIRE(kv.append("k", piece).error == errc::none);
      expected += piece;
    }
    CHECK(kv.get("k").value == expected);
    CHECK(session_of(sys, kv.actor()).first == id); // the same session
    // A second client sees the first one's writes; reading needs no
    // session, so it never opens one.
    kv::blocking_client other{sys, c.client(2)};
    CHECK(other.get("k").value == expected);
    CHECK(session_of(sys, other.actor()).first == 0);
  }
  c.stop();
}

} // namespace

TEST_CASE("kv client: every operation end to end and across a leader crash",
          "[kv-client][real-time]") {
  run_scenario(false);
}

TEST_CASE("kv client: the same with ReadIndex reads",
          "[kv-client][real-time][read-index]") {
  run_scenario(true);
}

TEST_CASE("kv client: an evicted session is replaced by a new one, and a "
          "write refused at its only send runs once in it",
          "[kv-client][real-time][session]") {
  caf::actor_system_config cfg;
  register_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  kv_nodes c{sys, 3, false, 1}; // one session at a time
  {
    kv::blocking_client reader{sys, c.client(1)};
    CHECK_FALSE(reader.get("k").found);
    // A generous request timeout: a's writes must reach the leader at their
    // first send (a resend would make a refused write's outcome unknown),
    // even on a loaded machine.
    auto a_opts = c.client(2);
    a_opts.request_timeout = 10s;
    kv::blocking_client a{sys, a_opts};
    REQUIRE(a.put("k", "a").error == errc::none);
    auto first = session_of(sys, a.actor()).first;
    CHECK(first != 0);
    kv::blocking_client b{sys, c.client(3)};
    REQUIRE(b.append("k", "+b").error == errc::none); // evicts a's session
    auto of_b = session_of(sys, b.actor()).first;
    CHECK(of_b > first);
    // a's next write is refused (session_expired) at its first send, so it
    // was not applied: the client opens a new session and sends it again.
    auto r = a.append("k", "+a");
    CHECK(r.error == errc::none);
    auto second = session_of(sys, a.actor());
    CHECK(second.first > of_b);
    CHECK(second.second == 1);
    CHECK(reader.get("k").value == "a+b+a"); // each write exactly once
    CHECK(session_of(sys, reader.actor()).first == 0);
  }
  c.stop();
}
