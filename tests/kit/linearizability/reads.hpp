// raft::testing::lin::detail::read_tracker -- prunes the search of one key
// (search.cpp) at gets that can never become legal any more.
//
// A get that read v can only be linearized in state v. Two tests, both
// certain (they never cut off a configuration that has a completion):
//   * Producers: the operations that can leave state v behind -- a put or
//     cas writing v, an append whose value ends v, a del when the get found
//     nothing. Once all of a get's producers are linearized and the state is
//     not v, nothing can bring v back. Tracked incrementally for every get
//     not yet linearized (unreachable()).
//   * Paths: a get that found v can become legal only if some chain of
//     operations not yet linearized leads from the current state to v: each
//     chain ends with a producer, and an append of v[j..k) needs the state
//     v[0..j) before it. reachable() searches that graph over the prefixes
//     of v, letting each operation be used any number of times (an
//     over-approximation, so "unreachable" is certain). For a value too
//     long for a graph (over 4 KiB) only the graph's first step is checked
//     -- the prefix test: the state is a prefix of v, or a del or a put or
//     cas writing a prefix of v is left. Checked for the candidate gets
//     and for the get called next after them (search.cpp): that one is
//     what refutes a wrong order of concurrent appends as soon as it is
//     tried when no get is concurrent with them (the kvraft tests' "one
//     key" shape: appends, then one get at the end).
// Both turn a wrong guess into a dead end when it happens, not when the
// get's return is reached, and that is what makes one key with 16 clients
// tractable (bench/checker_bench.cpp).
#pragma once

#include <cstddef>
#include <vector>

#include "tests/kit/linearizability/history.hpp"

namespace raft::testing::lin::detail {

/// `ops` (one key's operations, indices into `history`) without the
/// unknown-outcome writes nobody can have observed. Such a write may as well
/// never have happened (linearized after everything else, it is legal and
/// changes nothing anyone saw), but left in, it is a candidate in every
/// configuration until the search takes it, and multiplies the work at each
/// dead end. Dropped: an unknown put, append or cas whose (non-empty) value
/// is a substring of no value a known get found and of no cas's expected
/// value -- unless the key has a known failed cas, which any write may have
/// made fail. Why this keeps the verdict: take a linearization; move the
/// unknown cas ops that did not swap to the end (legal, changes nothing);
/// then remove w. Only states between w and the next put or del change, and
/// each of them contains w's value, so no get or cas in that stretch saw
/// them -- or w's value would be a substring of what it saw.
std::vector<std::size_t> drop_unobserved(const std::vector<operation>& history,
                                         std::vector<std::size_t> ops);

class read_tracker {
public:
  /// `ops` are the key's operations (indices into `history`); the tracker
  /// numbers them 0..ops.size()-1 like the search does. Both must outlive
  /// the tracker.
  read_tracker(const std::vector<operation>& history,
               const std::vector<std::size_t>& ops);

  /// Operation `op` was linearized.
  void on_linearized(std::size_t op) {
    linearized_[op] = true;
    count(op, -1);
  }

  /// Operation `op` was undone.
  void on_undone(std::size_t op) {
    linearized_[op] = false;
    count(op, +1);
  }

  /// A get not yet linearized, illegal in `state`, whose producers are all
  /// linearized; or -1.
  int unreachable(const kv_state& state) const;

  /// Whether get `op` (known output) may still become legal from `state`:
  /// false only if no chain of operations not yet linearized leads there.
  bool reachable(std::size_t op, const kv_state& state);

private:
  /// An edge of a get's path graph.
  struct edge {
    /// The operation that makes the step.
    int op;
    /// Prefix length before it (-1: any state, for put and cas).
    int from;
    /// Prefix length after it.
    int to;
  };

  /// Fills producers_of_, remaining_, unreached_ and dels_left_.
  void index_producers();
  /// Fills graph_, graph_ok_ and resets_.
  void index_paths();
  /// Operation `w` was linearized (delta -1) or undone (+1).
  void count(std::size_t w, int delta);
  void z_insert(int r);
  void z_erase(int r);

  const operation& op_(std::size_t i) const {
    return history_[ops_[i]];
  }

  const std::vector<operation>& history_;
  const std::vector<std::size_t>& ops_;
  /// Per operation: whether it is linearized now.
  std::vector<bool> linearized_;
  /// Indexed by operation: the gets (with known output) it can produce.
  std::vector<std::vector<int>> producers_of_;
  /// Per get: its producers not yet linearized.
  std::vector<int> remaining_;
  /// The gets not linearized whose producers all are (a set; z_pos_ holds
  /// each one's position in it, -1 when absent).
  std::vector<int> unreached_;
  std::vector<int> z_pos_;
  /// Dels not yet linearized.
  int dels_left_ = 0;
  /// Per get that found a value: its edges, sorted by `to`. graph_ok_ says
  /// whether it has a graph (values longer than 4 KiB have none and get the
  /// prefix test only).
  std::vector<std::vector<edge>> graph_;
  std::vector<bool> graph_ok_;
  /// Per get without a graph: the puts and cas ops (ok or unknown) that
  /// write a prefix of its value.
  std::vector<std::vector<int>> resets_;
  /// Scratch space for reachable().
  std::vector<char> reach_;
};

} // namespace raft::testing::lin::detail
