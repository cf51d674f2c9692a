// persister_actor -- owns a node's store and makes its writes durable
// (docs/architecture.md §2.3, §6). The only user of the store.
//
// Protocol:
//   (load_atom)     -> (hard_state, log_id base, std::string snapshot,
//                       log_entries): store.load()
//   (persist_batch) -> later, (persisted{batch.last.term, batch.last.index})
//                      sent to the sender of the batch, once the batch is
//                      durable. Acknowledgements go out in arrival order.
//                      A batch that installs a staged snapshot is first
//                      answered with (snapshot_read_back{last_included,
//                      bytes}): the installed bytes, read back from the
//                      store.
//   (snapshot_chunk) -> nothing: written into the store's snapshot staging
//                      area (store::stage_snapshot_chunk) in arrival order
//                      with the batches, at the next flush; not synced.
//
// Group commit (docs/architecture.md §2.3; like ra's WAL): a persist_batch
// is only queued; the first one of a burst sends (flush_atom) to the
// persister itself.
// Because the mailbox is FIFO, every batch already queued is handled before
// that flush, which then does store.write() for each queued batch, ONE
// store.sync(), and acknowledges each batch in order. So one sync per
// mailbox drain, never one per batch.
//
// Failure: a store_error (or any exception) from load, write or sync is
// fatal. The persister prints one line naming the error and quits with an
// error; nothing of the failed flush is acknowledged. Its peer monitors it
// and stops too (a node that cannot persist must not acknowledge).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <caf/all.hpp>

#include "messages/node_messages.hpp"
#include "persistence/store.hpp"

namespace raft::actors {

/// How the persister flushes.
enum class flush_policy {
  /// One store.sync() per mailbox drain (the default; see above).
  group_commit,
  /// One store.sync() per batch, at once: the baseline the benchmark
  /// (bench/persister_bench) compares group commit against.
  sync_each_batch,
};

struct persister_state {
  /// Actor name (CAF uses it in error messages).
  static inline const char* name = "raft.persister";

  /// A batch (or a snapshot chunk) waiting for the next flush, with who
  /// must be told.
  struct pending_write {
    persist_batch batch;
    /// Receives (persisted) once the batch is durable; may be invalid (an
    /// anonymous sender), then nobody is told.
    caf::actor requester;
    /// Engaged: this is a snapshot chunk to stage, not a batch (`batch`
    /// unused, nobody told).
    std::optional<snapshot_chunk> chunk;
  };

  /// The node's durable state. Set at spawn, never null. Shared: the owner
  /// may inspect it after the node is gone (a crash copy).
  std::shared_ptr<persistence::store> store;
  /// Batches received since the last flush, in arrival order. Not yet
  /// written: lost if the node stops now, and never acknowledged.
  std::vector<pending_write> pending;
  /// A (flush_atom) is in the mailbox. Invariant: true whenever pending is
  /// non-empty (between handlers).
  bool flush_scheduled = false;
  /// Set at spawn.
  flush_policy policy = flush_policy::group_commit;

  // -- counters (volatile, for tests and diagnostics) -------------------------

  /// Completed flushes, i.e. store.sync() calls.
  std::uint64_t flushes = 0;
  /// Batches made durable and acknowledged.
  std::uint64_t batches_persisted = 0;
};

using persister_actor_type = caf::stateful_actor<persister_state>;

/// Spawn with `sys.spawn(persister_actor, store)`; `store` must not be null.
caf::behavior persister_actor(persister_actor_type* self,
                              std::shared_ptr<persistence::store> store);

/// The same with an explicit flush policy:
/// `sys.spawn(persister_actor_with_policy, store, flush_policy::...)`.
caf::behavior
persister_actor_with_policy(persister_actor_type* self,
                            std::shared_ptr<persistence::store> store,
                            flush_policy policy);

} // namespace raft::actors
