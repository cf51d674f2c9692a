#include "persistence/memory_store.hpp"

#include "persistence/disk_format.hpp"
#include "messages/crc32.hpp"

#include <iterator>
#include <string>
#include <utility>

namespace raft::persistence {

namespace {

std::string str(index_t i) {
  return std::to_string(i.value);
}

std::string str(log_id id) {
  return "index " + str(id.index) + " term " + std::to_string(id.term.value);
}

/// Throws store_error unless `es` are consecutive and the first is `first`.
void check_consecutive(const log_entries& es, index_t first,
                       const char* what) {
  auto expected = first;
  for (const auto& e : es) {
    if (e.index != expected)
      throw store_error(std::string{"memory_store: "} + what + ": entry "
                        + str(e.index) + " where " + str(expected)
                        + " was expected (entries must be consecutive and "
                          "follow the log)");
    expected = expected.next();
  }
}

} // namespace

memory_store::memory_store(stored_state initial)
  : hard_(initial.hard),
    base_(initial.base),
    snapshot_(std::move(initial.snapshot)),
    entries_(std::move(initial.entries)) {
  check_consecutive(entries_, base_.index.next(), "initial state");
  for (const auto& e : entries_)
    durable_bytes_ += encoded_size(e);
}

stored_state memory_store::load() {
  std::lock_guard<std::mutex> guard{mtx_};
  return stored_state{hard_, base_, entries_, snapshot_};
}

index_t memory_store::staged_last_index_locked() const {
  if (!staged_.empty())
    return staged_last_;
  return index_t{base_.index.value + entries_.size()};
}

log_id memory_store::staged_base_locked() const {
  return staged_.empty() ? base_ : staged_base_;
}

term_t memory_store::staged_term_at_locked(index_t i) const {
  // Replays the staged batches on the durable view, for index i only.
  term_t t;
  auto last = index_t{base_.index.value + entries_.size()};
  if (i == base_.index)
    t = base_.term;
  else if (i > base_.index && i <= last)
    t = entries_[distance(base_.index, i) - 1].term;
  for (auto& sb : staged_) {
    auto& b = sb.batch;
    if (!b.snapshot.empty()) {
      auto li = b.snapshot.front().last_included;
      if (!sb.keep_suffix)
        last = li.index;
      if (i == li.index)
        t = li.term;
      else if (i < li.index || !sb.keep_suffix)
        t = term_t{};
    }
    if (b.truncate_from != index_t{} && b.truncate_from <= last) {
      if (i >= b.truncate_from)
        t = term_t{};
      last = b.truncate_from.prev();
    }
    for (auto& e : b.entries)
      if (e.index == i)
        t = e.term;
    last = last + b.entries.size();
  }
  return t;
}

void memory_store::stage_snapshot_chunk(const snapshot_chunk& chunk) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (chunk.offset == 0) {
    staging_id_ = chunk.last_included;
    staging_ = chunk.data;
    return;
  }
  if (chunk.last_included != staging_id_ || chunk.offset != staging_.size())
    throw store_error("memory_store: stage_snapshot_chunk: chunk at offset "
                      + std::to_string(chunk.offset) + " of snapshot "
                      + str(chunk.last_included)
                      + " does not continue the staging area (snapshot "
                      + str(staging_id_) + ", "
                      + std::to_string(staging_.size()) + " bytes)");
  staging_ += chunk.data;
}

std::string memory_store::snapshot_data() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return snapshot_;
}

