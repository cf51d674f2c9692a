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

#include <algorithm>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "messages/crc32.hpp"
#include "actors/core/invariants.hpp"
#include "actors/core/node.hpp"
#include "tests/core/core_messages.hpp"
#include "messages/to_string.hpp"

namespace raft::core_test {

using core::config;
using core::node;
using core::output;
using raft::stored_state;

// -- transcripts: outputs as lines, for whole-output comparisons -------------

inline std::string describe(const log_entries& xs) {
  std::string result = "{";
  for (const auto& e : xs) {
    if (result.size() > 1)
      result += ", ";
    result += to_string(e);
  }
  return result + "}";
}

/// One line per message, with the entries of an append_entries spelled out.
inline std::string line(const envelope& m) {
  auto result = to_string(m);
  if (auto x = std::get_if<append_entries>(&m.msg); x && !x->entries.empty())
    result += " " + describe(x->entries);
  return result;
}

inline std::string line(server_id from, server_id to, rpc_message msg) {
  return line(envelope{from, to, std::move(msg)});
}

inline std::string line(std::uint32_t from, std::uint32_t to,
                        rpc_message msg) {
  return line(server_id{from}, server_id{to}, std::move(msg));
}

inline std::string line(const persist_batch& b) {
  auto result = to_string(b);
  if (!b.entries.empty())
    result += " " + describe(b.entries);
  return result;
}

/// Messages sorted by destination (stable: the order of messages to one
/// peer matters and is kept).
inline std::vector<envelope> by_destination(std::vector<envelope> xs) {
  std::stable_sort(xs.begin(), xs.end(),
                   [](const envelope& a, const envelope& b) {
                     return a.to < b.to;
                   });
  return xs;
}

/// The whole output as transcript lines: "persist ...", one line per
/// message (sorted by destination), "apply {...}".
inline std::vector<std::string> transcript(const output& o) {
  std::vector<std::string> result;
  if (o.persist)
    result.push_back(line(*o.persist));
  for (const auto& m : by_destination(o.messages))
    result.push_back(line(m));
  if (o.apply_snapshot)
    result.push_back(to_string(*o.apply_snapshot));
  if (!o.committed.empty())
    result.push_back("apply " + describe(o.committed));
  for (const auto& r : o.reads_ready)
    result.push_back(core::to_string(r));
  for (const auto& r : o.reads_failed)
    result.push_back(core::to_string(r));
  return result;
}

using lines = std::vector<std::string>;

/// Several outputs folded into one (persist batches kept in order).
struct effects {
  std::vector<persist_batch> batches;
  std::vector<envelope> messages;
  std::vector<apply_msg> snapshots;
  log_entries committed;
  std::vector<core::read_state> reads_ready;
  std::vector<core::read_failure> reads_failed;

  void add(output o) {
    reads_ready.insert(reads_ready.end(), o.reads_ready.begin(),
                       o.reads_ready.end());
    reads_failed.insert(reads_failed.end(), o.reads_failed.begin(),
                        o.reads_failed.end());
    if (o.persist)
      batches.push_back(std::move(*o.persist));
    if (o.apply_snapshot)
      snapshots.push_back(std::move(*o.apply_snapshot));
    messages.insert(messages.end(), o.messages.begin(), o.messages.end());
    committed.insert(committed.end(), o.committed.begin(), o.committed.end());
  }

  std::vector<std::string> transcript() const {
    std::vector<std::string> result;
    for (const auto& b : batches)
      result.push_back(line(b));
    for (const auto& m : by_destination(messages))
      result.push_back(line(m));
    for (const auto& a : snapshots)
      result.push_back(to_string(a));
    if (!committed.empty())
      result.push_back("apply " + describe(committed));
    for (const auto& r : reads_ready)
      result.push_back(core::to_string(r));
    for (const auto& r : reads_failed)
      result.push_back(core::to_string(r));
    return result;
  }

  /// Only the message lines.
  std::vector<std::string> sent() const {
    std::vector<std::string> result;
    for (const auto& m : by_destination(messages))
      result.push_back(line(m));
    return result;
  }
};

inline std::vector<std::string> sent(const output& o) {
  std::vector<std::string> result;
  for (const auto& m : by_destination(o.messages))
    result.push_back(line(m));
  return result;
}

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
  output ack_next() {
    REQUIRE(!unacked_.empty());
    auto b = std::move(unacked_.front());
    unacked_.pop_front();
    make_durable(b);
    auto before = core::observe(n_);
    // A received snapshot's bytes come back before the acknowledgement.
    for (const auto& s : b.snapshot)
      if (s.staged)
        n_.on_snapshot_read_back(s.last_included, s.data);
    n_.on_persisted(b.last.term, b.last.index);
    return take(before, "on_persisted " + to_string(b.last));
  }

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
  void expect_invariants() {
    for (const auto& v : core::check(n_))
      FAIL_CHECK("invariant: " << v);
  }

