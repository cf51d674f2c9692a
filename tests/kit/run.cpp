#include "tests/kit/run.hpp"

#include <sstream>

#include <catch2/catch.hpp>

#include "tests/support/run_options.hpp"

namespace raft::testing {

run_plan command_line_plan() {
  auto& opts = run_options::global();
  run_plan result;
  result.clock = opts.clock == "real_time" ? clock_mode::real_time
                                           : clock_mode::simulated;
  result.storage = opts.storage == "disk" ? storage_kind::disk
                                          : storage_kind::memory;
  result.seeds = opts.seed_list();
  return result;
}

void for_each_run(const run_plan& plan, const char* desc, int servers,
                  bool unreliable, const std::function<void(cluster&)>& body) {
  cluster_options shape;
  shape.servers = servers;
  shape.unreliable = unreliable;
  for_each_run(plan, desc, shape, body);
}

void for_each_run(const run_plan& plan, const char* desc,
                  const cluster_options& shape,
                  const std::function<void(cluster&)>& body) {
  auto runs = plan.seeds.size();
  for (std::size_t run = 0; run < runs; ++run) {
    cluster_options opts = shape;
    opts.clock = plan.clock;
    opts.storage = plan.storage;
    opts.seed = plan.seeds[run];
    cluster c{opts};
    // Attached to every assertion of this run, failed or not.
    std::ostringstream ctx;
    ctx << "run " << (run + 1) << "/" << runs << ", " << c.replay_hint();
    INFO(ctx.str());
    c.begin(desc);
    body(c);
    c.end();
  }
}

void for_each_run(const char* desc, int servers, bool unreliable,
                  const std::function<void(cluster&)>& body) {
  for_each_run(command_line_plan(), desc, servers, unreliable, body);
}

void for_each_run(const char* desc, const cluster_options& shape,
                  const std::function<void(cluster&)>& body) {
  for_each_run(command_line_plan(), desc, shape, body);
}

} // namespace raft::testing
