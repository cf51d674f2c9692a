// raft::persistence::store -- where a node's Raft state lives between
// restarts: hard state (current_term, voted_for) and the log. The persister
// actor is its only user. Two implementations: memory_store (simulations,
// tests) and the disk store (persistence issue: segmented log + atomic
// metadata).
//
// Contract: write() stages a batch; sync() makes every staged batch durable
// or throws store_error. Only what a completed sync() covered survives a
// crash. No CAF here.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "messages/log_entry.hpp"
#include "messages/node_messages.hpp"

namespace raft::persistence {

/// Everything a restarting node needs.
struct stored_state {
  hard_state hard;
  /// The position the log follows ({0, 0}: no snapshot, log starts at 1).
  log_id base;
  log_entries entries;
};

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

  /// Stages `batch`: truncate from batch.truncate_from (if non-zero), append
  /// batch.entries, replace the hard state. Throws store_error when the
  /// batch does not fit the stored log (a gap, or truncating below the base).
  virtual void write(const persist_batch& batch) = 0;

  /// Makes every staged write durable. Throws store_error on failure.
  virtual void sync() = 0;

  /// Size in bytes of the durable Raft state (hard state + log), as an
  /// encoded representation would take (6.5840 RaftStateSize()).
  virtual std::size_t raft_state_size() const = 0;
};

} // namespace raft::persistence
