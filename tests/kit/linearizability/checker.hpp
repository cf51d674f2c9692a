// raft::testing::lin::check -- is a KV history linearizable?
//
// The Wing & Gong (1993) search as improved by Lowe (2017) -- the algorithm
// of porcupine, which the 6.5840 KV tests use (docs/architecture.md §8.8):
//   1. Split the history by key (locality: linearizable iff every key is).
//   2. Per key, sort the call and return events by time, calls before
//      returns on equal times (touching operations count as concurrent).
//   3. The candidates to linearize next are the operations called before
//      the first return still in the list. Try one (the model accepts its
//      output); on success remove its call and return from the list
//      ("lift") and start over. When every candidate fails, backtrack: undo
//      the last linearized operation ("unlift") and try its next sibling.
//   4. Memoize (set of linearized operations, model state): a pair seen once
//      never needs exploring again (Lowe's improvement).
//   The history is linearizable iff the list empties; it is not iff the
//   search backtracks out of the first operation.
// Three refinements, each exact (search.cpp, reads.hpp):
//   * candidates are tried in order of return, not of call;
//   * a get (or a failed cas) that is legal now is linearized at once, with
//     no siblings tried: moving it to the front keeps any linearization;
//   * a configuration in which some get can never become legal again (no
//     chain of remaining operations produces its value; checked for the
//     candidate gets and for the get called next after them, which refutes
//     a wrong order of concurrent appends at once) is a dead end at once;
//     and unknown-outcome writes nobody saw are dropped up front.
// Without them one key with 16 concurrent clients is intractable; with them
// bench/checker-bench checks it at tens of thousands of operations per
// second. Histories can still be built that take exponential time (the
// problem is NP-complete): the budget turns those into verdict::unknown.
//
// Keys are checked in parallel (at most hardware_concurrency threads). The
// result does not depend on the threads: each key's search is sequential and
// deterministic, and every key is searched to the end (an illegal key does
// not cancel the others) unless the budget runs out.
//
// The budget is wall time for the whole check. A key whose search did not
// finish in time is verdict::unknown -- never ok. (The clock is read every
// 1024 steps, so every key gets at least that many steps, even one that
// starts after the deadline: small keys still get decided.) The overall
// verdict is illegal if any key is illegal (even if others timed out), else
// unknown if any timed out, else ok.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/kit/linearizability/history.hpp"

namespace raft::testing::lin {

enum class verdict {
  /// Linearizable.
  ok,
  /// Not linearizable: no order of the operations explains the outputs.
  illegal,
  /// The search ran out of time before deciding.
  unknown,
};

/// "ok", "illegal", "unknown".
const char* to_string(verdict v);

/// The outcome for one key.
struct key_result {
  /// The key.
  std::string key;
  /// This key's verdict.
  verdict v = verdict::ok;
  /// Operations of this key the search had to place: all of them except
  /// gets with unknown outcome (they constrain nothing) and unknown-outcome
  /// writes whose value nobody saw (they may as well never have happened;
  /// see detail::drop_unobserved in reads.hpp).
  std::size_t operations = 0;
  /// illegal only: the longest linearized prefix the search found, as
  /// indices into the checked history, in linearization order. (The first
  /// prefix of that length in search order.)
  std::vector<std::size_t> prefix;
  /// illegal only: the operations that could go next after `prefix` -- each
  /// was called and not yet linearized before `stuck_at` -- none of which the
  /// model accepts in the state after `prefix`. Indices into the history,
  /// in order of call.
  std::vector<std::size_t> stuck;
  /// illegal only: the time by which one of `stuck` had to be linearized
  /// (the earliest return among the operations not in `prefix`, or the
  /// unreachable get's return): the point where no linearization exists.
  std::int64_t stuck_at = 0;
  /// illegal only: false -- `stuck` are the operations that could go next
  /// and none is legal; true -- `stuck` is one get that can never become
  /// legal any more (its value is not the state, and every operation that
  /// could produce it is in `prefix`), so the search gave up there.
  bool unreachable = false;
  /// illegal only: the key's model state after `prefix`.
  kv_state state;
  /// illegal only: copies of the operations of `stuck`, same order (so that
  /// describe() needs no history).
  std::vector<operation> stuck_operations;
};

/// The outcome of check().
struct check_result {
  /// The overall verdict (see the file comment for how it combines keys).
  verdict v = verdict::ok;
  /// One entry per key of the history, sorted by key.
  std::vector<key_result> keys;
  /// Wall time the check took.
  std::chrono::nanoseconds elapsed{0};

  /// The entry of `key`, or nullptr.
  const key_result* find(const std::string& key) const;
};

/// Checks whether `history` is linearizable with respect to the KV model
/// (history.hpp), spending at most about `budget` of wall time (a budget of
/// milliseconds::max() means no limit). Throws std::invalid_argument when an
/// operation with a known outcome returns before its call.
check_result check(const std::vector<operation>& history,
                   std::chrono::milliseconds budget);

/// A short human-readable account, e.g.
/// `illegal: key "k": after 12 linearized ops (value "ab"), none of
/// get(k) -> "a" [client 3, t=120..180] can go next (stuck at t=180)`.
std::string describe(const check_result& result);

} // namespace raft::testing::lin
