// state_machine_actor: contiguous application, client replies keyed by
// (index, term), and loud failure on a broken apply stream.
#include <catch2/catch.hpp>

#include <deque>

#include "actors/state_machine_actor.hpp"
#include "tests/actors/caf_fixture.hpp"

using namespace raft;
using namespace raft::test;
using raft::actors::state_machine_actor;

namespace {

/// A peer that answers each proposal with the next scripted result.
caf::behavior scripted_peer(caf::event_based_actor*,
                            std::shared_ptr<std::deque<propose_result>> script) {
  return {
    [script](propose_atom, const std::string&) {
      REQUIRE(!script->empty());
      auto r = script->front();
      script->pop_front();
      return r;
    },
  };
}

propose_result accepted(std::uint64_t index, std::uint64_t term) {
  return propose_result{index_t{index}, term_t{term}, true, server_id{1}};
}

struct sm_fixture : caf_fixture {
  std::shared_ptr<std::vector<apply_msg>> applied
    = std::make_shared<std::vector<apply_msg>>();
  std::shared_ptr<std::deque<propose_result>> script
    = std::make_shared<std::deque<propose_result>>();
  caf::actor peer = sys.spawn(scripted_peer, script);
  caf::actor sm = sys.spawn(
    state_machine_actor,
    actors::state_machine_factory{[log = applied] {
      return std::make_unique<recording_machine>(log);
    }},
    caf::actor{});

  sm_fixture() {
    self->send(sm, register_atom::value, peer);
    sched.run();
  }

  void apply(log_entries es) {
    self->send(sm, apply_atom::value, std::move(es));
    sched.run();
  }
};

} // namespace

TEST_CASE_METHOD(sm_fixture,
                 "state machine: a submitted command is answered once applied",
                 "[state_machine][client]") {
  script->push_back(accepted(1, 1));
  auto h = self->request(sm, caf::infinite, submit_atom::value,
                         std::string{"x"});
  sched.run();
  apply({entry(1, 1, "x")});
  REQUIRE(!self_mailbox_empty()); // never block on a missing reply
  bool got = false;
  h.receive(
    [&](client_reply& r) {
      got = true;
      CHECK(r.error == errc::none);
      CHECK(r.index == index_t{1});
      CHECK(r.term == term_t{1});
      CHECK(r.result == "ok:x");
    },
    [&](caf::error& e) { FAIL(sys.render(e)); });
  CHECK(got);
  REQUIRE(applied->size() == 1);
  CHECK(applied->at(0).command_valid);
  CHECK(applied->at(0).command == "x");
  CHECK(applied->at(0).command_index == index_t{1});
  CHECK(applied->at(0).command_term == term_t{1});
}

TEST_CASE_METHOD(sm_fixture,
                 "state machine: another term at the index is dropped_entry",
                 "[state_machine][client]") {
  apply({entry(1, 1, "a")});
  script->push_back(accepted(2, 1));
  auto h = self->request(sm, caf::infinite, submit_atom::value,
                         std::string{"x"});
  sched.run();
  apply({entry(2, 2, "y")}); // a new leader's entry took index 2
  REQUIRE(!self_mailbox_empty());
  h.receive([&](client_reply& r) { CHECK(r.error == errc::dropped_entry); },
            [&](caf::error& e) { FAIL(sys.render(e)); });
  CHECK(applied->size() == 2); // "y" was applied all the same
}

TEST_CASE_METHOD(sm_fixture,
                 "state machine: a non-leader answer is not_leader with hint",
                 "[state_machine][client]") {
  script->push_back(
    propose_result{index_t{0}, term_t{0}, false, server_id{3}});
  auto h = self->request(sm, caf::infinite, submit_atom::value,
                         std::string{"x"});
  sched.run();
  REQUIRE(!self_mailbox_empty());
  h.receive(
    [&](client_reply& r) {
      CHECK(r.error == errc::not_leader);
      CHECK(r.leader_hint == server_id{3});
    },
    [&](caf::error& e) { FAIL(sys.render(e)); });
}

TEST_CASE_METHOD(sm_fixture,
                 "state machine: no-ops advance last_applied without the "
                 "machine",
                 "[state_machine]") {
  apply({entry(1, 1, "", entry_kind::noop), entry(1, 2, "x")});
  REQUIRE(applied->size() == 1);
  CHECK(applied->at(0).command_index == index_t{2});
  self->send(sm, caf::get_atom::value, status_atom::value);
  sched.run();
  CHECK(receive_now<index_t>() == index_t{2});
}

TEST_CASE_METHOD(sm_fixture, "state machine: a gap stops the actor loudly",
                 "[state_machine][failure]") {
  self->monitor(sm);
  apply({entry(1, 1, "a")});
  SECTION("a gap") {
    apply({entry(1, 3, "c")});
  }
  SECTION("a step backwards") {
    apply({entry(1, 1, "a")});
  }
  auto dm = receive_now<caf::down_msg>();
  CHECK(dm.reason != caf::exit_reason::normal);
  CHECK(applied->size() == 1);
}

TEST_CASE_METHOD(sm_fixture,
                 "state machine: waiting clients get shutting_down at exit",
                 "[state_machine][client]") {
  script->push_back(accepted(1, 1));
  auto h = self->request(sm, caf::infinite, submit_atom::value,
                         std::string{"x"});
  sched.run();
  self->send_exit(sm, caf::exit_reason::kill);
  sched.run();
  REQUIRE(!self_mailbox_empty());
  h.receive([&](client_reply& r) { CHECK(r.error == errc::shutting_down); },
            [&](caf::error& e) { FAIL(sys.render(e)); });
}
