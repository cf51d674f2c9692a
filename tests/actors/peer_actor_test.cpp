// peer_actor: the thin shell around core::node. The durability rule is the
// core's; these tests check that the shell carries it out (nothing leaves
// before the persister acknowledges), that it waits for its state before
// handling anything, and that it stops loudly without its persister.
#include <catch2/catch.hpp>

#include "actors/peer_actor.hpp"
#include "actors/persister_actor.hpp"
#include "tests/actors/caf_fixture.hpp"

using namespace raft;
using namespace raft::test;
using raft::actors::peer_actor;
using raft::actors::peer_config;

namespace {

struct peer_fixture : caf_fixture {
  std::shared_ptr<fake_persister_log> plog
    = std::make_shared<fake_persister_log>();
  std::shared_ptr<std::vector<envelope>> sent
    = std::make_shared<std::vector<envelope>>();
  std::shared_ptr<std::vector<caf::message>> applied
    = std::make_shared<std::vector<caf::message>>();
  std::shared_ptr<std::vector<caf::message>> observed
    = std::make_shared<std::vector<caf::message>>();

  caf::actor persister = sys.spawn(fake_persister, plog);
  caf::actor transport = sys.spawn(recording_transport, sent);
  caf::actor machine = sys.spawn(recording_actor, applied);
  caf::actor observer = sys.spawn(recording_actor, observed);

  ~peer_fixture() {
    // The fake persister's log holds the peer's handle with unacknowledged
    // batches: break that test-only cycle before the leak check.
    plog->held.clear();
    plog->pending_load = caf::response_promise{};
  }

  caf::actor spawn_peer(std::uint32_t id = 1) {
    peer_config pc;
    pc.raft = make_config(id);
    pc.persister = persister;
    pc.transport = transport;
    pc.state_machine = machine;
    pc.observer = observer;
    return sys.spawn(peer_actor, pc);
  }

  /// The peer of a single-member cluster (server 1, no transport), ticked
  /// through two election timeouts with every persist acknowledged: it has
  /// elected itself.
  caf::actor spawn_lone_leader() {
    peer_config pc;
    pc.raft = make_config(1, 1);
    pc.persister = persister;
    pc.state_machine = machine;
    auto peer = sys.spawn(peer_actor, pc);
    sched.run();
    for (int i = 0; i < 2 * pc.raft.election_ticks; ++i) {
      self->send(peer, tick_atom::value);
      sched.run();
      self->send(persister, flush_atom::value);
      sched.run();
    }
    return peer;
  }

  /// A vote request from candidate 2 in term `term` with an empty log.
  static request_vote vote_request(std::uint64_t term) {
    return request_vote{term_t{term}, server_id{2}, index_t{0}, term_t{0}};
  }
};

} // namespace

TEST_CASE_METHOD(peer_fixture,
                 "peer: a vote grant leaves only after the persister acks",
                 "[peer][paper-5.2][durability]") {
  auto peer = spawn_peer();
  sched.run();
  REQUIRE(plog->loads == 1);
  self->send(peer, server_id{2}, server_id{1}, vote_request(1));
  sched.run();
  // The new term and the vote went to the persister ...
  REQUIRE(plog->held.size() == 1);
  CHECK(plog->held[0].batch.hard_state
        == hard_state{term_t{1}, server_id{2}});
  // ... and the grant is held until they are durable.
  CHECK(sent->empty());
  // More input does not release it either.
  self->send(peer, tick_atom::value);
  sched.run();
  CHECK(sent->empty());
  // The persister acknowledges: now the grant leaves, to the candidate.
  self->send(persister, flush_atom::value);
  sched.run();
  REQUIRE(sent->size() == 1);
  CHECK(sent->at(0)
        == envelope{server_id{1}, server_id{2},
                    request_vote_reply{term_t{1}, true}});
  // The status reflects the vote.
  self->send(peer, caf::get_atom::value, status_atom::value);
  sched.run();
  auto s = receive_now<peer_status>();
  CHECK(s.term == term_t{1});
  CHECK(s.voted_for == server_id{2});
  CHECK(s.role == role::follower);
  // The observer saw the term/vote change.
  CHECK(!observed->empty());
}

TEST_CASE_METHOD(peer_fixture,
                 "peer: messages wait in the mailbox until the state is "
                 "loaded",
                 "[peer][lifecycle]") {
  plog->hold_load = true;
  auto peer = spawn_peer();
  sched.run();
  REQUIRE(plog->loads == 1);
  self->send(peer, server_id{2}, server_id{1}, vote_request(1));
  self->send(peer, caf::get_atom::value, status_atom::value);
  sched.run();
  CHECK(plog->held.empty());
  CHECK(self_mailbox_empty());
  // The state arrives: the queued messages are handled, in order.
  self->send(persister, caf::put_atom::value);
  sched.run();
  CHECK(plog->held.size() == 1);
  auto s = receive_now<peer_status>();
  CHECK(s.term == term_t{1});
}

TEST_CASE_METHOD(peer_fixture, "peer: misaddressed messages are dropped",
                 "[peer]") {
  auto peer = spawn_peer();
  sched.run();
  self->send(peer, server_id{2}, server_id{3}, vote_request(1));
  sched.run();
  CHECK(plog->held.empty());
  CHECK(sent->empty());
}

TEST_CASE_METHOD(peer_fixture,
                 "peer: a non-leader answers a proposal with is_leader=false",
                 "[peer][client]") {
  auto peer = spawn_peer();
  sched.run();
  self->send(peer, propose_atom::value, std::string{"x"});
  sched.run();
  auto r = receive_now<propose_result>();
  CHECK(!r.is_leader);
  CHECK(r.index == index_t{0});
}

