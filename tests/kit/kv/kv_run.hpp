// raft::testing::for_each_kv_run -- runs one ported kvraft test body once
// per seed of the command line's plan (--clock, --storage, --seeds, --seed),
// on a fresh kv_cluster; failures carry the seed and how to replay.
#pragma once

#include <functional>

#include "tests/kit/kv/kv_cluster.hpp"
#include "tests/kit/run.hpp"

namespace raft::testing {

void for_each_kv_run(const char* desc, const kv_cluster_options& shape,
                     const std::function<void(kv_cluster&)>& body);

} // namespace raft::testing
