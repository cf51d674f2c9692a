// Whole nodes (spawn_node: peer, timer, persister, state machine under a
// supervisor) wired through the direct transport: elections and
// replication on virtual time, and clean shutdown on both schedulers.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <thread>

#include "actors/node_supervisor.hpp"
#include "actors/transport.hpp"
#include "tests/actors/caf_fixture.hpp"

using namespace raft;
using namespace raft::test;
using raft::actors::node_handles;
using raft::actors::node_options;

namespace {

/// N nodes behind one direct transport, each with a memory store and a
/// recording machine.
struct cluster {
  caf::actor transport;
  std::vector<node_handles> nodes;
  std::vector<std::shared_ptr<persistence::memory_store>> stores;
  std::vector<std::shared_ptr<std::vector<apply_msg>>> applied;

  cluster(caf::actor_system& sys, std::uint32_t n,
          std::chrono::milliseconds tick, int election_ticks = 30,
          int heartbeat_ticks = 10) {
    transport = sys.spawn(actors::transport_actor);
    for (std::uint32_t id = 1; id <= n; ++id) {
      node_options opts;
      opts.raft = make_config(id, n);
      opts.raft.election_ticks = election_ticks;
      opts.raft.heartbeat_ticks = heartbeat_ticks;
      opts.tick_interval = tick;
      stores.push_back(std::make_shared<persistence::memory_store>());
      opts.store = stores.back();
      opts.transport = transport;
      applied.push_back(std::make_shared<std::vector<apply_msg>>());
      opts.make_state_machine = [log = applied.back()] {
        return std::make_unique<recording_machine>(log);
      };
      nodes.push_back(actors::spawn_node(sys, std::move(opts)));
      caf::anon_send(transport, register_atom::value, server_id{id},
                     nodes.back().peer);
    }
  }

  void stop() {
    for (auto& h : nodes)
      actors::stop_node(h);
    nodes.clear();
    transport = caf::actor{};
  }
};

/// Status of every peer, queried through the fixture's scoped actor.
std::vector<peer_status> statuses(caf_fixture& f, const cluster& c) {
  for (auto& h : c.nodes)
    f.self->send(h.peer, caf::get_atom::value, status_atom::value);
  f.sched.run();
  std::vector<peer_status> result;
  for (std::size_t i = 0; i < c.nodes.size(); ++i)
    result.push_back(f.receive_now<peer_status>());
  return result;
}

/// The leader every peer agrees on (all in one term), or no_server.
server_id agreed_leader(const std::vector<peer_status>& ss) {
  int leaders = 0;
  server_id leader;
  for (auto& s : ss)
    if (s.role == role::leader) {
      ++leaders;
      leader = s.id;
    }
  if (leaders != 1)
    return no_server;
  for (auto& s : ss)
    if (s.leader != leader || s.term != ss.front().term)
      return no_server;
  return leader;
}

} // namespace

TEST_CASE_METHOD(caf_fixture,
                 "cluster: three nodes elect one leader and replicate",
                 "[cluster][paper-5.2][paper-5.3]") {
  cluster c{sys, 3, 10ms};
  server_id leader;
  REQUIRE(run_until(
    [&] {
      leader = agreed_leader(statuses(*this, c));
      return leader != no_server;
    },
    5000ms));
  auto term = statuses(*this, c).front().term;
  // Election safety: the leadership is stable over many heartbeats.
  run_until([] { return false; }, 1000ms);
  auto ss = statuses(*this, c);
  CHECK(agreed_leader(ss) == leader);
  CHECK(ss.front().term == term);
  // A command submitted to the leader's state machine actor reaches all.
  auto& lh = c.nodes.at(leader.value - 1);
  auto h = self->request(lh.state_machine, caf::infinite, submit_atom::value,
                         std::string{"hello"});
  REQUIRE(run_until(
    [&] {
      for (auto& a : c.applied)
        if (a->size() != 1)
          return false;
      return true;
    },
    2000ms));
  for (auto& a : c.applied) {
    CHECK(a->at(0).command == "hello");
    CHECK(a->at(0).command_index == index_t{1});
    CHECK(a->at(0).command_term == term);
  }
  REQUIRE(!self_mailbox_empty());
  h.receive(
    [&](client_reply& r) {
      CHECK(r.error == errc::none);
      CHECK(r.index == index_t{1});
      CHECK(r.result == "ok:hello");
    },
    [&](caf::error& e) { FAIL(sys.render(e)); });
  // Every store holds the entry durably.
  for (auto& s : c.stores)
    CHECK(s->durable_last_index() == index_t{1});
  // A follower's state machine answers not_leader with the hint.
  auto& fh = c.nodes.at(leader.value % 3);
  self->send(fh.state_machine, submit_atom::value, std::string{"x"});
  sched.run();
  auto r = receive_now<client_reply>();
  CHECK(r.error == errc::not_leader);
  CHECK(r.leader_hint == leader);
  c.stop();
  sched.run();
}

