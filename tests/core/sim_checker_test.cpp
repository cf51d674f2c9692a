// The simulation's own tools: the cluster safety checker must fire on each
// property it guards, and the network must be deterministic and obey cuts.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/core/core_harness.hpp"
#include "tests/core/sim/sim_cluster.hpp"
#include "tests/core/sim/sim_network.hpp"

using namespace raft;
using namespace raft::core_test;

namespace {

core::raft_log view(log_entries xs) { return core::raft_log{log_id{}, xs}; }

} // namespace

TEST_CASE("sim: safety_checker flags two leaders in one term", "[sim]") {
  sim::safety_checker s;
  s.on_leader(1_s, 2_t);
  s.on_leader(1_s, 2_t); // the same leader again: fine
  s.on_leader(2_s, 3_t);
  CHECK(s.ok());
  s.on_leader(3_s, 2_t);
  REQUIRE(s.violations().size() == 1);
  CHECK_THAT(s.violations()[0],
             Catch::Contains("Election Safety") && Catch::Contains("term 2")
               && Catch::Contains("1 and 3"));
}

TEST_CASE("sim: safety_checker flags two entries committed at one index",
          "[sim]") {
  sim::safety_checker s;
  s.on_committed(1_s, 2_t, entry(1, 1));
  s.on_committed(2_s, 3_t, entry(1, 1));
  s.on_committed(2_s, 3_t, entry(2, 2));
  CHECK(s.ok());
  CHECK(s.last_committed() == 2_i);
  REQUIRE(s.committed_at(1_i));
  CHECK(*s.committed_at(1_i) == entry(1, 1));
  s.on_committed(3_s, 4_t, entry(3, 2));
  REQUIRE(s.violations().size() == 1);
  CHECK_THAT(s.violations()[0], Catch::Contains("State Machine Safety")
                                  && Catch::Contains("index 2"));
}

TEST_CASE("sim: safety_checker flags a leader lacking an earlier committed "
          "entry",
          "[sim]") {
  sim::safety_checker s;
  s.on_committed(1_s, 2_t, entry(1, 1));
  s.on_committed(1_s, 2_t, entry(2, 2));
  // A leader of term 2 itself may still lack what was committed in term 2
  // (known_in 2 is not earlier than 2), and a complete log is fine.
  s.on_elected(3_s, 2_t, view(make_log({1})));
  s.on_elected(2_s, 3_t, view(make_log({1, 2})));
  CHECK(s.ok());
  s.on_elected(3_s, 4_t, view(make_log({1, 3})));
  REQUIRE(s.violations().size() == 1);
  CHECK_THAT(s.violations()[0], Catch::Contains("Leader Completeness")
                                  && Catch::Contains("2/2"));
}

TEST_CASE("sim: safety_checker flags logs that break Log Matching", "[sim]") {
  auto a = view(make_log({1, 1, 2}));
  auto b = view(make_log({1, 1, 2, 3}));
  auto diverged = view(make_log({1, 1, 3})); // legitimately different at 3
  sim::safety_checker s;
  s.check_log_matching({{1_s, &a}, {2_s, &b}, {3_s, &diverged}});
  CHECK(joined(s.violations()).empty());
  // Same term at index 3, different entries at index 2.
  auto bad = view(log_entries{entry(1, 1), entry(1, 2, "other"), entry(2, 3)});
  s.check_log_matching({{1_s, &a}, {4_s, &bad}});
  REQUIRE(s.violations().size() == 1);
  CHECK_THAT(s.violations()[0], Catch::Contains("Log Matching")
                                  && Catch::Contains("index 3")
                                  && Catch::Contains("differ at index 2"));
}

TEST_CASE("sim: the network delivers by logical time, deterministically",
          "[sim]") {
  auto run = [](std::uint64_t seed) {
    sim::network net{seed};
    net.options.min_delay = 1;
    net.options.max_delay = 50;
    net.options.duplicate_per_mille = 100;
    net.options.drop_per_mille = 100;
    for (std::uint64_t k = 0; k < 200; ++k)
      net.send(envelope{1_s, 2_s, rv(k, 1, lid(0, 0))},
               static_cast<std::int64_t>(k));
    std::vector<std::pair<std::int64_t, std::uint64_t>> got;
    std::int64_t now = 0;
    while (auto t = net.next_time()) {
      CHECK(*t >= now); // never back in time
      now = *t;
      if (auto env = net.pop_due(now))
        got.emplace_back(now, term_of(env->msg).value);
    }
    const auto& st = net.stats();
    CHECK(st.sent == 200);
    CHECK(st.delivered == got.size());
    CHECK(st.delivered == 200 - st.dropped + st.duplicated);
    CHECK(st.dropped > 0);
    CHECK(st.duplicated > 0);
    return got;
  };
  auto a = run(5);
  CHECK(run(5) == a);
  CHECK(run(6) != a);
  // Delays of up to 50 ms reorder messages sent 1 ms apart.
  bool reordered = false;
  for (std::size_t k = 1; k < a.size(); ++k)
    reordered = reordered || a[k].second < a[k - 1].second;
  CHECK(reordered);
}

TEST_CASE("sim: cut links lose messages, also those already in flight",
          "[sim]") {
  sim::network net{1};
  std::vector<server_id> all{1_s, 2_s, 3_s};
  net.send(envelope{1_s, 2_s, rv(1, 1, lid(0, 0))}, 0); // in flight ...
  net.isolate(1_s, all);                                // ... then cut
  net.send(envelope{2_s, 1_s, rv_reply(1, true)}, 0);
  net.send(envelope{2_s, 3_s, rv(1, 2, lid(0, 0))}, 0);
  CHECK_FALSE(net.connected(1_s, 2_s));
  CHECK_FALSE(net.connected(3_s, 1_s));
  CHECK(net.connected(2_s, 3_s));
  std::vector<envelope> got;
  while (auto t = net.next_time())
    if (auto env = net.pop_due(*t))
      got.push_back(*env);
  REQUIRE(got.size() == 1);
  CHECK(got[0].from == 2_s);
  CHECK(got[0].to == 3_s);
  CHECK(net.stats().cut == 2);
  // A partition {1} | {2, 3}, then healing.
  net.heal_all();
  net.partition({2_s, 3_s}, all);
  CHECK_FALSE(net.connected(1_s, 3_s));
  CHECK(net.connected(2_s, 3_s));
  net.heal_all();
  CHECK(net.connected(1_s, 3_s));
}
