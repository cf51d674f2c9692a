// raft::testing::for_each_run -- runs one ported test body once per seed:
// make_config + begin(desc), the body, end(), cleanup. Every assertion that
// fails inside the body is reported with the seed and how to replay it.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tests/kit/cluster.hpp"

namespace raft::testing {

/// What a test binary was asked to run.
struct run_plan {
  clock_mode clock = clock_mode::simulated;
  storage_kind storage = storage_kind::memory;
  /// One run per seed, in order (0: a seed from std::random_device).
  std::vector<std::uint64_t> seeds{0};
};

/// The plan of the command line (--clock, --storage, --seeds N, --seed S
/// and their RAFT_* environment overrides; tests/support/run_options.hpp):
/// seeds 1..N, or just S when replaying.
run_plan command_line_plan();

/// Runs `body` on a fresh cluster of `servers` once per seed of `plan`;
/// `desc` is the 6.5840 test title ("Test (2B): basic agreement").
/// Stops at the first failing run.
void for_each_run(const run_plan& plan, const char* desc, int servers,
                  bool unreliable, const std::function<void(cluster&)>& body);

/// for_each_run(command_line_plan(), ...).
void for_each_run(const char* desc, int servers, bool unreliable,
                  const std::function<void(cluster&)>& body);

/// Like the above with every make_config option in `shape` (servers,
/// unreliable, snapshots); its clock, storage and seed are replaced by the
/// plan's. E.g. the 2D tests: for_each_run(plan, desc, {3, false, true},
/// body) -- cluster_options{servers, unreliable, snapshots}.
void for_each_run(const run_plan& plan, const char* desc,
                  const cluster_options& shape,
                  const std::function<void(cluster&)>& body);

/// for_each_run(command_line_plan(), desc, shape, body).
void for_each_run(const char* desc, const cluster_options& shape,
                  const std::function<void(cluster&)>& body);

} // namespace raft::testing
