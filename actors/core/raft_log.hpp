// The in-memory Raft log of one node: a contiguous run of entries
// [first_index, last_index] after a base position (the snapshot point, or
// {0, 0} for a log that starts at index 1).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>

#include "messages/log_entry.hpp"

namespace raft::core {

class raft_log {
public:
  raft_log() = default;

  /// A log whose entries follow `base` (the last index covered by a
  /// snapshot, or {0, 0}). Throws std::invalid_argument when `entries` are
  /// not consecutive after base or their terms decrease.
  raft_log(log_id base, log_entries entries);

  /// Index of the first held entry (base.index + 1, even when empty).
  index_t first_index() const { return base_.index.next(); }
  /// Index of the last held entry, or base.index when empty.
  index_t last_index() const {
    return index_t{base_.index.value + entries_.size()};
  }
  /// Term of the last entry, or base.term when empty.
  term_t last_term() const {
    return entries_.empty() ? base_.term : entries_.back().term;
  }
  log_id last() const { return {last_term(), last_index()}; }
  log_id base() const { return base_; }

  /// Term of the entry at `i`: base.term for i == base.index, nothing when
  /// `i` is outside [base.index, last_index].
  std::optional<term_t> term_at(index_t i) const;

  /// Whether the log holds `i` with term `t` (the log matching check, §5.3).
  bool matches(index_t i, term_t t) const;

  /// Entry at `i`. Precondition: first_index() <= i <= last_index().
  const log_entry& at(index_t i) const;

  /// First index of the run of entries with term `t` that contains or ends
  /// before `i` (XIndex of the fast backup). Precondition: term_at(i) == t.
  index_t first_index_of_term_at(index_t i) const;

  /// Last index holding an entry of term `t`, if any (leader side of the
  /// fast backup).
  std::optional<index_t> last_index_of_term(term_t t) const;

  /// Appends one entry. Precondition: e.index == last_index() + 1 and
  /// e.term >= last_term().
  void append(log_entry e);

  /// Drops every entry with index >= i. Precondition: i > base.index
  /// (committed entries are never truncated; the caller checks that).
  void truncate_from(index_t i);

  /// Service snapshot (§7): the entries through `base.index` are covered by
  /// a snapshot; drop them and make `base` the new base. Precondition:
  /// this->base().index <= base.index <= last_index() and the log holds
  /// base.index with base.term.
  void compact_to(log_id base);

  /// InstallSnapshot (Figure 13 steps 6-7): "If existing log entry has same
  /// index and term as snapshot's last included entry, retain log entries
  /// following it" -- else "discard the entire log". Either way the base
  /// becomes `snap`. Returns whether the suffix was kept. Precondition:
  /// snap.index > base().index.
  bool install(log_id snap);

  /// Copies entries [from, to] but stops after `max_entries` entries or once
  /// `max_bytes` payload bytes are reached (at least one entry if any).
  log_entries slice(index_t from, index_t to, std::size_t max_entries,
                    std::size_t max_bytes) const;

  /// §5.4.1: a candidate's log (last_term, last_index) is at least as
  /// up-to-date as this log.
  bool is_up_to_date(index_t last_index, term_t last_term) const;

private:
  /// Position just before entries_.front(); the snapshot point.
  log_id base_;
  /// Invariant: entries_[k].index == base_.index + 1 + k; terms are
  /// non-decreasing and >= base_.term.
  std::deque<log_entry> entries_;
};

} // namespace raft::core
