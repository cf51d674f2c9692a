// Test harness for raft::core::node: one node under test plus a fake
// persister that acknowledges batches only when the test says so, and
// helpers that put the node into a role by feeding it messages, ticks and
// acknowledgements (STYLE habit 13, after etcd's raft_paper_test.go).
//
// After every input the harness checks, in addition to what the test asserts:
// - core::check(node) and core::check_transition(before, node);
// - output::state_changed is set when role, term, leader or vote changed;
// - durability: a vote grant, a RequestVote or a successful append ack leaves
//   the node only when the fake persister's durable state covers it;
// - every persist batch fits the durable log and ends where it says;
// - committed entries follow each other, match the node's log and are durable.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "actors/core/invariants.hpp"
#include "actors/core/node.hpp"
#include "messages/to_string.hpp"

namespace raft::core_test {

using core::config;
using core::node;
using core::output;
using core::restored_state;

// -- building blocks ---------------------------------------------------------

inline constexpr term_t operator""_t(unsigned long long x) {
  return term_t{static_cast<std::uint64_t>(x)};
}
inline constexpr index_t operator""_i(unsigned long long x) {
  return index_t{static_cast<std::uint64_t>(x)};
}
inline constexpr server_id operator""_s(unsigned long long x) {
  return server_id{static_cast<std::uint32_t>(x)};
}

/// Config of server `self` in the cluster {1, ..., n}.
inline config cluster_config(std::uint32_t self, std::uint32_t n,
                             std::uint64_t seed = 1) {
  config cfg;
  cfg.id = server_id{self};
  for (std::uint32_t i = 1; i <= n; ++i)
    cfg.members.push_back(server_id{i});
  cfg.rng_seed = seed;
  return cfg;
}

/// The entry a test log holds at (term, index): data "c<index>t<term>", so
/// entries of different terms at one index differ in data too.
inline log_entry entry(std::uint64_t term, std::uint64_t index) {
  log_entry e;
  e.term = term_t{term};
  e.index = index_t{index};
  e.data = "c" + std::to_string(index) + "t" + std::to_string(term);
  return e;
}

inline log_entry entry(std::uint64_t term, std::uint64_t index,
                       std::string data) {
  auto e = entry(term, index);
  e.data = std::move(data);
  return e;
}

/// A log starting at `first` whose entries have the given terms.
inline log_entries make_log(std::initializer_list<std::uint64_t> terms,
                            std::uint64_t first = 1) {
  log_entries result;
  auto i = first;
  for (auto t : terms)
    result.push_back(entry(t, i++));
  return result;
}

inline log_entries slice_of(const log_entries& xs, std::uint64_t from,
                            std::uint64_t to) {
  log_entries result;
  for (const auto& e : xs)
    if (e.index.value >= from && e.index.value <= to)
      result.push_back(e);
  return result;
}

inline log_entries all_entries(const core::log_view& log) {
  log_entries result;
  for (auto i = log.first_index(); i <= log.last_index(); i = i.next())
    result.push_back(log.at(i));
  return result;
}

inline append_entries ae(std::uint64_t term, std::uint32_t leader,
                         log_id prev, log_entries entries,
                         std::uint64_t commit) {
  append_entries m;
  m.term = term_t{term};
  m.leader_id = server_id{leader};
  m.prev_log_index = prev.index;
  m.prev_log_term = prev.term;
  m.entries = std::move(entries);
  m.leader_commit = index_t{commit};
  return m;
}

inline append_entries_reply ae_ok(std::uint64_t term, std::uint64_t prev,
                                  std::uint64_t match) {
  append_entries_reply r;
  r.term = term_t{term};
  r.success = true;
  r.prev_log_index = index_t{prev};
  r.match_index = index_t{match};
  return r;
}

inline append_entries_reply ae_reject(std::uint64_t term, std::uint64_t prev,
                                      std::uint64_t xterm,
                                      std::uint64_t xindex,
                                      std::uint64_t xlen) {
  append_entries_reply r;
  r.term = term_t{term};
  r.success = false;
  r.prev_log_index = index_t{prev};
  r.conflict_term = term_t{xterm};
  r.conflict_index = index_t{xindex};
  r.log_length = index_t{xlen};
  return r;
}

inline request_vote rv(std::uint64_t term, std::uint32_t cand, log_id last) {
  return request_vote{term_t{term}, server_id{cand}, last.index, last.term};
}

inline request_vote_reply rv_reply(std::uint64_t term, bool granted) {
  return request_vote_reply{term_t{term}, granted};
}

inline log_id lid(std::uint64_t term, std::uint64_t index) {
  return log_id{term_t{term}, index_t{index}};
}

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

inline persist_batch batch(hard_state hs, std::uint64_t truncate_from,
                           log_entries entries, log_id last) {
  return persist_batch{hs, index_t{truncate_from}, std::move(entries), last};
}

inline hard_state hs(std::uint64_t term, std::uint32_t vote) {
  return hard_state{term_t{term}, server_id{vote}};
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
  if (!o.committed.empty())
    result.push_back("apply " + describe(o.committed));
  return result;
}

using lines = std::vector<std::string>;

/// Several outputs folded into one (persist batches kept in order).
struct effects {
  std::vector<persist_batch> batches;
  std::vector<envelope> messages;
  log_entries committed;

