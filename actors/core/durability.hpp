// raft::core::durability_tracker -- the one concern "what may leave the core
// before which persist is acknowledged". The node changes its state (hard
// state, log, snapshot) and queues messages; this class turns the changes
// into persist batches for the persister, remembers which batches are in
// flight, learns from on_persisted() how much of the log is durable, and
// holds back everything that promises durable state until the batch that
// makes it true is acknowledged:
//
//   Figure 2 (Rules for Servers, "Persistent state on all servers: updated on
//   stable storage before responding to RPCs"); Raft thesis §3.8 ("the
//   server must ... update its persistent state before responding"); and
//   thesis §10.2.1: a leader may write its log in parallel with replicating
//   it, but counts itself toward a commit only once its write is durable.
//
// The same split as etcd-raft's `unstable`/`msgsAfterAppend` next to `raft`,
// so node.cpp reads as the paper's rules. Nothing here is persisted: it is
// the bookkeeping of what is being persisted. See docs/architecture.md for
// the whole durability rule.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "actors/core/output.hpp"
#include "actors/core/raft_log.hpp"
#include "messages/node_messages.hpp"
#include "messages/raft_messages.hpp"

namespace raft::core {

/// THE durability decision, for every message the core sends: whether `m`
/// promises state that this server must hold durably before `m` leaves.
/// - a RequestVote: the candidate's new term and self-vote (else a crash
///   could let it vote twice in that term, §5.2);
/// - every RequestVote and AppendEntries reply: the vote, the appended
///   entries and the term they carry (Figure 2, thesis §3.8);
/// - an InstallSnapshot reply that says `installed`: the snapshot (Figure 13);
///   its progress reports (installed = false) promise nothing -- the chunks
///   are staged, not durable -- and leave at once;
/// - a leader's AppendEntries and InstallSnapshot leave at once, in parallel
///   with its own write (thesis §10.2.1).
/// Exhaustive: a new RPC type does not compile until it is classified here.
bool needs_durability(const rpc_message& m);

class durability_tracker {
public:
  /// A node built from its store: everything it holds (`hard`, the log up
  /// to `last_index`) is durable and nothing is in flight. `self` prefixes
  /// the exception messages.
  durability_tracker(server_id self, const hard_state& hard,
                     index_t last_index);

  // -- changes the node made in memory ----------------------------------------
  // Appends need no notice: an entry above the last emitted one is unstable
  // by definition and goes into the next batch.

  /// The node dropped every log entry with index >= i (§5.3 conflict):
  /// the next batch truncates the store from `i` and rewrites what follows,
  /// and the durable log now matches memory only up to i - 1.
  void truncated_from(index_t i);

  /// The service's snapshot (§7) became the log's base: the next batch
  /// installs `install` (with its bytes) first.
  void persist_snapshot(snapshot_install install);

  /// A snapshot received from the leader (Figure 13 steps 6-7) became the
  /// log's base; `install` is `staged` (its bytes are in the store's staging
  /// area). `kept_suffix`: the log held install.last_included with the same
  /// term and kept the entries after it. The next batch installs it; the
  /// store then keeps or drops its entries after last_included, so unless
  /// the store and memory agree on that suffix, the batch rewrites it.
  void persist_received_snapshot(snapshot_install install, bool kept_suffix);

  /// A chunk of a snapshot being received, for the store's staging area
  /// (output::snapshot_chunks: ahead of the next batch, never held).
  void stage_chunk(snapshot_chunk chunk);

  // -- messages ---------------------------------------------------------------

  /// Queues `env`. If needs_durability(env.msg), it leaves only once every
  /// batch emitted so far -- and the one the current input will emit -- is
  /// durable; else with the next output. Order is kept among the messages
  /// that wait and among those that do not.
  void send(envelope env);

  // -- snapshots for the state machine ----------------------------------------

  /// `a` goes to the state machine with the next output (a snapshot the
  /// node restarted from is durable already).
  void apply_snapshot_now(apply_msg a);

  /// `a` goes to the state machine once the next batch -- the one that
  /// installs its snapshot -- is durable (Figure 13 step 8 after steps
  /// 6-7: the state machine never runs ahead of what this server stores).
  /// Replaces an earlier such snapshot that is not durable yet.
  void apply_snapshot_after_persist(apply_msg a);

  /// The snapshot apply waiting for durability, if any (its bytes may be
  /// filled in meanwhile: on_snapshot_read_back).
  apply_msg* waiting_snapshot_apply();

  /// The snapshot apply that is durable and leaves with the next output,
  /// if any.
  const apply_msg* ready_snapshot_apply() const;

