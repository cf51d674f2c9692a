// actors/core/invariants: the checks the simulation and the harness run after
// every input must hold on real nodes and must fire on broken transitions
// (a checker that never fires proves nothing).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/core/invariants.hpp"
#include "tests/core/core_harness.hpp"
#include "tests/core/role_setup.hpp"

using namespace raft;
using namespace raft::core_test;

TEST_CASE("invariants: hold for nodes in every role", "[invariants]") {
  auto role = GENERATE(from_range(all_roles));
  INFO(to_string(role));
  role_setup s;
  s.term = 3;
  s.log = make_log({1, 2, 2});
  auto h = make_in_role(role, s);
  CHECK(joined(core::check(h.n())).empty());
  auto snap = core::observe(h.n());
  CHECK(snap.id == 1_s);
  CHECK(snap.role == role);
  CHECK(snap.current_term == 3_t);
  CHECK(to_string(snap.last) == "2/3");
  CHECK(joined(core::check_transition(snap, h.n())).empty());
}

TEST_CASE("invariants: check_transition reports each broken delta",
          "[invariants]") {
  // Node 1: leader of term 3, log 1 2 2 3 with 4 committed (follower 2 acked).
  role_setup s;
  s.term = 3;
  s.log = make_log({1, 2, 2});
  auto h = make_in_role(raft::role::leader, s);
  h.propose("x");
  h.ack_all();
  h.step(2, ae_ok(3, 3, 4));
  REQUIRE(h->commit_index() == 4_i);
  auto good = core::observe(h.n());
  REQUIRE(core::check_transition(good, h.n()).empty());

  struct row {
    const char* what;
    void (*mutate)(core::observed_state&);
    const char* phrase;
  };
  auto r = GENERATE(
    row{"term went down",
        [](core::observed_state& x) { x.current_term = 7_t; },
        "current_term decreased"},
    row{"vote changed within the term",
        [](core::observed_state& x) { x.voted_for = 2_s; },
        "voted_for changed"},
    row{"leader changed within the term",
        [](core::observed_state& x) {
          x.role = raft::role::follower;
          x.leader = 2_s;
        },
        "leader of term 3 changed"},
    row{"leader without candidacy",
        [](core::observed_state& x) {
          x.role = raft::role::follower;
          x.leader = no_server;
        },
        "became leader"},
    row{"commit went down",
        [](core::observed_state& x) { x.commit_index = 5_i; },
        "commit_index decreased"},
    row{"applied went down",
        [](core::observed_state& x) { x.applied_index = 9_i; },
        "applied_index decreased"},
    row{"committed entry replaced",
        [](core::observed_state& x) {
          x.commit_index = 3_i;
          x.commit_term = 1_t;
        },
        "committed entry at index 3"},
    row{"snapshot point went back",
        [](core::observed_state& x) { x.base = lid(2, 3); },
        "snapshot point moved back"});
  INFO(r.what);
  auto before = good;
  r.mutate(before);
  auto v = core::check_transition(before, h.n());
  CHECK(v.size() >= 1);
  CHECK_THAT(joined(v), Catch::Contains(r.phrase));
  CHECK_THAT(joined(v), Catch::Contains("node 1: "));
}

TEST_CASE("invariants: a vote may be cast from none or with a new term",
          "[invariants]") {
  harness h{cluster_config(1, 3), stored_state{hs(2, 0), {}, {}}};
  auto before = core::observe(h.n());
  h.step(3, rv(2, 3, lid(0, 0)));
  CHECK(h->voted_for() == 3_s);
  CHECK(joined(core::check_transition(before, h.n())).empty());
  before = core::observe(h.n());
  h.step(2, rv(4, 2, lid(0, 0)));
  CHECK(h->voted_for() == 2_s);
  CHECK(joined(core::check_transition(before, h.n())).empty());
}

TEST_CASE("invariants: a node restarted from a snapshot starts at its base, "
          "and a compacted base must agree with the committed entry",
          "[invariants][paper-7]") {
  stored_state st{hs(3, 0), lid(2, 4), make_log({3}, 5), "snap"};
  harness h{cluster_config(1, 3), st};
  CHECK(joined(core::check(h.n())).empty());
  CHECK(h->applied_index() == 4_i);
  CHECK(h->commit_index() == 4_i);
  // A node that had committed 2/4 and now claims a base of 3/4 lost it.
  auto before = core::observe(h.n());
  before.commit_term = 1_t;
  auto v = core::check_transition(before, h.n());
  CHECK_THAT(joined(v), Catch::Contains("snapshot point 2/4 disagrees"));
}

TEST_CASE("invariants: the recent scope checks a long log's tail and its "
          "first entry, and agrees with the full check on a sound node",
          "[invariants]") {
  // 200 entries of terms 1..4 after a snapshot at 1/10: the recent scope
  // starts its walk in the middle of a term run and at a term change.
  log_entries log;
  for (std::uint64_t i = 11; i <= 210; ++i)
    log.push_back(entry(1 + (i - 11) / 50, i));
  stored_state st{hs(4, 0), lid(1, 10), log, "snap"};
  harness h{cluster_config(1, 3), st};
  CHECK(joined(core::check(h.n(), core::check_scope::recent)).empty());
  CHECK(joined(core::check(h.n(), core::check_scope::full)).empty());
  auto last = h->log().last();
  h.step(2, ae(4, 2, last, {entry(4, 211)}, 0));
  CHECK(joined(core::check(h.n(), core::check_scope::recent)).empty());
}
