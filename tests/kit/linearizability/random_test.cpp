// Randomized tests of the linearizability checker: histories that are
// linearizable by construction (random_history) must pass and fail once a
// read is forged, and on small random histories -- with forged outputs,
// unknown outcomes and cas -- the checker must agree with a brute-force
// search over every order. Seeds: --seeds N / --seed S (tests/main.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/kit/linearizability/checker.hpp"
#include "tests/kit/linearizability/history.hpp"
#include "tests/kit/linearizability/random_history.hpp"
#include "tests/support/run_options.hpp"

using namespace raft::testing::lin;
using namespace std::chrono_literals;

namespace {

constexpr auto budget = 10s;

} // namespace

// -- random histories ----------------------------------------------------------

TEST_CASE("random linearizable histories pass and a forged read fails") {
  auto& opts = raft::testing::run_options::global();
  for (auto seed : opts.seed_list(20)) {
    INFO(raft::testing::run_options::replay_hint(seed));
    random_history_config cfg;
    cfg.seed = seed;
    cfg.operations = 400;
    cfg.clients = 3 + static_cast<int>(seed % 6);
    cfg.keys = 1 + static_cast<int>(seed % 3);
    cfg.cas_percent = 5;
    cfg.unknown_percent = 5;
    auto h = random_history(cfg);
    auto r = check(h, budget);
    INFO(describe(r));
    REQUIRE(r.v == verdict::ok);
    // A read of a value nobody wrote -- puts write "p<i>", appends build
    // strings starting with "a", cas writes "c<i>" -- cannot be explained by
    // any order, so the history becomes illegal.
    std::vector<std::size_t> gets;
    for (std::size_t i = 0; i < h.size(); ++i)
      if (h[i].in.op == kv_input::kind::get && !h[i].out.unknown)
        gets.push_back(i);
    REQUIRE_FALSE(gets.empty());
    auto victim = gets[seed % gets.size()];
    h[victim].out = found("never-written");
    auto bad = check(h, budget);
    INFO("forged op " << victim << ": " << to_string(h[victim]));
    REQUIRE(bad.v == verdict::illegal);
    const auto* k = bad.find(h[victim].in.key);
    REQUIRE(k != nullptr);
    CHECK(k->v == verdict::illegal);
    // Deterministic: the same report again.
    auto again = check(h, budget);
    CHECK(describe(again) == describe(bad));
    CHECK(again.find(k->key)->prefix == k->prefix);
  }
}

TEST_CASE("a long single-key history with many clients passes") {
  random_history_config cfg;
  cfg.seed = 7;
  cfg.operations = 3000;
  cfg.clients = 12;
  cfg.keys = 1;
  auto h = random_history(cfg);
  auto r = check(h, 60s);
  INFO(describe(r));
  CHECK(r.v == verdict::ok);
}

// -- against brute force -------------------------------------------------------

namespace {

/// The definition, by brute force: some subset of the unknown-outcome
/// writes (the others never happen) and the known operations, minus
/// unknown gets, in some order that respects real time (a before b when a
/// returned before b was called) and the sequential KV. Small histories only.
bool brute_force_linearizable(const std::vector<operation>& h) {
  std::vector<std::size_t> known, maybe;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (!h[i].out.unknown)
      known.push_back(i);
    else if (h[i].in.op != kv_input::kind::get)
      maybe.push_back(i);
  }
  for (std::size_t mask = 0; mask < (std::size_t{1} << maybe.size()); ++mask) {
    auto ops = known;
    for (std::size_t j = 0; j < maybe.size(); ++j)
      if (mask & (std::size_t{1} << j))
        ops.push_back(maybe[j]);
    std::sort(ops.begin(), ops.end());
    do {
      bool ok = true;
      for (std::size_t a = 0; a < ops.size() && ok; ++a)
        for (std::size_t b = a + 1; b < ops.size() && ok; ++b)
          if (!h[ops[b]].out.unknown && h[ops[b]].ret < h[ops[a]].call)
            ok = false; // b returned before a was called, yet a goes first
      std::map<std::string, kv_state> kv;
      for (std::size_t a = 0; a < ops.size() && ok; ++a) {
        auto& s = kv[h[ops[a]].in.key];
        kv_state next;
        ok = kv_step(s, h[ops[a]].in, h[ops[a]].out, next);
        s = next;
      }
      if (ok)
        return true;
    } while (std::next_permutation(ops.begin(), ops.end()));
  }
  return false;
}

} // namespace

TEST_CASE("the checker agrees with brute force on small random histories") {
  auto& opts = raft::testing::run_options::global();
  int legal = 0;
  int illegal = 0;
  for (auto seed : opts.seed_list(1500)) {
    INFO(raft::testing::run_options::replay_hint(seed));
    std::mt19937_64 rng{seed};
    random_history_config cfg;
    cfg.seed = seed;
    cfg.operations = 3 + seed % 5;
    cfg.clients = 2 + static_cast<int>(seed % 3);
    cfg.keys = 1 + static_cast<int>(seed % 4 == 0);
    cfg.get_percent = 40;
    cfg.put_percent = 20;
    cfg.append_percent = 20;
    cfg.cas_percent = 15;
    cfg.max_duration = 30;
    cfg.max_gap = 10;
    cfg.unknown_percent = 15;
    auto h = random_history(cfg);
    // Values that occur anywhere, to forge plausible outputs from.
    std::vector<std::string> pool{"", "p0", "a1,"};
    for (const auto& o : h) {
      pool.push_back(o.in.value);
      if (o.out.found)
        pool.push_back(o.out.value + o.in.value);
    }
    // Forge zero, one or two outputs.
    for (auto n = rng() % 3; n > 0; --n) {
      auto& victim = h[rng() % h.size()];
      if (victim.out.unknown)
        continue;
      if (victim.in.op == kv_input::kind::cas)
        victim.out.ok = !victim.out.ok;
      else if (victim.in.op == kv_input::kind::get)
        victim.out = rng() % 4 == 0 ? not_found()
                                    : found(pool[rng() % pool.size()]);
    }
    std::ostringstream dump;
    for (const auto& o : h)
      dump << o.client << ' ' << to_string(o) << " [" << o.call << ".."
           << (o.out.unknown ? std::string{"?"} : std::to_string(o.ret))
           << "]\n";
    INFO(dump.str());
    auto expected = brute_force_linearizable(h);
    auto r = check(h, budget);
    INFO(describe(r));
    REQUIRE(r.v == (expected ? verdict::ok : verdict::illegal));
    (expected ? legal : illegal)++;
  }
  if (!opts.seed) {
    CHECK(legal > 100);
    CHECK(illegal > 100);
  }
}
