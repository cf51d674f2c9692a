// election_timer_actor (a metronome on virtual time) and transport (the
// direct in-process transport).
#include <catch2/catch.hpp>

#include "actors/election_timer_actor.hpp"
#include "actors/transport.hpp"
#include "tests/actors/caf_fixture.hpp"

using namespace raft;
using namespace raft::test;

TEST_CASE_METHOD(caf_fixture,
                 "election timer: one tick per interval of virtual time",
                 "[timer]") {
  auto got = std::make_shared<std::vector<caf::message>>();
  auto peer = sys.spawn(recording_actor, got);
  auto timer = sys.spawn(actors::election_timer_actor, peer, 10ms);
  sched.run();
  CHECK(got->empty());
  CHECK(sched.advance_time(9ms) == 0u);
  sched.run();
  CHECK(got->empty());
  CHECK(sched.advance_time(1ms) == 1u);
  sched.run();
  REQUIRE(got->size() == 1);
  CHECK(got->at(0).match_elements<tick_atom>());
  for (int i = 0; i < 4; ++i) {
    sched.advance_time(10ms);
    sched.run();
  }
  CHECK(got->size() == 5);
  // The timer keeps itself alive; it stops when its peer goes down.
  self->send_exit(peer, caf::exit_reason::user_shutdown);
  sched.run();
  sched.advance_time(10ms);
  sched.run();
  CHECK(got->size() == 5);
}

TEST_CASE_METHOD(caf_fixture, "transport: forwards to the peer of `to`",
                 "[transport]") {
  auto to2 = std::make_shared<std::vector<envelope>>();
  auto to3 = std::make_shared<std::vector<envelope>>();
  auto p2 = sys.spawn(recording_transport, to2);
  auto p3 = sys.spawn(recording_transport, to3);
  auto t = sys.spawn(actors::transport_actor);
  self->send(t, register_atom::value, server_id{2}, p2);
  self->send(t, register_atom::value, server_id{3}, p3);
  request_vote rv{term_t{1}, server_id{1}, index_t{0}, term_t{0}};
  append_entries ae{term_t{1}, server_id{1}, index_t{0}, term_t{0},
                    {entry(1, 1, "x")}, index_t{0}};
  self->send(t, server_id{1}, server_id{2}, rv);
  self->send(t, server_id{1}, server_id{3}, ae);
  self->send(t, server_id{1}, server_id{4}, rv); // unknown: dropped
  self->send(t, server_id{3}, server_id{2},
             append_entries_reply{term_t{1}, true, index_t{0}, index_t{1},
                                  term_t{0}, index_t{0}, index_t{0}});
  self->send(t, server_id{2}, server_id{3},
             request_vote_reply{term_t{1}, true});
  sched.run();
  REQUIRE(to2->size() == 2);
  CHECK(to2->at(0) == envelope{server_id{1}, server_id{2}, rv});
  CHECK(std::holds_alternative<append_entries_reply>(to2->at(1).msg));
  REQUIRE(to3->size() == 2);
  CHECK(to3->at(0) == envelope{server_id{1}, server_id{3}, ae});
  CHECK(std::holds_alternative<request_vote_reply>(to3->at(1).msg));
  self->send(t, caf::get_atom::value, status_atom::value);
  sched.run();
  bool got = false;
  self->receive(
    [&](std::uint64_t delivered, std::uint64_t dropped) {
      got = true;
      CHECK(delivered == 4u);
      CHECK(dropped == 1u);
    },
    caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK(got);
  // A peer that goes down is forgotten; a re-registered one replaces it.
  self->send_exit(p2, caf::exit_reason::user_shutdown);
  sched.run();
  self->send(t, server_id{1}, server_id{2}, rv);
  sched.run();
  CHECK(to2->size() == 2);
  auto to2b = std::make_shared<std::vector<envelope>>();
  auto p2b = sys.spawn(recording_transport, to2b);
  self->send(t, register_atom::value, server_id{2}, p2b);
  self->send(t, server_id{1}, server_id{2}, rv);
  sched.run();
  CHECK(to2b->size() == 1);
}
