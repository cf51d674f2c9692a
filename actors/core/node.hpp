// raft::core::node -- every Raft rule of the extended Raft paper (Figure 2),
// deterministic and free of I/O: no CAF, no files, no threads, no clock, no
// global RNG. Time is `tick()`, randomness a seeded generator, durability the
// `on_persisted()` acknowledgement. The peer actor is a thin shell around it;
// tests drive it directly. docs/architecture.md §3 is its contract.
//
// Usage, after every input:
//   node.step(from, msg) / node.tick() / node.propose(cmd) /
//   node.on_persisted(term, index) / node.snapshot(index, bytes) /
//   node.on_snapshot_read_back(id, bytes) / node.read_index(request_id);
//   if (node.has_output()) carry_out(node.take_output());
//
// One file per part of the paper:
//   node.cpp              construction, inputs, output, observers, the term
//                         rule of §5.1;
//   node_election.cpp     leader election (§5.2, §5.4.1);
//   node_replication.cpp  log replication and commitment (§5.3, §5.4.2);
//   node_snapshot.cpp     snapshots and InstallSnapshot (§7, Figure 13);
//   node_read.cpp         linearizable reads by ReadIndex (thesis §6.4);
//   durability.hpp/.cpp   what may leave before which persist is
//                         acknowledged (Figure 2, thesis §3.8, §10.2.1).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "actors/core/config.hpp"
#include "actors/core/durability.hpp"
#include "actors/core/raft_log.hpp"
#include "actors/core/output.hpp"
#include "actors/core/roles.hpp"
#include "messages/client_messages.hpp"
#include "messages/node_messages.hpp"
#include "messages/raft_messages.hpp"

namespace raft::core {

class node {
public:
  /// A node restarting from `state` (empty state: a brand-new member).
  /// Throws std::invalid_argument on an invalid config or state.
  node(config cfg, stored_state state = {});

  // -- inputs ----------------------------------------------------------------

  /// One unit of logical time passed (§5.2 election timeout, heartbeats).
  void tick();

  /// A message from peer `from`. Messages from non-members are ignored.
  void step(server_id from, const rpc_message& msg);

  /// 6.5840 Start(): on a leader, appends `command` to the log and starts
  /// replicating it; elsewhere returns is_leader = false with a leader hint.
  propose_result propose(std::string command);

  /// The persister made the batch ending at log position (term, index) --
  /// and all batches before it -- durable. Batches are acknowledged in
  /// emission order; a mismatch is a broken contract and throws
  /// std::logic_error.
  void on_persisted(term_t term, index_t index);

  /// 6.5840 Snapshot(index, snapshot): the service's state through `index`
  /// is `data`; the log through `index` may go (§7). Ignored (returns
  /// false) when index <= the current snapshot point (nothing new) or
  /// index > applied_index() (the service cannot have that state yet).
  /// Otherwise the log keeps base = {term_at(index), index}, the node keeps
  /// `data` to send to lagging followers, and the next output's persist
  /// batch carries the snapshot (persist_batch::snapshot) with the current
  /// hard state. Commit and applied indexes never move backwards; the
  /// entries after index stay.
  bool snapshot(index_t index, std::string data);

  /// The persister made the batch installing the snapshot received from the
  /// leader (snapshot_install::staged) durable; `data` are its bytes, read
  /// back from the store. Must come before the on_persisted of that batch
  /// (the persister sends snapshot_read_back first). Ignored when the
  /// node's snapshot is no longer `last_included` (a newer one replaced it);
  /// throws std::logic_error when the bytes do not match the CRC-32 the
  /// leader announced.
  void on_snapshot_read_back(log_id last_included, std::string data);

  /// A linearizable read (ReadIndex, thesis §6.4): read `request_id` must
  /// observe every write committed before this call. On a leader: once the
  /// leader knows the commit index (it committed an entry of its term, or
  /// every entry of earlier terms it holds is known committed -- §6.4 step
  /// 1), the read index is commit_index; a heartbeat round that leaves
  /// after that and is answered by a majority confirms the leadership
  /// (step 3); the read then appears in output::reads_ready once the state
  /// machine was handed every entry through the read index (step 4).
  /// Reads arriving together share rounds. Elsewhere, or when the
  /// leadership ends, or after config::read_timeout_ticks without
  /// confirmation, it appears in output::reads_failed. Touches neither log
  /// nor persister. `request_id` is opaque to the node (the caller's key).
  void read_index(std::uint64_t request_id);

  // -- output ----------------------------------------------------------------

  bool has_output() const;
  output take_output();

