// kv::blocking_client and kv::client_actor against a real 3-node KV cluster
// on the normal scheduler (real time, label realtime): every operation's
// semantics end to end, local refusal of oversized commands, exactly-once
// writes across a leader crash, and the same with ReadIndex reads.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
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

  kv_nodes(caf::actor_system& sys, std::uint32_t n, bool read_index) {
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
      o.make_state_machine = [store, read_index] {
        kv::kv_options kv;
        kv.read_index = read_index;
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

void run_scenario(bool read_index) {
  caf::actor_system_config cfg;
  register_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  kv_nodes c{sys, 3, read_index};
  {
    kv::blocking_client kv{sys, c.client(1)};
    // Every operation, end to end (the first call also finds the leader).
    CHECK(kv.put("k", "v1").error == errc::none);
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
    // A second session sees the first one's writes.
    kv::blocking_client other{sys, c.client(2)};
    CHECK(other.get("k").value == expected);
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
