// raft::testing::lin::detail -- the search of one key's operations, the
// engine behind check() (checker.hpp describes the algorithm; search.cpp its
// details; reads.hpp its pruning at unreachable gets).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/kit/linearizability/checker.hpp"
#include "tests/kit/linearizability/history.hpp"

namespace raft::testing::lin::detail {

/// The operations of one key.
struct partition {
  /// The key.
  std::string key;
  /// Its operations as indices into the history, ascending; without gets
  /// whose outcome is unknown.
  std::vector<std::size_t> ops;
};

/// The return time the search uses: never_returned for an unknown outcome,
/// else op.ret.
std::int64_t effective_ret(const operation& op);

/// Decides whether `part` is linearizable; verdict::unknown once
/// `deadline` has passed (time_point::max(): no limit). Deterministic: the
/// same operations give the same result, whatever thread runs it.
key_result search_key(const std::vector<operation>& history,
                      const partition& part,
                      std::chrono::steady_clock::time_point deadline);

} // namespace raft::testing::lin::detail
