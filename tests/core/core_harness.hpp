// Test harness for raft::core::node: one node under test plus a fake
// persister that acknowledges batches only when the test says so, and
// helpers that put the node into a role by feeding it messages, ticks and
// acknowledgements (docs/architecture.md §8.1, after etcd's
// raft_paper_test.go).
//
// After every input the harness checks, in addition to what the test asserts:
// - core::check(node) and core::check_transition(before, node);
// - output::state_changed is set when role, term, leader or vote changed;
// - durability: a vote grant, a RequestVote or a successful append ack leaves
//   the node only when the fake persister's durable state covers it;
// - every persist batch fits the durable log and ends where it says;
// - committed entries follow each other, match the node's log and are durable;
// - reads (thesis §6.4): every read passed to read_index() ends exactly once,
//   in reads_ready or reads_failed, and a ready read's index is at or below
//   what the state machine was handed.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/core/invariants.hpp"
#include "actors/core/node.hpp"
#include "tests/core/core_messages.hpp"
#include "tests/core/transcript.hpp"

namespace raft::core_test {

using core::config;
using core::node;
using core::output;
using raft::stored_state;

// -- the harness -------------------------------------------------------------

class harness {
public:
  explicit harness(config cfg, stored_state st = {})
    : n_(std::move(cfg), st) {
    durable_hard_ = st.hard;
    durable_base_ = st.base;
    durable_snapshot_ = st.snapshot;
    durable_log_ = st.entries;
    // A restored snapshot reaches the state machine in the first output.
    expect_invariants();
  }

  node& n() { return n_; }
  const node& n() const { return n_; }
  node* operator->() { return &n_; }

  // -- inputs: each returns the output taken right after it ----------------

  output step(server_id from, const rpc_message& m) {
    auto before = core::observe(n_);
    n_.step(from, m);
    return take(before, "step " + to_string(envelope{from, n_.id(), m}));
  }

  output step(std::uint32_t from, const rpc_message& m) {
    return step(server_id{from}, m);
  }

  output tick() {
    auto before = core::observe(n_);
    n_.tick();
    return take(before, "tick");
  }

  /// Ticks `k` times; the outputs folded together.
  effects ticks(int k) {
    effects result;
    for (int i = 0; i < k; ++i)
      result.add(tick());
    return result;
  }

  output propose(std::string cmd, propose_result* res = nullptr) {
    auto before = core::observe(n_);
    auto r = n_.propose(cmd);
    if (res != nullptr)
      *res = r;
    return take(before, "propose " + printable(cmd));
  }

  /// The service's snapshot through `index` (6.5840 Snapshot()); `taken`
  /// receives whether the node accepted it.
  output snapshot(std::uint64_t index, std::string data,
                  bool* taken = nullptr) {
    auto before = core::observe(n_);
    auto r = n_.snapshot(index_t{index}, std::move(data));
    if (taken != nullptr)
      *taken = r;
    return take(before, "snapshot " + std::to_string(index));
  }

  /// A linearizable read (thesis §6.4) with id `request_id`.
  output read_index(std::uint64_t request_id) {
    auto before = core::observe(n_);
    CHECK(open_reads_.insert(request_id).second); // ids are unique in tests
    n_.read_index(request_id);
    return take(before, "read_index " + std::to_string(request_id));
  }

  /// Reads passed to read_index() that have not ended yet.
  const std::set<std::uint64_t>& open_reads() const { return open_reads_; }

  /// Number of emitted batches the fake persister has not acknowledged.
  std::size_t unacked() const { return unacked_.size(); }

  /// Makes the oldest emitted batch durable and acknowledges it.
  output ack_next();

  /// Acknowledges batches until none is outstanding (including batches the
  /// acknowledgements themselves cause).
  effects ack_all() {
    effects result;
    for (int guard = 0; !unacked_.empty(); ++guard) {
      REQUIRE(guard < 1000);
      result.add(ack_next());
    }
    return result;
  }

  /// Drops every outstanding batch unacknowledged (tests that must not ack).
  void forget_unacked() { unacked_.clear(); }

  const hard_state& durable_hard() const { return durable_hard_; }
  /// The durable entries after durable_base().
  const log_entries& durable_log() const { return durable_log_; }
  log_id durable_base() const { return durable_base_; }
  const std::string& durable_snapshot() const { return durable_snapshot_; }
  /// Snapshots handed to the state machine so far.
  const std::vector<apply_msg>& snapshots_applied() const {
    return snapshots_applied_;
  }
  index_t applied() const { return applied_; }

  /// The state the node would restart from now (what the store holds).
  stored_state durable_state() const {
    return stored_state{durable_hard_, durable_base_, durable_log_,
                          durable_snapshot_};
  }

private:
  void expect_invariants();
  /// Takes the node's output after an input and checks it (see the file
  /// comment); feeds the fake persister.
  output take(const core::observed_state& before, const std::string& input);
  /// Figure 2 / thesis §3.8: what a message promises is on stable storage.
  void expect_durable(const envelope& m);
  /// The durable entry at `i`, or nullptr (compacted or not stored).
  const log_entry* durable_at(index_t i) const;
  log_id durable_last() const;
  /// Applies `b` the way persist_batch's comment says a store must: the
  /// snapshot first (keep the suffix only if the log holds last_included
  /// with the same term), then truncation, entries and hard state.
  void make_durable(const persist_batch& b);

  node n_;
  /// Emitted batches not yet durable (a staged install carries the staged
  /// bytes in `data`).
  std::deque<persist_batch> unacked_;
  /// The fake persister's snapshot staging area.
  log_id staging_id_;
  std::string staging_;
  hard_state durable_hard_;
  log_id durable_base_;
  std::string durable_snapshot_;
  log_entries durable_log_;
  index_t applied_;
  std::vector<apply_msg> snapshots_applied_;
  /// Reads issued through read_index() and not ended yet.
  std::set<std::uint64_t> open_reads_;
};

} // namespace raft::core_test
