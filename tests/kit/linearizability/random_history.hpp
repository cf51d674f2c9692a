// raft::testing::lin::random_history -- histories that are linearizable by
// construction, for the checker's own tests and its benchmark.
//
// How: clients issue operations one after another on a virtual clock
// (always the client that is free earliest goes next, so up to `clients`
// operations overlap). Each operation gets a random interval [call, ret] and
// a random linearization point inside it. Executing the operations on the
// sequential KV (kv_apply) in order of those points gives every output, so
// the points are a witness: the history is linearizable. Writes drawn as
// "unknown outcome" either take effect at their point or not at all; gets
// drawn as unknown observe nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "tests/kit/linearizability/history.hpp"

namespace raft::testing::lin {

struct random_history_config {
  /// Seeds the generator (std::mt19937_64); same seed, same history.
  std::uint64_t seed = 1;
  /// Number of operations. Invariant: >= 0.
  std::size_t operations = 1000;
  /// Number of clients ("client 0" ...). Invariant: >= 1.
  int clients = 8;
  /// Number of keys ("k0" ...). Invariant: >= 1.
  int keys = 3;
  /// Mix of operations in percent; the rest (100 - the sum) are dels.
  int get_percent = 50;
  int put_percent = 20;
  int append_percent = 25;
  int cas_percent = 3;
  /// An operation lasts 1..max_duration ns. Invariant: >= 1.
  std::int64_t max_duration = 100;
  /// A client waits 0..max_gap ns between operations. Invariant: >= 0.
  std::int64_t max_gap = 20;
  /// Percent of operations whose outcome the client never learns; half of
  /// those that are writes never take effect.
  int unknown_percent = 0;
};

/// A linearizable history drawn as described above, in order of call.
std::vector<operation> random_history(const random_history_config& cfg);

} // namespace raft::testing::lin
