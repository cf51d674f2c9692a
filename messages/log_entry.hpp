// One slot of the replicated log (Figure 2: "each entry contains command for
// state machine, and term when entry was received by leader").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/ids.hpp"

namespace raft {

/// What an entry carries. Stored as one byte on disk and on the wire.
enum class entry_kind : std::uint8_t {
  /// An opaque command for the user's state machine.
  command = 0,
  /// An empty entry a leader may append at the start of its term
  /// (§8 / thesis §6.4); applied as a no-op. Off by default, so the
  /// 6.5840 tests see command indexes 1, 2, 3, ...
  noop = 1,
};

struct log_entry {
  /// Term of the leader that created the entry. Never changes once written.
  term_t term;
  /// Position in the log, >= 1. Invariant: entries of a log have consecutive
  /// indexes.
  index_t index;
  entry_kind kind = entry_kind::command;
  /// The command bytes, opaque to Raft.
  std::string data;

  friend bool operator==(const log_entry& a, const log_entry& b) {
    return a.term == b.term && a.index == b.index && a.kind == b.kind
           && a.data == b.data;
  }
  friend bool operator!=(const log_entry& a, const log_entry& b) {
    return !(a == b);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_entry& x) {
  return f(x.term, x.index, x.kind, x.data);
}

/// (term, index) of a log position; {0, 0} is the empty log.
struct log_id {
  term_t term;
  index_t index;
  friend bool operator==(const log_id& a, const log_id& b) {
    return a.term == b.term && a.index == b.index;
  }
  friend bool operator!=(const log_id& a, const log_id& b) { return !(a == b); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_id& x) {
  return f(x.term, x.index);
}

using log_entries = std::vector<log_entry>;

} // namespace raft