  void add(output o) {
    if (o.persist)
      batches.push_back(std::move(*o.persist));
    messages.insert(messages.end(), o.messages.begin(), o.messages.end());
    committed.insert(committed.end(), o.committed.begin(), o.committed.end());
  }

  std::vector<std::string> transcript() const {
    std::vector<std::string> result;
    for (const auto& b : batches)
      result.push_back(line(b));
    for (const auto& m : by_destination(messages))
      result.push_back(line(m));
    if (!committed.empty())
      result.push_back("apply " + describe(committed));
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
  explicit harness(config cfg, restored_state st = {})
    : n_(std::move(cfg), st) {
    durable_hard_ = st.hard;
    durable_log_ = st.entries;
    applied_ = st.base.index;
    expect_invariants();
  }

  node& n() { return n_; }
  const node& n() const { return n_; }
  node* operator->() { return &n_; }

  // -- inputs: each returns the output taken right after it ----------------

  output step(server_id from, const rpc_message& m) {
    auto before = core::snapshot_of(n_);
    n_.step(from, m);
    return take(before, "step " + to_string(envelope{from, n_.id(), m}));
  }

  output step(std::uint32_t from, const rpc_message& m) {
    return step(server_id{from}, m);
  }

  output tick() {
    auto before = core::snapshot_of(n_);
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
    auto before = core::snapshot_of(n_);
    auto r = n_.propose(cmd);
    if (res != nullptr)
      *res = r;
    return take(before, "propose " + printable(cmd));
  }

  /// Number of emitted batches the fake persister has not acknowledged.
  std::size_t unacked() const { return unacked_.size(); }

  /// Makes the oldest emitted batch durable and acknowledges it.
  output ack_next() {
    REQUIRE(!unacked_.empty());
    auto b = std::move(unacked_.front());
    unacked_.pop_front();
    make_durable(b);
    auto before = core::snapshot_of(n_);
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
  const log_entries& durable_log() const { return durable_log_; }

private:
  void expect_invariants() {
    for (const auto& v : core::check(n_))
      FAIL_CHECK("invariant: " << v);
  }

  output take(const core::node_snapshot& before, const std::string& input) {
    INFO("after input: " << input);
    auto o = n_.take_output();
    expect_invariants();
    for (const auto& v : core::check_transition(before, n_))
      FAIL_CHECK("transition: " << v);
    auto after = core::snapshot_of(n_);
    auto changed = before.role != after.role
                   || before.current_term != after.current_term
                   || before.leader != after.leader
                   || before.voted_for != after.voted_for;
    if (changed)
      CHECK(o.state_changed);
    CHECK_FALSE(n_.has_output());
    if (o.persist)
      unacked_.push_back(*o.persist);
    for (const auto& m : o.messages)
      expect_durable(m);
    for (const auto& e : o.committed) {
      INFO("applied entry " << to_string(e));
      CHECK(e.index == applied_.next());
      applied_ = e.index;
      CHECK(e.index.value <= durable_log_.size());
      if (e.index.value <= durable_log_.size())
        CHECK(durable_log_[e.index.value - 1] == e);
    }
    if (!o.committed.empty())
      CHECK(n_.applied_index() == applied_);
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
      CHECK(z->match_index.value <= durable_log_.size());
    }
  }

  void make_durable(const persist_batch& b) {
    INFO("persisting " << line(b));
    if (b.truncate_from != index_t{0}) {
      REQUIRE(b.truncate_from.value >= 1);
      REQUIRE(b.truncate_from.value <= durable_log_.size() + 1);
      durable_log_.resize(b.truncate_from.value - 1);
      if (!b.entries.empty())
        CHECK(b.entries.front().index == b.truncate_from);
    }
    for (const auto& e : b.entries) {
      REQUIRE(e.index.value == durable_log_.size() + 1);
      durable_log_.push_back(e);
    }
    durable_hard_ = b.hard_state;
    auto last = durable_log_.empty() ? log_id{}
                                     : log_id{durable_log_.back().term,
                                              durable_log_.back().index};
    CHECK(to_string(b.last) == to_string(last));
  }

  node n_;
  std::deque<persist_batch> unacked_;
  hard_state durable_hard_;
  log_entries durable_log_;
  index_t applied_;
};

// -- putting a node into a role (the one helper, STYLE habit 13) -------------

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
  restored_state st;
  st.entries = s.log;
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