TEST_CASE_METHOD(peer_fixture,
                 "peer: a single-member cluster elects itself and commits",
                 "[peer][client]") {
  auto peer = spawn_lone_leader();
  self->send(peer, caf::get_atom::value, status_atom::value);
  sched.run();
  REQUIRE(receive_now<peer_status>().role == role::leader);
  self->send(peer, propose_atom::value, std::string{"x"});
  sched.run();
  auto r = receive_now<propose_result>();
  REQUIRE(r.is_leader);
  CHECK(applied->empty()); // not durable yet: not committed
  self->send(persister, flush_atom::value);
  sched.run();
  REQUIRE(applied->size() == 1);
  auto& m = applied->at(0);
  REQUIRE(m.match_elements<apply_atom, log_entries>());
  auto es = m.get_as<log_entries>(1);
  REQUIRE(es.size() == 1);
  CHECK(es[0].index == r.index);
  CHECK(es[0].data == "x");
}

TEST_CASE_METHOD(peer_fixture,
                 "peer: a failing store stops the node and nothing is acked",
                 "[peer][failure]") {
  auto store = std::make_shared<counting_store>();
  store->fail_syncs = true;
  auto real_persister = sys.spawn(actors::persister_actor, store);
  peer_config pc;
  pc.raft = make_config(1);
  pc.persister = real_persister;
  pc.transport = transport;
  auto peer = sys.spawn(peer_actor, pc);
  self->monitor(peer);
  self->monitor(real_persister);
  sched.run();
  self->send(peer, server_id{2}, server_id{1}, vote_request(1));
  sched.run();
  CHECK(store->syncs == 1);
  CHECK(sent->empty()); // the vote was never acknowledged
  int downs = 0;
  for (int i = 0; i < 2; ++i)
    self->receive([&](caf::down_msg& dm) {
      CHECK(dm.reason != caf::exit_reason::normal);
      ++downs;
    },
    caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK(downs == 2);
}

TEST_CASE_METHOD(peer_fixture,
                 "peer: losing its persister stops the peer with an error",
                 "[peer][failure]") {
  auto peer = spawn_peer();
  self->monitor(peer);
  sched.run();
  self->send_exit(persister,
                  caf::make_error(caf::sec::runtime_error, "disk on fire"));
  sched.run();
  auto dm = receive_now<caf::down_msg>();
  CHECK(dm.source == peer.address());
  CHECK(dm.reason != caf::exit_reason::normal);
  CHECK(dm.reason != caf::exit_reason::kill);
}

TEST_CASE_METHOD(peer_fixture,
                 "peer: a follower fails a read and names the leader",
                 "[peer][client][thesis-6.4]") {
  auto peer = spawn_peer();
  sched.run();
  // Leader 2 of term 1 makes itself known.
  self->send(peer, server_id{2}, server_id{1},
             append_entries{term_t{1}, server_id{2}, index_t{0}, term_t{0},
                            {}, index_t{0}});
  sched.run();
  applied->clear();
  self->send(peer, read_index_atom::value, std::uint64_t{7});
  sched.run();
  REQUIRE(applied->size() == 1);
  auto& m = applied->at(0);
  REQUIRE(
    (m.match_elements<read_index_atom, std::uint64_t, index_t, bool,
                      server_id>()));
  CHECK(m.get_as<std::uint64_t>(1) == 7);
  CHECK(m.get_as<index_t>(2) == index_t{0});
  CHECK(!m.get_as<bool>(3));
  CHECK(m.get_as<server_id>(4) == server_id{2});
}

TEST_CASE_METHOD(peer_fixture,
                 "peer: a lone leader answers a read after the entries "
                 "through its index",
                 "[peer][client][thesis-6.4]") {
  auto peer = spawn_lone_leader();
  self->send(peer, propose_atom::value, std::string{"x"});
  sched.run();
  auto r = receive_now<propose_result>();
  REQUIRE(r.is_leader);
  self->send(persister, flush_atom::value);
  sched.run();
  // "y" is proposed but not committed: the read index stays at "x".
  self->send(peer, propose_atom::value, std::string{"y"});
  sched.run();
  REQUIRE(receive_now<propose_result>().is_leader);
  self->send(peer, read_index_atom::value, std::uint64_t{9});
  sched.run();
  REQUIRE(applied->size() == 2);
  CHECK(applied->at(0).match_elements<apply_atom, log_entries>());
  auto& m = applied->at(1);
  REQUIRE(
    (m.match_elements<read_index_atom, std::uint64_t, index_t, bool,
                      server_id>()));
  CHECK(m.get_as<std::uint64_t>(1) == 9);
  CHECK(m.get_as<index_t>(2) == r.index);
  CHECK(m.get_as<bool>(3));
  CHECK(m.get_as<server_id>(4) == server_id{1});
  self->send(persister, flush_atom::value);
  sched.run();
}

TEST_CASE_METHOD(caf_fixture,
                 "peer: the read round crosses CAF's binary encoding",
                 "[peer][thesis-6.4]") {
  // inspect() covers read_seq: a round sent between processes arrives.
  auto round_trip = [&](auto x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    REQUIRE(!sink(x));
    decltype(x) y;
    caf::binary_deserializer source{sys, buf};
    REQUIRE(!source(y));
    return y;
  };
  append_entries ae{term_t{2}, server_id{1}, index_t{3}, term_t{2},
                    {}, index_t{3}, 5};
  CHECK(round_trip(ae) == ae);
  append_entries_reply r;
  r.term = term_t{2};
  r.success = true;
  r.read_seq = 5;
  CHECK(round_trip(r) == r);
}
