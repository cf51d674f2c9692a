#include "tests/kit/kv/kv_run.hpp"

namespace raft::testing {

void for_each_kv_run(const char* desc, const kv_cluster_options& shape,
                     const std::function<void(kv_cluster&)>& body) {
  for_each_seed(command_line_plan(), desc, shape, body,
                [](kv_cluster& c) -> cluster& { return c.raft(); });
}

} // namespace raft::testing