void memory_store::write(const persist_batch& batch) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto last = staged_last_index_locked();
  auto base = staged_base_locked();
  bool keep_suffix = false;
  if (batch.snapshot.size() > 1)
    throw store_error("memory_store: write: a batch carries at most one "
                      "snapshot install, not "
                      + std::to_string(batch.snapshot.size()));
  if (!batch.snapshot.empty()) {
    auto li = batch.snapshot.front().last_included;
    if (li.index == index_t{})
      throw store_error("memory_store: write: snapshot at index 0");
    if (li.index < base.index
        || (li.index == base.index && li.term != base.term))
      throw store_error("memory_store: write: snapshot through index "
                        + str(li.index) + " term " + to_string(li.term)
                        + " does not move the base forward from index "
                        + str(base.index) + " term " + to_string(base.term));
    keep_suffix = li.index <= last && staged_term_at_locked(li.index) == li.term;
    if (!keep_suffix)
      last = li.index;
    base = li;
  }
  if (batch.truncate_from != index_t{}) {
    if (batch.truncate_from <= base.index)
      throw store_error("memory_store: write: truncate_from "
                        + str(batch.truncate_from)
                        + " is not above the log base " + str(base.index)
                        + " (would cut into the snapshot)");
    if (batch.truncate_from <= last)
      last = batch.truncate_from.prev();
  }
  check_consecutive(batch.entries, last.next(), "write");
  last = index_t{last.value + batch.entries.size()};
  if (batch.last.index != last)
    throw store_error("memory_store: write: batch.last.index "
                      + str(batch.last.index)
                      + " differs from the last index after the batch "
                      + str(last));
  if (!batch.snapshot.empty() && batch.snapshot.front().staged) {
    // Take the staging area over (Figure 13 step 5: save the snapshot file
    // once complete and intact).
    const auto& snap = batch.snapshot.front();
    if (staging_id_ != snap.last_included || staging_.size() != snap.size
        || raft::crc32(staging_) != snap.crc32)
      throw store_error("memory_store: write: staged snapshot "
                        + str(snap.last_included) + " ("
                        + std::to_string(snap.size)
                        + " bytes) does not match the staging area (snapshot "
                        + str(staging_id_) + ", "
                        + std::to_string(staging_.size()) + " bytes)");
    staged_batch sb{batch, keep_suffix};
    auto& install = sb.batch.snapshot.front();
    install.data = std::move(staging_);
    install.staged = false;
    staging_.clear();
    staging_id_ = log_id{};
    staged_.push_back(std::move(sb));
  } else {
    staged_.push_back(staged_batch{batch, keep_suffix});
  }
  staged_last_ = last;
  staged_base_ = base;
}

void memory_store::sync() {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& sb : staged_) {
    auto& batch = sb.batch;
    if (!batch.snapshot.empty()) {
      // Installed first (write() checked it moves the base forward).
      auto& snap = batch.snapshot.front();
      auto drop = sb.keep_suffix
                    ? distance(base_.index, snap.last_included.index)
                    : entries_.size();
      auto end = entries_.begin() + static_cast<std::ptrdiff_t>(drop);
      for (auto i = entries_.begin(); i != end; ++i)
        durable_bytes_ -= encoded_size(*i);
      entries_.erase(entries_.begin(), end);
      base_ = snap.last_included;
      snapshot_ = std::move(snap.data);
    }
    if (batch.truncate_from != index_t{}) {
      // write() checked truncate_from > base_.index.
      auto keep = distance(base_.index, batch.truncate_from.prev());
      if (keep < entries_.size()) {
        auto first = entries_.begin() + static_cast<std::ptrdiff_t>(keep);
        for (auto i = first; i != entries_.end(); ++i)
          durable_bytes_ -= encoded_size(*i);
        entries_.erase(first, entries_.end());
      }
    }
    for (auto& e : batch.entries) {
      durable_bytes_ += encoded_size(e);
      entries_.push_back(std::move(e));
    }
    hard_ = batch.hard_state;
  }
  staged_.clear();
  ++syncs_;
}

std::size_t memory_store::raft_state_size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return durable_bytes_;
}

std::size_t memory_store::snapshot_size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return snapshot_.size();
}

std::shared_ptr<memory_store> memory_store::durable_copy() const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto result = std::make_shared<memory_store>();
  // No lock needed on `result`: nobody else can see it yet.
  result->hard_ = hard_;
  result->base_ = base_;
  result->snapshot_ = snapshot_;
  result->entries_ = entries_;
  result->durable_bytes_ = durable_bytes_;
  return result;
}

std::size_t memory_store::staged_batches() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return staged_.size();
}

std::uint64_t memory_store::sync_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return syncs_;
}

index_t memory_store::durable_last_index() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return index_t{base_.index.value + entries_.size()};
}

log_id memory_store::durable_base() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return base_;
}

} // namespace raft::persistence