  output take(const core::observed_state& before, const std::string& input) {
    INFO("after input: " << input);
    auto o = n_.take_output();
    expect_invariants();
    for (const auto& v : core::check_transition(before, n_))
      FAIL_CHECK("transition: " << v);
    auto after = core::observe(n_);
    auto changed = before.role != after.role
                   || before.current_term != after.current_term
                   || before.leader != after.leader
                   || before.voted_for != after.voted_for;
    if (changed)
      CHECK(o.state_changed);
    CHECK_FALSE(n_.has_output());
    // The fake persister's staging area, in output order: chunks first,
    // then a batch installing them takes the bytes over (as a store's
    // write() does); the install stays marked `staged` so ack_next() hands
    // the bytes back before acknowledging.
    for (const auto& c : o.snapshot_chunks) {
      INFO("staging " << to_string(c));
      if (c.offset == 0) {
        staging_id_ = c.last_included;
        staging_ = c.data;
      } else {
        REQUIRE(c.last_included == staging_id_);
        REQUIRE(c.offset == staging_.size());
        staging_ += c.data;
      }
    }
    if (o.persist) {
      auto b = *o.persist;
      for (auto& s : b.snapshot)
        if (s.staged) {
          INFO("installing " << to_string(s));
          REQUIRE(s.last_included == staging_id_);
          REQUIRE(s.size == staging_.size());
          CHECK(raft::crc32(staging_) == s.crc32);
          s.data = std::move(staging_);
          staging_.clear();
          staging_id_ = log_id{};
        }
      unacked_.push_back(std::move(b));
    }
    for (const auto& m : o.messages)
      expect_durable(m);
    if (o.apply_snapshot) {
      const auto& a = *o.apply_snapshot;
      INFO("applied " << to_string(a));
      CHECK(a.snapshot_valid);
      CHECK_FALSE(a.command_valid);
      // §7: a snapshot never moves the state machine backwards, and it is
      // durable here before the state machine sees it.
      CHECK(a.snapshot_index > applied_);
      CHECK(durable_base_.index >= a.snapshot_index);
      if (durable_base_.index == a.snapshot_index) {
        CHECK(durable_base_.term == a.snapshot_term);
        CHECK(durable_snapshot_ == a.snapshot);
      }
      applied_ = a.snapshot_index;
      snapshots_applied_.push_back(a);
    }
    for (const auto& e : o.committed) {
      INFO("applied entry " << to_string(e));
      CHECK(e.index == applied_.next());
      applied_ = e.index;
      auto stored = durable_at(e.index);
      CHECK(stored != nullptr);
      if (stored != nullptr)
        CHECK(*stored == e);
    }
    if (!o.committed.empty() || o.apply_snapshot)
      CHECK(n_.applied_index() == applied_);
    // Thesis §6.4 step 4: a read is answered only from a state machine that
    // has every entry through its index; each read ends exactly once.
    for (const auto& r : o.reads_ready) {
      INFO(core::to_string(r));
      CHECK(r.index <= applied_);
      CHECK(open_reads_.erase(r.request_id) == 1);
    }
    for (const auto& r : o.reads_failed) {
      INFO(core::to_string(r));
      CHECK(open_reads_.erase(r.request_id) == 1);
    }
    return o;
  }

  /// Figure 2 / thesis §3.8: what a message promises is on stable storage.
  void expect_durable(const envelope& m) {
    INFO("message " << line(m) << ", durable " << to_string(durable_hard_)
                    << " log up to " << durable_log_.size());
    CHECK(m.from == n_.id());
    if (auto x = std::get_if<request_vote>(&m.msg)) {
      CHECK(durable_hard_.current_term >= x->term);
      if (durable_hard_.current_term == x->term)
        CHECK(durable_hard_.voted_for == n_.id());
    } else if (auto y = std::get_if<request_vote_reply>(&m.msg);
               y && y->vote_granted) {
      CHECK(durable_hard_.current_term >= y->term);
      if (durable_hard_.current_term == y->term)
        CHECK(durable_hard_.voted_for == m.to);
    } else if (auto z = std::get_if<append_entries_reply>(&m.msg);
               z && z->success) {
      CHECK(durable_hard_.current_term >= z->term);
      CHECK(z->match_index <= durable_last().index);
    } else if (auto w = std::get_if<install_snapshot_reply>(&m.msg);
               w && w->installed) {
      // Installed: this server durably holds a state through it.
      CHECK(durable_hard_.current_term >= w->term);
      CHECK(w->last_included.index <= durable_last().index);
    }
  }

  /// The durable entry at `i`, or nullptr (compacted or not stored).
  const log_entry* durable_at(index_t i) const {
    if (i <= durable_base_.index
        || i.value > durable_base_.index.value + durable_log_.size())
      return nullptr;
    return &durable_log_[i.value - durable_base_.index.value - 1];
  }

  log_id durable_last() const {
    return durable_log_.empty() ? durable_base_
                                : log_id{durable_log_.back().term,
                                         durable_log_.back().index};
  }

