// checker-bench: speed of the linearizability checker
// (tests/kit/linearizability) on a generated 10,000-operation KV history.
//
// The history comes from random_history(): --clients clients issue
// overlapping operations (about 50 % gets, 20 % puts, 25 % appends, 3 % cas,
// 2 % deletes) on a virtual clock, and a seeded RNG places each operation's
// linearization point inside its interval, so the history is linearizable by
// construction. Four variants are checked, --repeat times each:
//   * --keys keys (default 10): keys are checked in parallel;
//   * one key: the whole history in one search;
//   * one key with 5 % of the operations' outcomes unknown (timeouts) and
//     no cas (see reads.hpp: with known failed cas ops, unknown writes stay
//     in the search and a contended key can take exponential time);
//   * --keys keys with one late read forged to a stale value (one an
//     earlier read saw): the time to find the violation.
// Prints per variant the verdict, the best and median wall time and the
// operations checked per second (operations / best time).
//
//   ./build/bench/checker-bench [--ops N] [--clients N] [--keys N]
//                               [--seed S] [--repeat N] [--budget-ms MS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/kit/linearizability/checker.hpp"
#include "tests/kit/linearizability/random_history.hpp"

using namespace raft::testing::lin;

namespace {

struct options {
  std::size_t ops = 10000;
  int clients = 16;
  int keys = 10;
  std::uint64_t seed = 1;
  int repeat = 3;
  long budget_ms = 60000;
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--ops N] [--clients N] [--keys N] [--seed S] "
               "[--repeat N] [--budget-ms MS]\n",
               argv0);
  std::exit(2);
}

options parse(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    auto value = [&]() -> long long {
      if (i + 1 >= argc)
        usage(argv[0]);
      char* end = nullptr;
      auto v = std::strtoll(argv[++i], &end, 10);
      if (*end != '\0' || v < 1)
        usage(argv[0]);
      return v;
    };
    if (std::strcmp(argv[i], "--ops") == 0)
      opts.ops = static_cast<std::size_t>(value());
    else if (std::strcmp(argv[i], "--clients") == 0)
      opts.clients = static_cast<int>(value());
    else if (std::strcmp(argv[i], "--keys") == 0)
      opts.keys = static_cast<int>(value());
    else if (std::strcmp(argv[i], "--seed") == 0)
      opts.seed = static_cast<std::uint64_t>(value());
    else if (std::strcmp(argv[i], "--repeat") == 0)
      opts.repeat = static_cast<int>(value());
    else if (std::strcmp(argv[i], "--budget-ms") == 0)
      opts.budget_ms = static_cast<long>(value());
    else
      usage(argv[0]);
  }
  return opts;
}

void run(const char* name, const std::vector<operation>& history, int keys,
         const options& opts) {
  std::vector<double> secs;
  check_result last;
  for (int i = 0; i < opts.repeat; ++i) {
    last = check(history, std::chrono::milliseconds{opts.budget_ms});
    secs.push_back(std::chrono::duration<double>(last.elapsed).count());
  }
  std::sort(secs.begin(), secs.end());
  auto best = secs.front();
  auto median = secs[secs.size() / 2];
  std::printf("%-22s %6zu ops %3d keys  verdict %-7s  best %8.4f s  "
              "median %8.4f s  %10.0f ops/s\n",
              name, history.size(), keys, to_string(last.v), best, median,
              best > 0 ? static_cast<double>(history.size()) / best : 0.0);
  if (last.v == verdict::illegal) {
    auto text = describe(last);
    std::printf("  %s\n", text.substr(0, 200).c_str());
  }
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  std::printf("checker-bench: %zu operations, %d clients, seed %llu, best "
              "of %d, %u hardware threads\n",
              opts.ops, opts.clients,
              static_cast<unsigned long long>(opts.seed), opts.repeat,
              std::thread::hardware_concurrency());
  random_history_config cfg;
  cfg.seed = opts.seed;
  cfg.operations = opts.ops;
  cfg.clients = opts.clients;
  cfg.keys = opts.keys;
  auto many = random_history(cfg);
  run("keys", many, opts.keys, opts);
  cfg.keys = 1;
  auto one = random_history(cfg);
  run("one key", one, 1, opts);
  // Unknown outcomes without cas: unknown writes that nobody saw are
  // dropped before the search (reads.hpp), which a failed cas forbids.
  cfg.unknown_percent = 5;
  cfg.cas_percent = 0;
  auto lossy = random_history(cfg);
  run("one key, 5% unknown", lossy, 1, opts);
  // A stale read near the end: the last get that found a value returns
  // what an earlier get of the same key, finished well before it was
  // called, had found (values are unique, so it is a stale value).
  for (auto g = many.size(); g-- > 0;) {
    auto& late = many[g];
    if (late.in.op != kv_input::kind::get || late.out.unknown
        || !late.out.found)
      continue;
    auto forged = false;
    for (auto e = g; e-- > 0 && !forged;) {
      const auto& early = many[e];
      if (early.in.key == late.in.key && early.in.op == kv_input::kind::get
          && !early.out.unknown && early.out.found
          && early.out.value != late.out.value
          && early.ret + 1000 < late.call) {
        late.out = early.out;
        forged = true;
      }
    }
    if (forged)
      break;
  }
  run("keys, one stale read", many, opts.keys, opts);
  return 0;
}
