// raft::persistence::memory_store -- the in-memory store of simulations and
// tests (docs/architecture.md §6): the store interface (store.hpp) in
// memory; a simulated crash loses what was not synced.
//
// Two layers, like a file and its page cache:
// - the *durable* state: what the last completed sync() covered. load(),
//   raft_state_size() and durable_copy() see only this layer.
// - the *staged* batches: accepted by write() but not yet synced, kept as a
//   FIFO of pending batches. sync() applies them to the durable state in
//   order (install the snapshot, truncate, append, replace hard state) and
//   clears the list; the durable log is never copied as a whole.
//
// A snapshot install's choice -- keep the entries after last_included (the
// log holds it with the same term) or drop the whole log -- is made by
// write() against the staged view and recorded with the staged batch, so
// sync() replays exactly what write() validated. The snapshot's bytes are
// durable state (load(), durable_copy()) but not part of raft_state_size()
// (6.5840's RaftStateSize() excludes the snapshot); snapshot_size() has them.
//
// A simulated crash is `auto survivor = store->durable_copy();`: the copy
// holds exactly what was synced; staged writes are lost.
//
// Thread safety: every member function locks one mutex, so the test kit may
// read raft_state_size() or take a durable_copy() from another thread while
// the persister actor writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "persistence/store.hpp"

namespace raft::persistence {

class memory_store : public store {
public:
  // -- encoded size (raft_state_size) ----------------------------------------

  /// Bytes of the fixed header of the encoded form: current_term (8),
  /// voted_for (8, padded), base.term (8), base.index (8).
  static constexpr std::size_t header_bytes = 32;

  /// Bytes of one encoded entry besides its payload: term (8), index (8),
  /// kind (1), payload length (4).
  static constexpr std::size_t entry_overhead_bytes = 21;

  /// Encoded size of one entry: entry_overhead_bytes + data.size().
  static std::size_t encoded_size(const log_entry& e) {
    return entry_overhead_bytes + e.data.size();
  }

  // -- construction -----------------------------------------------------------

  /// An empty store: term 0, no vote, empty log starting at index 1.
  memory_store() = default;

  /// A store whose durable state is `initial`. Throws store_error when the
  /// entries do not follow `initial.base` consecutively.
  explicit memory_store(stored_state initial);

  memory_store(const memory_store&) = delete;
  memory_store& operator=(const memory_store&) = delete;

  // -- store interface --------------------------------------------------------

  /// A copy of the durable state (staged batches are not included).
  stored_state load() override;

  /// Validates `batch` against the staged view of the log (the durable log
  /// with every staged batch applied) and stages a copy of it. Throws
  /// store_error, and stages nothing, when:
  /// - batch.snapshot holds more than one install, or one at index 0, below
  ///   the staged base, or at the staged base index with another term;
  /// - batch.truncate_from is non-zero and <= the base after the batch's
  ///   install (it would cut into the snapshot);
  /// - batch.entries are not consecutive, or the first one does not follow
  ///   the staged log after truncation (a gap or an overlap);
  /// - batch.last.index differs from the staged last index after the batch.
  /// Truncating at or past the end of the staged log truncates nothing.
  void write(const persist_batch& batch) override;

  /// Applies every staged batch to the durable state, in order. Never fails.
  void sync() override;

  /// Bytes of the durable state in the encoded form described above:
  /// header_bytes + the sum of encoded_size(e) over the durable entries.
  /// O(1): maintained incrementally by sync().
  std::size_t raft_state_size() const override;

  /// Bytes of the durable snapshot's data (0 without a snapshot).
  std::size_t snapshot_size() const override;

  /// Appends to the in-memory staging area (see store); lost on a crash
  /// (durable_copy() does not carry it).
  void stage_snapshot_chunk(const snapshot_chunk& chunk) override;

  std::string snapshot_data() const override;

  // -- simulation and inspection ---------------------------------------------

  /// A new store holding only the durable state of this one (a crash: what
  /// was not synced is lost). This store is not changed.
  std::shared_ptr<memory_store> durable_copy() const;

  /// Number of batches staged since the last sync().
  std::size_t staged_batches() const;

  /// Number of completed sync() calls since construction.
  std::uint64_t sync_count() const;

  /// Last index of the durable log (base.index when the log is empty).
  index_t durable_last_index() const;

  /// The durable base (snapshot point; {0, 0} without a snapshot).
  log_id durable_base() const;

private:
  /// A batch accepted by write(), with the install decision it implies.
  struct staged_batch {
    persist_batch batch;
    /// Only with an install: the staged log held last_included with the
    /// same term, so the entries after it are kept (else all are dropped).
    bool keep_suffix = false;
  };

  /// Last index of the staged view. Caller holds mtx_.
  index_t staged_last_index_locked() const;

  /// Base of the staged view. Caller holds mtx_.
  log_id staged_base_locked() const;

  /// Term of the entry at `i` in the staged view: the base's term at the
  /// base index, term_t{} (0) when the view holds no entry there. Caller
  /// holds mtx_. O(staged entries).
  term_t staged_term_at_locked(index_t i) const;

  /// Guards every member below.
  mutable std::mutex mtx_;

  // -- durable layer: what survives a crash -----------------------------------

  /// current_term and voted_for as of the last sync().
  hard_state hard_;
  /// Snapshot point the durable log follows ({0, 0}: log starts at 1).
  /// Moves only forward, by a synced snapshot install.
  log_id base_;
  /// The durable snapshot's bytes: the state machine through base_. Set
  /// together with base_, never one without the other.
  std::string snapshot_;
  /// The durable log. Invariant: entries_[k].index == base_.index + 1 + k.
  log_entries entries_;
  /// raft_state_size() of the durable layer. Invariant: header_bytes +
  /// sum of encoded_size(e) over entries_.
  std::size_t durable_bytes_ = header_bytes;

  // -- staged layer: lost on a crash ------------------------------------------

  /// Batches accepted by write() since the last sync(), oldest first. Each
  /// was valid against the staged view at the time it was written.
  std::vector<staged_batch> staged_;
  /// Last index and base of the staged view: the durable state with every
  /// staged batch applied. Valid only while staged_ is non-empty.
  index_t staged_last_;
  log_id staged_base_;

  // -- staging area (a snapshot being received): lost on a crash ------------

  /// The snapshot whose chunks staging_ holds ({0, 0}: none).
  log_id staging_id_;
  /// Its bytes so far, contiguous from offset 0.
  std::string staging_;

  // -- statistics -------------------------------------------------------------

  /// Completed sync() calls. Monotonic. Not part of the durable state.
  std::uint64_t syncs_ = 0;
};

} // namespace raft::persistence
