// How the test binaries were asked to run: the options our Catch2 main
// (tests/main.cpp) adds to Catch's own. CAF-free, so the core tests, the test
// kit and the ported 6.5840 tests can all read them.
//
//   --clock simulated|real_time   clock of the test kit (default simulated)
//   --seeds N                     run randomized tests with N seeds (default 1;
//                                 a test may run more, e.g. the core
//                                 simulation runs at least 200)
//   --seed S                      replay exactly seed S
//   --storage memory|disk         store of the test kit's servers (default
//                                 memory; disk = a fresh temp directory each)
//
// The environment variables RAFT_CLOCK, RAFT_SEEDS, RAFT_SEED and
// RAFT_STORAGE override the command line, so a run under ctest can be
// changed without touching the registered command lines:
//   RAFT_SEED=42 ctest -R 'core:sim'
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace raft::testing {

struct run_options {
  /// "simulated" (CAF test_coordinator, virtual time) or "real_time".
  std::string clock = "simulated";
  /// "memory" (memory_store) or "disk" (disk_store in a temp directory).
  std::string storage = "memory";
  /// How many seeds randomized tests should try. Always >= 1.
  std::uint64_t seeds = 1;
  /// Replay this one seed instead of trying `seeds` seeds.
  std::optional<std::uint64_t> seed;

  /// The process-wide options, filled in by main() before any test runs.
  static run_options& global() {
    static run_options instance;
    return instance;
  }

  /// The seeds a randomized test should run: just `seed` when replaying,
  /// else first, first + 1, ... -- max(seeds, at_least) of them.
  std::vector<std::uint64_t> seed_list(std::uint64_t at_least = 1,
                                       std::uint64_t first = 1) const {
    if (seed)
      return {*seed};
    auto n = seeds > at_least ? seeds : at_least;
    std::vector<std::uint64_t> result;
    result.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i)
      result.push_back(first + i);
    return result;
  }

  /// "seed=S (replay: RAFT_SEED=S <binary> '<test>')": the line every
  /// randomized failure prints.
  static std::string replay_hint(std::uint64_t seed,
                                 const std::string& test_name = {}) {
    auto s = std::to_string(seed);
    auto result = "seed=" + s + " (replay: RAFT_SEED=" + s + " <test binary>";
    if (!test_name.empty())
      result += " '" + test_name + "'";
    return result + ", or --seed " + s + ")";
  }
};

} // namespace raft::testing
