// 6.5840 kvraft GenericTest (src/kvraft/test_test.go; docs/architecture.md
// §8.9) on raft::testing::kv_cluster, and the helpers the kvraft tests
// share. Go's goroutines are goroutines.hpp tasks; Go's atomics are plain
// flags (one task runs at a time).
#pragma once

#include <chrono>
#include <string>

#include "tests/kit/kv/kv_cluster.hpp"

namespace raft::kv_test {

using raft::testing::clerk;
using raft::testing::kv_cluster;
using raft::testing::kv_cluster_options;

/// kvraft electionTimeout.
inline constexpr std::chrono::milliseconds election_timeout{1000};

struct generic_shape {
  int clients = 1;
  bool unreliable = false;
  bool crash = false;
  bool partitions = false;
  std::int64_t max_raft_state = -1;
  bool random_keys = false;
  /// Gets with ReadIndex instead of through the log (our addition).
  bool read_index = false;
};

/// make_config(servers, unreliable, maxraftstate) as kv_cluster_options
/// (max_raft_state -1: never snapshot).
kv_cluster_options shape(int servers, bool unreliable,
                         std::int64_t max_raft_state = -1);

/// A TestXxx3A/3B that is only GenericTest: `s` on `nservers` servers, once
/// per seed of the command line (for_each_kv_run), titled `desc`.
void generic(const char* desc, int nservers, const generic_shape& s);

/// GenericTest's body: 3 rounds of `clients` clerks for 5 s each, with
/// partitions and crashes as asked, per-client append checks, the log and
/// snapshot size bounds, and the linearizability check of the whole
/// history at the end.
void generic_test(kv_cluster& cfg, const generic_shape& s);

/// GenericTestSpeed: 1000 sequential appends, each faster than a third of
/// a heartbeat interval (100 ms) on average, on the cluster's clock.
void generic_test_speed(kv_cluster& cfg);

/// checkClntAppends: `v` holds every append "x <clnt> <j> y" for j < count
/// exactly once and in order.
void check_clnt_appends(kv_cluster& cfg, int clnt, const std::string& v,
                        int count);

/// "x <clnt> <j> y".
std::string append_value(int clnt, int j);

} // namespace raft::kv_test
