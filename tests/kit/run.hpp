// raft::testing::for_each_run -- runs one ported test body once per seed:
// make_config + begin(desc), the body, end(), cleanup. Every assertion that
// fails inside the body is reported with the seed and how to replay it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

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

/// "run <run + 1>/<runs>, <c's replay hint>": what every assertion of a
/// run says about it.
std::string run_context(std::size_t run, std::size_t runs, const cluster& c);

/// The loop behind for_each_run and for_each_kv_run: once per seed of
/// `plan`, a fresh `Cluster` made from `shape` (cluster_options or
/// kv_cluster_options) with the plan's clock and storage and that seed;
/// begin(desc) on its Raft tester `raft_of(c)`, `body(c)`, end(). Every
/// assertion of a run carries its run_context().
template <class Cluster, class Options, class RaftOf>
void for_each_seed(const run_plan& plan, const char* desc,
                   const Options& shape,
                   const std::function<void(Cluster&)>& body,
                   RaftOf raft_of) {
  auto runs = plan.seeds.size();
  for (std::size_t run = 0; run < runs; ++run) {
    Options opts = shape;
    opts.clock = plan.clock;
    opts.storage = plan.storage;
    opts.seed = plan.seeds[run];
    Cluster c{opts};
    cluster& raft = raft_of(c);
    // Attached to every assertion of this run, failed or not.
    INFO(run_context(run, runs, raft));
    raft.begin(desc);
    body(c);
    raft.end();
  }
}

} // namespace raft::testing
