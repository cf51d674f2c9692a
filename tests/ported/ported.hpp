// What the ported 6.5840 Raft tests (test_2a.cpp .. test_2d.cpp) share:
// test_test.go's constants and Go idioms, and the names every one of them
// uses. A test file says `using namespace raft::testing::ported;`.
#pragma once

#include <chrono>
#include <string>

#include "tests/kit/cluster.hpp"
#include "tests/kit/run.hpp"

namespace raft::testing::ported {

using raft::testing::cluster;
using raft::testing::for_each_run;
using std::to_string;
using namespace std::chrono_literals;

/// RaftElectionTimeout (test_test.go): 1000 ms.
inline constexpr std::chrono::milliseconds raft_election_timeout{1000};

/// Go's rand.Int() as a command: its decimal string, drawn from the run's
/// seeded RNG.
inline std::string rand_cmd(cluster& cfg) {
  return to_string(cfg.random());
}

} // namespace raft::testing::ported
