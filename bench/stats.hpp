// Percentiles of measured figures (latencies): one definition for the
// benchmarks and for raft-ctl ping, which includes it from here.
#pragma once

#include <cstddef>
#include <vector>

namespace raft::bench {

/// The nearest-rank `percent` percentile of `sorted` (ascending): the
/// smallest value such that at least `percent` % of all values are at most
/// it, i.e. the value at rank ceil(percent * n / 100), counting ranks from 1
/// (percent 0 gives the smallest value, 100 the largest). A value-initialized
/// T when `sorted` is empty.
template <class T>
T percentile(const std::vector<T>& sorted, unsigned percent) {
  if (sorted.empty())
    return T{};
  const auto n = sorted.size();
  auto rank = (static_cast<std::size_t>(percent) * n + 99) / 100;
  if (rank < 1)
    rank = 1;
  if (rank > n)
    rank = n;
  return sorted[rank - 1];
}

} // namespace raft::bench
