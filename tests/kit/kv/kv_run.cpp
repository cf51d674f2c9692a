#include "tests/kit/kv/kv_run.hpp"

#include <catch2/catch.hpp>

#include <sstream>

namespace raft::testing {

void for_each_kv_run(const char* desc, const kv_cluster_options& shape,
                     const std::function<void(kv_cluster&)>& body) {
  auto plan = command_line_plan();
  auto runs = plan.seeds.size();
  for (std::size_t run = 0; run < runs; ++run) {
    auto opts = shape;
    opts.clock = plan.clock;
    opts.storage = plan.storage;
    opts.seed = plan.seeds[run];
    kv_cluster c{opts};
    std::ostringstream ctx;
    ctx << "run " << (run + 1) << "/" << runs << ", " << c.raft().replay_hint();
    INFO(ctx.str());
    c.raft().begin(desc);
    body(c);
    c.raft().end();
  }
}

} // namespace raft::testing
