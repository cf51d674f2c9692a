#include "actors/core/raft_log.hpp"

#include <stdexcept>
#include <string>

namespace raft::core {

raft_log::raft_log(log_id base, log_entries entries) : base_(base) {
  for (auto& e : entries) {
    if (e.index != last_index().next())
      throw std::invalid_argument("raft_log: entry index "
                                  + to_string(e.index) + " does not follow "
                                  + to_string(last_index()));
    if (e.term < last_term())
      throw std::invalid_argument("raft_log: entry " + to_string(e.index)
                                  + " has term " + to_string(e.term)
                                  + " below its predecessor's");
    entries_.push_back(std::move(e));
  }
}

std::optional<term_t> raft_log::term_at(index_t i) const {
  if (i == base_.index)
    return base_.term;
  if (i < base_.index || i > last_index())
    return std::nullopt;
  return entries_[i.value - base_.index.value - 1].term;
}

bool raft_log::matches(index_t i, term_t t) const {
  auto found = term_at(i);
  return found && *found == t;
}

const log_entry& raft_log::at(index_t i) const {
  if (i <= base_.index || i > last_index())
    throw std::out_of_range("raft_log::at: index " + to_string(i)
                            + " outside [" + to_string(first_index()) + ", "
                            + to_string(last_index()) + "]");
  return entries_[i.value - base_.index.value - 1];
}

index_t raft_log::first_index_of_term_at(index_t i) const {
  auto t = term_at(i);
  if (!t)
    return i;
  // Walk back while the previous entry has the same term; never below the
  // first held entry (the snapshot hides what came before).
  while (i > first_index()) {
    auto prev = term_at(i.prev());
    if (!prev || *prev != *t)
      break;
    i = i.prev();
  }
  return i;
}

std::optional<index_t> raft_log::last_index_of_term(term_t t) const {
  // Terms are non-decreasing: scan back from the end and stop once below t.
  for (auto k = entries_.size(); k > 0; --k) {
    const auto& e = entries_[k - 1];
    if (e.term == t)
      return e.index;
    if (e.term < t)
      return std::nullopt;
  }
  if (base_.term == t && base_.index.value > 0)
    return base_.index;
  return std::nullopt;
}

void raft_log::append(log_entry e) {
  if (e.index != last_index().next())
    throw std::logic_error("raft_log::append: index " + to_string(e.index)
                           + " does not follow " + to_string(last_index()));
  if (e.term < last_term())
    throw std::logic_error("raft_log::append: term " + to_string(e.term)
                           + " below last term " + to_string(last_term()));
  entries_.push_back(std::move(e));
}

void raft_log::truncate_from(index_t i) {
  if (i <= base_.index)
    throw std::logic_error("raft_log::truncate_from: index " + to_string(i)
                           + " is covered by the snapshot");
  while (!entries_.empty() && entries_.back().index >= i)
    entries_.pop_back();
}

void raft_log::compact_to(log_id base) {
  if (base.index < base_.index || base.index > last_index()
      || !matches(base.index, base.term))
    throw std::logic_error("raft_log::compact_to: " + to_string(base.term)
                           + "/" + to_string(base.index)
                           + " is not a position of the log");
  while (!entries_.empty() && entries_.front().index <= base.index)
    entries_.pop_front();
  base_ = base;
}

bool raft_log::install(log_id snap) {
  if (snap.index <= base_.index)
    throw std::logic_error("raft_log::install: snapshot index "
                           + to_string(snap.index) + " not above base "
                           + to_string(base_.index));
  bool keep = matches(snap.index, snap.term);
  if (keep) {
    compact_to(snap);
    return true;
  }
  entries_.clear();
  base_ = snap;
  return false;
}

log_entries raft_log::slice(index_t from, index_t to, std::size_t max_entries,
                            std::size_t max_bytes) const {
  log_entries out;
  if (from < first_index() || to > last_index())
    return out;
  std::size_t bytes = 0;
  for (auto i = from; i <= to && out.size() < max_entries; i = i.next()) {
    const auto& e = at(i);
    if (!out.empty() && bytes + e.data.size() > max_bytes)
      break;
    bytes += e.data.size();
    out.push_back(e);
  }
  return out;
}

bool raft_log::is_up_to_date(index_t index, term_t term) const {
  // §5.4.1: "If the logs have last entries with different terms, then the
  // log with the later term is more up-to-date. If the logs end with the
  // same term, then whichever log is longer is more up-to-date."
  if (term != last_term())
    return term > last_term();
  return index >= last_index();
}

} // namespace raft::core
