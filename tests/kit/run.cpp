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

std::string run_context(std::size_t run, std::size_t runs, const cluster& c) {
  std::ostringstream ctx;
  ctx << "run " << (run + 1) << "/" << runs << ", " << c.replay_hint();
  return ctx.str();
}

void for_each_run(const run_plan& plan, const char* desc,
                  const cluster_options& shape,
                  const std::function<void(cluster&)>& body) {
  for_each_seed(plan, desc, shape, body, [](cluster& c) -> cluster& {
    return c;
  });
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