  /// Takes the ready snapshot apply.
  std::optional<apply_msg> take_ready_snapshot_apply();

  // -- output -----------------------------------------------------------------

  /// Whether take() would put anything into an output, given the node's
  /// current hard state and log.
  bool has_output(const hard_state& hard, const raft_log& log) const;

  /// Fills out.snapshot_chunks, out.persist (everything changed since the
  /// previous batch: a snapshot install, a truncation, new entries, the hard
  /// state) and out.messages (what may leave now). Emitting a batch does not
  /// make anything durable; on_persisted() does.
  void take(const hard_state& hard, const raft_log& log, output& out);

  // -- acknowledgement --------------------------------------------------------

  /// The persister made the oldest batch in flight, which ends at log
  /// position (term, index), durable. Releases what waited for it. Throws
  /// std::logic_error when no batch is in flight or the oldest one ends
  /// elsewhere (the persister broke its ordering contract).
  void on_persisted(term_t term, index_t index);

  // -- observers --------------------------------------------------------------

  /// Last index durable on this server AND equal to the in-memory entry. A
  /// leader counts itself toward a commit only up to here (thesis
  /// §10.2.1); entries above it are not handed to the state machine.
  /// Invariant: durable_index() <= the log's last index.
  index_t durable_index() const { return durable_index_; }

  /// Batches emitted / acknowledged so far, counted from 1 in this
  /// incarnation. Invariant: batches_durable() <= batches_emitted().
  std::uint64_t batches_emitted() const { return emitted_; }
  std::uint64_t batches_durable() const { return durable_; }

  /// The number the batch emitted by the next take() will have: something
  /// the current input changes is durable once is_durable(next_batch()).
  std::uint64_t next_batch() const { return emitted_ + 1; }
  bool is_durable(std::uint64_t batch) const { return durable_ >= batch; }

  /// Messages that left an input and wait for a batch to become durable.
  std::size_t held_messages() const { return held_.size(); }

  /// A snapshot waits for durability or for take() before it reaches the
  /// state machine.
  bool snapshot_apply_pending() const {
    return waiting_apply_.has_value() || ready_apply_.has_value();
  }

private:
  /// One emitted batch that is not durable yet.
  struct inflight_batch {
    /// Its number (1, 2, ...; batches are acknowledged in this order).
    std::uint64_t seq;
    /// The log position it ends at: what on_persisted() echoes.
    log_id last;
    /// The lowest index whose stored entry it removes or may replace (a
    /// truncation, or a snapshot install that may drop the suffix); 0 for
    /// none. Until it is durable, the durable log differs from memory from
    /// there on.
    index_t rewrites_from;
  };

  /// "node 3: ", the prefix of every exception message.
  std::string where() const;

  server_id self_;

  // -- the persister's view ---------------------------------------------------

  /// Hard state as of the last emitted batch.
  hard_state emitted_hard_;
  /// Last log index as of the last emitted batch: what the store holds once
  /// every emitted batch is durable.
  index_t emitted_last_;
  /// Lowest index whose in-memory entry is not in an emitted batch
  /// (emitted log's last + 1 when nothing is pending). Invariant:
  /// unstable_from_ <= log.last_index() + 1 of the node's log.
  index_t unstable_from_;
  /// The snapshot install for the next batch, if any.
  std::optional<snapshot_install> install_;
  /// With install_: the lowest index whose stored entry the install may
  /// change (0: none); becomes the batch's rewrites_from.
  index_t install_rewrites_from_;
  /// Chunks for the staging area, for the next output.
  std::vector<snapshot_chunk> chunks_;
  /// Emitted batches not yet acknowledged, oldest first.
  std::deque<inflight_batch> inflight_;
  std::uint64_t emitted_ = 0;
  std::uint64_t durable_ = 0;
  /// See durable_index().
  index_t durable_index_;

  // -- messages ---------------------------------------------------------------

  /// Messages that may leave with the next output.
  std::vector<envelope> now_;
  /// Messages of the current input that need durability; at take() each
  /// either joins now_ (nothing in flight) or waits in held_.
  std::vector<envelope> after_persist_;
  /// Messages waiting for batch `first` to be durable, FIFO (batch numbers
  /// never decrease along it).
  std::deque<std::pair<std::uint64_t, envelope>> held_;

  // -- snapshots for the state machine ----------------------------------------

  /// An installed snapshot for the state machine, released once batch
  /// `batch` (the one installing it) is durable.
  struct waiting_apply {
    std::uint64_t batch;
    apply_msg msg;
  };
  std::optional<waiting_apply> waiting_apply_;
  /// Durable; leaves with the next output.
  std::optional<apply_msg> ready_apply_;
};

} // namespace raft::core
