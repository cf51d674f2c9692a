#include "persistence/memory_store.hpp"

#include <iterator>
#include <string>
#include <utility>

namespace raft::persistence {

namespace {

std::string str(index_t i) {
  return std::to_string(i.value);
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
    entries_(std::move(initial.entries)) {
  check_consecutive(entries_, base_.index.next(), "initial state");
  for (const auto& e : entries_)
    durable_bytes_ += encoded_size(e);
}

stored_state memory_store::load() {
  std::lock_guard<std::mutex> guard{mtx_};
  return stored_state{hard_, base_, entries_};
}

index_t memory_store::staged_last_index_locked() const {
  if (!staged_.empty())
    return staged_last_;
  return index_t{base_.index.value + entries_.size()};
}

void memory_store::write(const persist_batch& batch) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto last = staged_last_index_locked();
  if (batch.truncate_from != index_t{}) {
    if (batch.truncate_from <= base_.index)
      throw store_error("memory_store: write: truncate_from "
                        + str(batch.truncate_from)
                        + " is not above the log base " + str(base_.index)
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
  staged_.push_back(batch);
  staged_last_ = last;
}

void memory_store::sync() {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& batch : staged_) {
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

std::shared_ptr<memory_store> memory_store::durable_copy() const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto result = std::make_shared<memory_store>();
  // No lock needed on `result`: nobody else can see it yet.
  result->hard_ = hard_;
  result->base_ = base_;
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

} // namespace raft::persistence