  // -- observers (read-only; for the shell, status and tests) ----------------

  server_id id() const { return cfg_.id; }
  const config& cfg() const { return cfg_; }
  raft::role role() const;
  bool is_leader() const { return role() == raft::role::leader; }
  term_t current_term() const { return hard_.current_term; }
  server_id voted_for() const { return hard_.voted_for; }
  /// Leader of current_term as far as this node knows (itself if leader).
  server_id leader() const;
  index_t commit_index() const { return commit_index_; }
  /// Last index handed out in output::committed.
  index_t applied_index() const { return applied_index_; }
  /// Last index known durable on this node and matching the in-memory log.
  index_t durable_index() const { return durability_.durable_index(); }
  const raft_log& log() const { return log_; }
  const role_state& state() const { return role_; }
  peer_status status() const;
  /// Current randomized election timeout, in ticks.
  int election_timeout() const { return randomized_timeout_; }
  /// Ticks since the last reset of the election timer.
  int election_elapsed() const { return election_elapsed_; }
  /// Persist batches emitted / acknowledged so far.
  std::uint64_t batches_emitted() const {
    return durability_.batches_emitted();
  }
  std::uint64_t batches_durable() const {
    return durability_.batches_durable();
  }
  /// Messages waiting for a persist acknowledgement.
  std::size_t held_messages() const { return durability_.held_messages(); }
  /// Position the snapshot covers (= log().base()).
  log_id snapshot_point() const { return log_.base(); }
  /// Bytes of the snapshot through snapshot_point() (empty without one).
  const std::string& snapshot_data() const { return *snapshot_data_; }
  /// CRC-32 of snapshot_data() (of the announced bytes while pending).
  std::uint32_t snapshot_crc() const { return snapshot_crc_; }
  /// The snapshot at snapshot_point() was received from the leader and its
  /// bytes are in the store, not here yet (on_snapshot_read_back brings
  /// them); snapshot_data() is empty meanwhile.
  bool snapshot_bytes_pending() const { return snapshot_bytes_pending_; }
  /// An installed snapshot waits for durability or for take_output before
  /// it reaches the state machine (then applied_index() < snapshot_point()).
  bool snapshot_apply_pending() const {
    return durability_.snapshot_apply_pending();
  }
  /// Reads confirmed (thesis §6.4) that wait for the state machine to be
  /// handed their index, in confirmation order.
  const std::deque<read_state>& reads_confirmed() const {
    return reads_confirmed_;
  }

private:
  // -- elections (§5.2, node_election.cpp) -----------------------------------
  void become_follower(term_t term, server_id leader);
  void become_candidate();
  void become_leader();
  void reset_election_timer();
  void draw_election_timeout();
  void handle(server_id from, const request_vote& m);
  void handle(server_id from, const request_vote_reply& m);
  bool maybe_win_election();

  // -- replication (§5.3, §5.4, node_replication.cpp) ------------------------
  /// Throws std::logic_error when this node leads in the term of a request
  /// that only a leader sends (two leaders in one term).
  void check_single_leader(server_id from) const;
  /// The leader's progress record of follower `from`; nullptr when this
  /// node does not lead or `from` is not a follower (a stale reply).
  progress* follower_progress(server_id from);
  void handle(server_id from, const append_entries& m);
  void handle(server_id from, const append_entries_reply& m);
  /// §5.3: the leader's progress bookkeeping for a reply of `from`.
  void update_progress(server_id from, progress& p,
                       const append_entries_reply& m);
  /// Sends what `p` needs now: a probe, the next pipelined batches, or
  /// (heartbeat) an empty AppendEntries.
  void send_append(server_id to, progress& p, bool heartbeat);
  /// An AppendEntries with the entries from p.next_index on (as many as
  /// one message may carry; none when next_index is past the log's end).
  void send_entries(server_id to, progress& p);
  void broadcast_append(bool heartbeat);
  /// §5.3/§5.4.2: advances commit_index to the highest index stored on a
  /// majority whose entry is of the current term.
  bool maybe_commit();
  void append_local(entry_kind kind, std::string data);
  void truncate_log_from(index_t i);
  void set_commit(index_t i);

  // -- snapshots (§7, node_snapshot.cpp) -------------------------------------
  void handle(server_id from, const install_snapshot& m);
  void handle(server_id from, const install_snapshot_reply& m);
  /// snapshot mode: sends the chunk at p.outgoing.offset of the current
  /// snapshot unless one is in flight (a heartbeat resends it).
  void send_snapshot_chunk(server_id to, progress& p, bool heartbeat);
  /// Figure 13 steps 6-8 for a verified snapshot above commit_index, whose
  /// `size` bytes with CRC-32 `crc` are in the store's staging area.
  void install_received_snapshot(log_id last_included, std::uint64_t size,
                                 std::uint32_t crc);
  void set_snapshot_data(std::string data);

