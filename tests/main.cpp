// The one main() of every Catch2 test binary (object library raft_test_main):
// Catch's own options plus ours (tests/support/run_options.hpp).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

#include "tests/support/run_options.hpp"

namespace {

/// Parses a decimal seed or count; false on garbage.
bool parse_u64(const std::string& text, std::uint64_t& out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  try {
    out = std::stoull(text);
  } catch (...) {
    return false;
  }
  return true;
}

bool from_env(const char* name, std::string& out) {
  if (const char* v = std::getenv(name); v != nullptr && *v != '\0') {
    out = v;
    return true;
  }
  return false;
}

} // namespace

int main(int argc, char* argv[]) {
  Catch::Session session;
  std::string clock;
  std::string seeds;
  std::string seed;
  std::string storage;
  using Catch::clara::Opt;
  auto cli = session.cli()
             | Opt(clock, "simulated|real_time")["--clock"](
               "clock of the test kit (default simulated; env RAFT_CLOCK)")
             | Opt(seeds, "N")["--seeds"](
               "seeds per randomized test (default 1; env RAFT_SEEDS)")
             | Opt(seed, "S")["--seed"](
               "replay one seed (env RAFT_SEED overrides)")
             | Opt(storage, "memory|disk")["--storage"](
               "store of the test kit's servers (default memory; env "
               "RAFT_STORAGE)");
  session.cli(cli);
  if (auto rc = session.applyCommandLine(argc, argv); rc != 0)
    return rc;
  from_env("RAFT_CLOCK", clock);
  from_env("RAFT_SEEDS", seeds);
  from_env("RAFT_SEED", seed);
  from_env("RAFT_STORAGE", storage);
  auto& opts = raft::testing::run_options::global();
  if (!clock.empty()) {
    if (clock != "simulated" && clock != "real_time") {
      std::cerr << "error: --clock must be simulated or real_time, got '"
                << clock << "'\n";
      return 2;
    }
    opts.clock = clock;
  }
  if (!storage.empty()) {
    if (storage != "memory" && storage != "disk") {
      std::cerr << "error: --storage must be memory or disk, got '"
                << storage << "'\n";
      return 2;
    }
    opts.storage = storage;
  }
  if (!seeds.empty()) {
    std::uint64_t n = 0;
    if (!parse_u64(seeds, n) || n == 0) {
      std::cerr << "error: --seeds must be a positive integer, got '" << seeds
                << "'\n";
      return 2;
    }
    opts.seeds = n;
  }
  if (!seed.empty()) {
    std::uint64_t s = 0;
    if (!parse_u64(seed, s)) {
      std::cerr << "error: --seed must be a non-negative integer, got '"
                << seed << "'\n";
      return 2;
    }
    opts.seed = s;
  }
  // catch_discover_tests (Catch2 2.13) turns the test list into a CMake
  // list: ';', '[' and ']' in a test name silently merge or break the CTest
  // tests. Refuse them here, so the build fails with a clear message.
  for (const auto& tc : Catch::getAllTestCasesSorted(session.config())) {
    const auto& name = tc.getTestCaseInfo().name;
    if (name.find_first_of(";[]") != std::string::npos) {
      std::cerr << "error: test name contains ';', '[' or ']', which "
                   "catch_discover_tests cannot handle: \""
                << name << "\"\n";
      return 2;
    }
  }
  return session.run();
}