  /// Applies `b` the way persist_batch's comment says a store must: the
  /// snapshot first (keep the suffix only if the log holds last_included
  /// with the same term), then truncation, entries and hard state.
  void make_durable(const persist_batch& b) {
    INFO("persisting " << line(b));
    REQUIRE(b.snapshot.size() <= 1);
    for (const auto& s : b.snapshot) {
      auto l = s.last_included;
      REQUIRE(l.index > durable_base_.index);
      auto held = durable_at(l.index);
      if (held != nullptr && held->term == l.term) {
        durable_log_.erase(durable_log_.begin(),
                           durable_log_.begin()
                             + static_cast<std::ptrdiff_t>(
                               l.index.value - durable_base_.index.value));
      } else {
        durable_log_.clear();
      }
      durable_base_ = l;
      durable_snapshot_ = s.data;
    }
    if (b.truncate_from != index_t{0}) {
      REQUIRE(b.truncate_from > durable_base_.index);
      REQUIRE(b.truncate_from <= durable_last().index.next());
      durable_log_.resize(b.truncate_from.value - durable_base_.index.value
                          - 1);
      if (!b.entries.empty())
        CHECK(b.entries.front().index == b.truncate_from);
    }
    for (const auto& e : b.entries) {
      REQUIRE(e.index == durable_last().index.next());
      durable_log_.push_back(e);
    }
    durable_hard_ = b.hard_state;
    CHECK(to_string(b.last) == to_string(durable_last()));
  }

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

// -- putting a node into a role (one helper for every role) ------------------

inline const char* role_name(raft::role r) {
  switch (r) {
    case raft::role::follower:
      return "follower";
    case raft::role::candidate:
      return "candidate";
    default:
      return "leader";
  }
}

struct role_setup {
  /// Cluster size; the node under test is server 1.
  std::uint32_t servers = 3;
  /// Term the node is in afterwards.
  std::uint64_t term = 2;
  /// The node's log (restored as durable). For a candidate or leader all
  /// terms must be < term.
  log_entries log;
  /// Leader only: the followers answer the first heartbeat with success
  /// (their logs equal the leader's), so they are in replicate mode.
  bool followers_caught_up = true;
  /// Applied to the config before the node is built.
  config cfg = cluster_config(1, 3);
};

/// Server 1 in role `r`: a follower of leader 2 (told so by a heartbeat), a
/// candidate that timed out and sent its RequestVotes, or a leader elected
/// by a majority. Everything emitted on the way is acknowledged and dropped.
inline harness make_in_role(raft::role r, role_setup s = {}) {
  INFO("putting server 1 into role " << role_name(r) << " at term "
                                     << s.term);
  auto cfg = s.cfg;
  cfg.id = 1_s;
  cfg.members.clear();
  for (std::uint32_t i = 1; i <= s.servers; ++i)
    cfg.members.push_back(server_id{i});
  stored_state st;
  st.entries = s.log;
  if (!s.log.empty())
    st.base = log_id{s.log.front().term, s.log.front().index.prev()};
  if (!s.log.empty() && s.log.front().index.value > 1) {
    // A log that starts later follows a snapshot of its first entry's
    // term (tests of compacted leaders).
    st.snapshot = "snap@" + to_string(st.base.index);
  } else {
    st.base = log_id{};
  }
  auto last = s.log.empty() ? log_id{}
                            : log_id{s.log.back().term, s.log.back().index};
  if (r == raft::role::follower) {
    REQUIRE(s.term >= 1);
    st.hard = hs(s.term - 1, 0);
    harness h{cfg, st};
    h.step(2, ae(s.term, 2, last, {}, 0));
    h.ack_all();
    REQUIRE(h->role() == raft::role::follower);
    REQUIRE(h->leader() == 2_s);
    REQUIRE(h->current_term() == term_t{s.term});
    return h;
  }
  REQUIRE(s.term >= 1);
  for (const auto& e : s.log)
    REQUIRE(e.term.value < s.term);
  st.hard = hs(s.term - 1, 0);
  harness h{cfg, st};
  for (int i = 0; i <= 2 * cfg.election_ticks
                  && h->role() == raft::role::follower;
       ++i)
    h.tick();
  REQUIRE(h->role() == raft::role::candidate);
  h.ack_all();
  REQUIRE(h->current_term() == term_t{s.term});
  if (r == raft::role::candidate)
    return h;
  auto quorum = s.servers / 2 + 1;
  for (std::uint32_t v = 2; v <= quorum; ++v)
    h.step(v, rv_reply(s.term, true));
  h.ack_all();
  REQUIRE(h->role() == raft::role::leader);
  if (s.followers_caught_up) {
    auto leader_last = h->log().last();
    for (std::uint32_t f = 2; f <= s.servers; ++f)
      h.step(f, ae_ok(s.term, leader_last.index.value,
                      leader_last.index.value));
    h.ack_all();
  }
  return h;
}

/// Every role, for GENERATE(from_range(all_roles)).
inline const std::vector<raft::role> all_roles{
  raft::role::follower, raft::role::candidate, raft::role::leader};

} // namespace raft::core_test