  // -- reads (thesis §6.4, node_read.cpp) ------------------------------------
  /// The read round this node's AppendEntries carry (leader::read_seq; 0
  /// when not leader).
  std::uint64_t read_seq() const;
  /// Follower `p` echoed read round `seq` in a reply of the current term.
  void on_read_ack(progress& p, std::uint64_t seq);
  /// Moves the leader's reads along: registers waiting reads once the
  /// commit index is known, confirms reads whose round a majority acked,
  /// starts a round for reads that need one when none is outstanding.
  void advance_reads();
  /// Sends read round read_seq + 1: an AppendEntries to every follower not
  /// in snapshot mode.
  void start_read_round();
  /// Leader tick: expires reads; returns whether reads await a round (the
  /// heartbeat then starts a new one).
  bool tick_reads();
  /// The leadership ends: every read it holds fails, pointing at `hint`.
  void fail_leader_reads(server_id hint);
  /// Moves confirmed reads whose index the state machine was handed to
  /// `out`.
  void release_reads(output& out);

  // -- plumbing --------------------------------------------------------------
  bool is_member(server_id s) const;
  std::size_t quorum() const { return cfg_.members.size() / 2 + 1; }
  /// Sends `msg` to `to`: at once, or once what this node emitted so far is
  /// durable -- needs_durability(msg) decides (durability.hpp).
  void send(server_id to, rpc_message msg);

  // -- configuration & randomness --------------------------------------------
  config cfg_;
  /// Seeded from cfg_.rng_seed and the id; the only source of randomness.
  std::mt19937_64 rng_;

  // -- persistent state (Figure 2), mirrored to the persister ---------------
  /// current_term and voted_for. Persisted: every change goes into the next
  /// persist batch and is acted upon (vote replies, vote requests) only
  /// once it is durable (durability_).
  hard_state hard_;
  /// The log, after the snapshot point (its base). Persisted: durability_
  /// turns every change into the next persist batch.
  raft_log log_;

  // -- volatile state (Figure 2) ---------------------------------------------
  /// Highest index known committed. Monotonic within an incarnation;
  /// starts at the snapshot point after a restart. Invariant:
  /// commit_index_ <= log_.last_index().
  index_t commit_index_;
  /// Highest index handed out for application. Invariant:
  /// applied_index_ <= commit_index_ and applied_index_ <= durable_index()
  /// (a node applies only entries it stores durably).
  index_t applied_index_;

  // -- roles -----------------------------------------------------------------
  role_state role_;
  /// Ticks since the election timer was last reset (followers, candidates).
  int election_elapsed_ = 0;
  /// Current randomized election timeout in [election_ticks,
  /// 2*election_ticks).
  int randomized_timeout_ = 0;

  // -- durability ------------------------------------------------------------
  /// Persist batches in flight, the durable index, and the messages and
  /// snapshot applies that wait for them. Not persisted.
  durability_tracker durability_;

  // -- snapshots (§7) --------------------------------------------------------
  /// Bytes of the snapshot at log_.base() (shared: never copied but to cut
  /// chunks or to persist). Never null.
  std::shared_ptr<const std::string> snapshot_data_;
  /// crc32(*snapshot_data_), sent with every chunk.
  std::uint32_t snapshot_crc_ = 0;
  /// The snapshot at log_.base() came from the leader; its bytes are in the
  /// store (staging area, then the installed snapshot) and reach this node
  /// with on_snapshot_read_back. Meanwhile *snapshot_data_ is empty, no
  /// chunk is sent from it and its apply_msg waits.
  bool snapshot_bytes_pending_ = false;

  // -- pending output --------------------------------------------------------
  /// Role, term, leader or vote changed since the last output.
  bool state_changed_ = false;

  // -- reads (thesis §6.4); volatile, never persisted -------------------------
  /// Reads a majority confirmed, waiting until the state machine was handed
  /// their index (applied_index_ >= index), in confirmation order (index
  /// never decreases along it). They outlive the leadership that confirmed
  /// them: the confirmation stays valid. Invariant: every index <=
  /// commit_index_.
  std::deque<read_state> reads_confirmed_;
  /// Reads that failed, for the next output.
  std::vector<read_failure> reads_failed_;
};

} // namespace raft::core
