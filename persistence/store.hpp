// raft::persistence::store -- where a node's Raft state lives between
// restarts: hard state (current_term, voted_for) and the log. The persister
// actor is its only user. Two implementations: memory_store (simulations,
// tests) and the disk store (persistence issue: segmented log + atomic
// metadata).
//
// Contract: write() stages a batch; sync() makes every staged batch durable
// or throws store_error. Only what a completed sync() covered survives a
// crash. No CAF here.
//
// Snapshots (issue 4): a batch may carry one snapshot_install, applied FIRST
// and atomically with the batch's hard state: entries <= last_included.index
// are dropped, the later ones kept only if the log holds last_included with
// the same term (else the whole log is dropped), the base becomes
// last_included; then truncate_from and entries apply after it. After a
// crash, load() returns a base together with exactly the snapshot bytes
// installed with it -- never one without the other.
//
// Receiving a snapshot (Figure 13 steps 2-5): the chunks a follower
// receives go to a staging area (stage_snapshot_chunk), not to memory; a
// batch whose install is `staged` turns the complete staging area into the
// durable snapshot after checking its size and CRC-32. Staged bytes are not
// durable: a crash, or a new transfer starting at offset 0, discards them.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "messages/log_entry.hpp"
#include "messages/node_messages.hpp"

namespace raft::persistence {

/// A storage failure: the node must stop acknowledging (it can no longer
/// promise durability). The message names the file and what to do.
class store_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class store {
public:
  virtual ~store() = default;

  /// The durable state, as of the last completed sync().
  virtual stored_state load() = 0;

  /// Stages `batch`: install batch.snapshot (if any), truncate from
  /// batch.truncate_from (if non-zero), append batch.entries, replace the
  /// hard state. Throws store_error, staging nothing, when the batch does not
  /// fit the staged log: a gap, truncating at or below the base, a snapshot
  /// below the base, at index 0, or at the base index with another term.
  virtual void write(const persist_batch& batch) = 0;

  /// Makes every staged write durable. Throws store_error on failure.
  virtual void sync() = 0;

  /// Writes chunk.data at chunk.offset of the snapshot staging area.
  /// Offset 0 starts a fresh staging area for chunk.last_included (an
  /// earlier, unfinished one is dropped); any other chunk must continue the
  /// staging area of the same snapshot exactly at its current size, else
  /// store_error and nothing changes. A later write() whose install is
  /// `staged` takes the staging area over: it must then hold exactly
  /// install.size bytes with CRC-32 install.crc32 for install.last_included,
  /// else write() (or, for checks that read the disk, sync()) throws
  /// store_error.
  virtual void stage_snapshot_chunk(const snapshot_chunk& chunk) = 0;

  /// The durable snapshot's bytes (what load().snapshot holds, without
  /// copying the log); empty without a snapshot.
  virtual std::string snapshot_data() const = 0;

  /// Size in bytes of the durable Raft state (hard state + log), as an
  /// encoded representation would take (6.5840 RaftStateSize()).
  virtual std::size_t raft_state_size() const = 0;

  /// Size in bytes of the durable snapshot's data (stored_state::snapshot);
  /// not part of raft_state_size(). 0 without a snapshot.
  virtual std::size_t snapshot_size() const = 0;
};

} // namespace raft::persistence