TEST_CASE_METHOD(caf_fixture,
                 "cluster: stop_node stops every actor (no hang at shutdown)",
                 "[cluster][shutdown]") {
  {
    cluster c{sys, 3, 10ms};
    run_until([] { return false; }, 1000ms);
    c.stop();
  }
  sched.run();
  CHECK(sys.registry().running() == baseline);
  // Stopping before any actor of the node ran (the supervisor has not
  // linked its children yet) stops everything too.
  {
    cluster c{sys, 3, 10ms};
    c.stop();
  }
  sched.run();
  CHECK(sys.registry().running() == baseline);
  // ~caf_fixture checks again and would fail instead of hanging.
}

TEST_CASE_METHOD(caf_fixture,
                 "cluster: a store failure takes the whole node down",
                 "[cluster][failure]") {
  auto store = std::make_shared<counting_store>();
  store->fail_syncs = true;
  node_options opts;
  opts.raft = make_config(1, 1);
  opts.store = store;
  opts.make_state_machine = [] {
    return std::make_unique<recording_machine>(
      std::make_shared<std::vector<apply_msg>>());
  };
  auto h = actors::spawn_node(sys, std::move(opts));
  self->monitor(h.supervisor);
  // The single member's first election persists its term: the sync fails.
  REQUIRE(run_until([&] { return store->syncs > 0; }, 2000ms));
  sched.run();
  auto dm = receive_now<caf::down_msg>();
  CHECK(dm.source == h.supervisor.address());
  CHECK(dm.reason != caf::exit_reason::normal);
  CHECK(dm.reason != caf::exit_reason::kill);
  h = node_handles{};
  sched.run();
  CHECK(sys.registry().running() == baseline);
}

TEST_CASE_METHOD(caf_fixture, "spawn_node: rejects incomplete options",
                 "[cluster]") {
  node_options opts;
  opts.raft = make_config(1, 1);
  CHECK_THROWS_AS(actors::spawn_node(sys, opts), std::invalid_argument);
  opts.store = std::make_shared<persistence::memory_store>();
  CHECK_THROWS_AS(actors::spawn_node(sys, opts), std::invalid_argument);
  opts.make_state_machine = [] {
    return std::make_unique<recording_machine>(
      std::make_shared<std::vector<apply_msg>>());
  };
  opts.raft.id = server_id{7}; // not a member
  CHECK_THROWS_AS(actors::spawn_node(sys, opts), std::invalid_argument);
  CHECK(sys.registry().running() == baseline);
}

TEST_CASE_METHOD(caf_fixture,
                 "cluster: dropping every handle of a node stops it",
                 "[cluster][shutdown]") {
  {
    cluster c{sys, 3, 10ms};
    run_until([] { return false; }, 1000ms);
    // No stop_node: the supervisors become unreachable and take their
    // children with them.
  }
  sched.run();
  CHECK(sys.registry().running() == baseline);
}

TEST_CASE("cluster: real scheduler, elect, stop, destroy the system",
          "[cluster][shutdown][real-time]") {
  auto done = std::make_shared<std::promise<bool>>();
  auto fut = done->get_future();
  std::thread worker{[done] {
    bool elected = false;
    bool replicated = false;
    {
      caf::actor_system_config cfg;
      register_types(cfg);
      cfg.set("scheduler.max-threads", 2);
      caf::actor_system sys{cfg};
      cluster c{sys, 3, 2ms, 10, 3};
      caf::scoped_actor self{sys};
      auto deadline = std::chrono::steady_clock::now() + 10s;
      while (!elected && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        for (auto& h : c.nodes)
          self->request(h.peer, 1s, caf::get_atom::value, status_atom::value)
            .receive([&](peer_status& s) { elected |= s.role == role::leader; },
                     [](caf::error&) {});
      }
      // Submit through every node's state machine actor until the leader
      // accepts, then wait until every machine applied index 1.
      bool accepted = false;
      while (elected && !accepted
             && std::chrono::steady_clock::now() < deadline) {
        for (auto& h : c.nodes)
          self->request(h.state_machine, 2s, submit_atom::value,
                        std::string{"x"})
            .receive([&](client_reply& r) { accepted |= r.error == errc::none; },
                     [](caf::error&) {});
        if (!accepted)
          std::this_thread::sleep_for(10ms);
      }
      while (accepted && !replicated
             && std::chrono::steady_clock::now() < deadline) {
        replicated = true;
        for (auto& h : c.nodes)
          self->request(h.state_machine, 1s, caf::get_atom::value,
                        status_atom::value)
            .receive([&](index_t last) { replicated &= last >= index_t{1}; },
                     [&](caf::error&) { replicated = false; });
        if (!replicated)
          std::this_thread::sleep_for(5ms);
      }
      c.stop();
    } // ~actor_system waits for every actor
    done->set_value(elected && replicated);
  }};
  if (fut.wait_for(30s) != std::future_status::ready) {
    std::cerr << "cluster test: ~actor_system hung after stop_node\n";
    std::_Exit(EXIT_FAILURE);
  }
  worker.join();
  CHECK(fut.get());
}
