// The log replication rules of the Raft paper (§5.3, §5.4.2) and their
// durability side, one sentence per TEST_CASE, tables where the sentence has
// cases (docs/architecture.md §8.1). Assertions are on whole outputs as
// transcript lines.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/core/core_harness.hpp"
#include "tests/core/role_setup.hpp"

using namespace raft;
using namespace raft::core_test;

namespace {

/// A follower of term `term` that has not heard from any leader yet,
/// restored with `log`.
harness fresh_follower(std::uint64_t term, log_entries log,
                       std::uint32_t servers = 3) {
  return harness{cluster_config(1, servers),
                 stored_state{hs(term, 0), {}, std::move(log)}};
}

} // namespace

// -- §5.3 follower side ------------------------------------------------------

TEST_CASE("paper 5.3: a follower refuses entries whose predecessor it lacks "
          "and reports XTerm, XIndex and XLen",
          "[paper-5.3]") {
  // "If the follower does not find an entry in its log with the same index
  // and term, then it refuses the new entries." With the fast backup
  // fields: XTerm = term of the conflicting entry, XIndex = first index of
  // that term, XLen = last index + 1 (docs/architecture.md §5.1).
  struct row {
    const char* what;
    log_id prev;
    bool success;
    std::uint64_t match, xterm, xindex, xlen; // xindex unchecked if xterm 0
  };
  // Follower log: terms 1 1 2 2 2 at indexes 1..5.
  auto r = GENERATE(
    row{"term mismatch at prev, run of term 2 starts at 3", lid(3, 5), false,
        0, 2, 3, 6},
    row{"term mismatch in the middle of term 2's run", lid(3, 4), false, 0, 2,
        3, 6},
    row{"term mismatch in term 1's run", lid(2, 2), false, 0, 1, 1, 6},
    row{"prev beyond the end of the log", lid(3, 7), false, 0, 0, 0, 6},
    row{"prev just past the end", lid(2, 6), false, 0, 0, 0, 6},
    row{"prev matches in the middle", lid(2, 4), true, 4, 0, 0, 0},
    row{"prev matches the last entry", lid(2, 5), true, 5, 0, 0, 0},
    row{"prev is the start of the log", lid(0, 0), true, 0, 0, 0, 0});
  // A follower, a candidate of the leader's term, and a leader of an older
  // term all end up as the new leader's follower and answer alike.
  auto role = GENERATE(from_range(all_roles));
  INFO(r.what << "; receiver was " << to_string(role));
  auto log = make_log({1, 1, 2, 2, 2});
  role_setup s;
  s.term = 3;
  s.log = log;
  auto h = role == raft::role::follower ? fresh_follower(3, log)
                                        : make_in_role(role, s);
  // A leader of term 3 hears from the leader of term 4.
  std::uint64_t term = role == raft::role::leader ? 4 : 3;
  auto first = h.step(3, ae(term, 3, r.prev, {}, 0));
  auto e = h.ack_all();
  e.add(std::move(first));
  REQUIRE(e.messages.size() == 1);
  CHECK(e.messages[0].to == 3_s);
  auto* rep = std::get_if<append_entries_reply>(&e.messages[0].msg);
  REQUIRE(rep);
  CHECK(rep->term == term_t{term});
  CHECK(rep->success == r.success);
  CHECK(rep->prev_log_index == r.prev.index);
  if (r.success) {
    CHECK(rep->match_index == index_t{r.match});
  } else {
    CHECK(rep->conflict_term == term_t{r.xterm});
    if (r.xterm != 0)
      CHECK(rep->conflict_index == index_t{r.xindex});
    CHECK(rep->log_length == index_t{r.xlen});
  }
  // Either way the log is untouched and 3 is the leader.
  CHECK(all_entries(h->log()) == log);
  CHECK(h->role() == raft::role::follower);
  CHECK(h->leader() == 3_s);
  for (const auto& b : e.batches)
    CHECK(b.entries.empty());
}

TEST_CASE("paper 5.3: a conflicting suffix is truncated, matching entries "
          "are kept even on a stale or reordered request",
          "[paper-5.3][durability]") {
  // Figure 2: "If an existing entry conflicts with a new one (same index but
  // different terms), delete the existing entry and all that follow it.
  // Append any new entries not already in the log." And the reply claims
  // only what this request proved: prev + its entries.
  struct row {
    const char* what;
    std::vector<std::uint64_t> log_terms;
    log_id prev;
    log_entries entries;
    std::vector<std::uint64_t> expected_terms;
    lines expected; // whole effects: batch, then the reply after it
  };
  auto r = GENERATE(
    row{"conflict at 3: cut from 3, append",
        {1, 1, 1, 1}, lid(1, 2), {entry(2, 3)}, {1, 1, 2},
        {"persist term=2 vote=none truncate=3 entries=[3] last=2/3 "
         "{2/3 \"c3t2\"}",
         "1->2 append_entries_reply term=2 success=true prev=2 match=3"}},
    row{"stale request inside a matching log: nothing changes",
        {1, 2, 2, 2}, lid(1, 1), {entry(2, 2)}, {1, 2, 2, 2},
        {"1->2 append_entries_reply term=2 success=true prev=1 match=2"}},
    row{"overlap: the known entry is kept, the new one appended",
        {1, 2}, lid(1, 1), {entry(2, 2), entry(2, 3)}, {1, 2, 2},
        {"persist term=2 vote=none entries=[3] last=2/3 {2/3 \"c3t2\"}",
         "1->2 append_entries_reply term=2 success=true prev=1 match=3"}},
    row{"stale heartbeat at the start: nothing is cut",
        {1, 2, 2, 2}, lid(0, 0), {}, {1, 2, 2, 2},
        {"1->2 append_entries_reply term=2 success=true prev=0 match=0"}},
    row{"conflict at 2 of 3: cut from 2, append three",
        {1, 1, 1}, lid(1, 1), {entry(2, 2), entry(2, 3), entry(2, 4)},
        {1, 2, 2, 2},
        {"persist term=2 vote=none truncate=2 entries=[2..4] last=2/4 "
         "{2/2 \"c2t2\", 2/3 \"c3t2\", 2/4 \"c4t2\"}",
         "1->2 append_entries_reply term=2 success=true prev=1 match=4"}},
    row{"conflict in the middle of the request",
        {1, 1, 1}, lid(0, 0), {entry(1, 1), entry(1, 2), entry(2, 3)},
        {1, 1, 2},
        {"persist term=2 vote=none truncate=3 entries=[3] last=2/3 "
         "{2/3 \"c3t2\"}",
         "1->2 append_entries_reply term=2 success=true prev=0 match=3"}});
  INFO(r.what);
  log_entries log;
  for (std::size_t k = 0; k < r.log_terms.size(); ++k)
    log.push_back(entry(r.log_terms[k], k + 1));
  // Leader 2 of term 2 is known already.
  auto h = fresh_follower(2, log);
  h.step(2, ae(2, 2, lid(0, 0), {}, 0));
  h.ack_all();
  auto first = h.step(2, ae(2, 2, r.prev, r.entries, 0));
  if (first.persist)
    CHECK(sent(first).empty()); // the ack waits for the write
  auto e = h.ack_all();
  auto all = effects{};
  all.add(std::move(first));
  for (auto& b : e.batches)
    all.batches.push_back(b);
  all.messages.insert(all.messages.end(), e.messages.begin(), e.messages.end());
  CHECK(all.transcript() == r.expected);
  std::vector<std::uint64_t> terms;
  for (const auto& x : all_entries(h->log()))
    terms.push_back(x.term.value);
  CHECK(terms == r.expected_terms);
  CHECK(h.durable_log() == all_entries(h->log()));
}

TEST_CASE("paper 5.3: a follower sets commitIndex = min(leaderCommit, index "
          "of last new entry)",
          "[paper-5.3]") {
  struct row {
    const char* what;
    std::vector<std::uint64_t> log_terms; // before
    log_id prev;
    std::size_t n_entries; // leader entries of term 1 after prev
    std::uint64_t leader_commit;
    std::uint64_t expected_commit;
  };
  auto r = GENERATE(
    row{"nothing committed yet", {}, lid(0, 0), 2, 0, 0},
    row{"commit inside the new entries", {}, lid(0, 0), 2, 1, 1},
    row{"commit at the last new entry", {}, lid(0, 0), 2, 2, 2},
    row{"leader commit beyond what this request carries", {}, lid(0, 0), 2,
        5, 2},
    row{"stale request: entries beyond it are not committed by it",
        {1, 1, 1}, lid(0, 0), 1, 5, 1},
    row{"heartbeat: last new entry is prev", {1, 1, 1}, lid(1, 2), 0, 3, 2});
  INFO(r.what);
  log_entries log;
  for (std::size_t k = 0; k < r.log_terms.size(); ++k)
    log.push_back(entry(r.log_terms[k], k + 1));
  auto h = fresh_follower(1, log);
  log_entries entries;
  for (std::size_t k = 0; k < r.n_entries; ++k)
    entries.push_back(entry(1, r.prev.index.value + 1 + k));
  auto first = h.step(2, ae(1, 2, r.prev, entries, r.leader_commit));
  CHECK(h->commit_index() == index_t{r.expected_commit});
  auto e = h.ack_all();
  e.add(std::move(first));
  // The state machine receives exactly the committed prefix.
  CHECK(describe(e.committed)
        == describe(slice_of(all_entries(h->log()), 1, r.expected_commit)));
}

TEST_CASE("paper 5.3: a follower applies committed entries only once they "
          "are durable, and acks only then",
          "[paper-5.3][durability]") {
  // Figure 2: "If commitIndex > lastApplied: increment lastApplied, apply
  // log[lastApplied]"; "Updated on stable storage before responding".
  auto role = GENERATE(raft::role::follower, raft::role::candidate);
  INFO(to_string(role) << " of term 2 receives two entries, commit 2");
  role_setup s;
  s.term = 2;
  auto h = make_in_role(role, s);
  auto entries = log_entries{entry(2, 1), entry(2, 2)};
  auto first = h.step(2, ae(2, 2, lid(0, 0), entries, 2));
  CHECK(h->commit_index() == 2_i);
  CHECK(h->applied_index() == 0_i);
  CHECK(transcript(first)
        == lines{line(batch(hard_state{2_t, h->voted_for()}, 0, entries,
                            lid(2, 2)))});
  auto out = h.ack_next();
  CHECK(transcript(out)
        == lines{"1->2 append_entries_reply term=2 success=true prev=0 match=2",
                 "apply " + describe(entries)});
}

// -- §5.3 leader side --------------------------------------------------------

TEST_CASE("paper 5.3: the leader appends a command and replicates it, "
          "others refuse with a hint",
          "[paper-5.3]") {
  // "The leader appends the command to its log as a new entry, then issues
  // AppendEntries RPCs in parallel to each of the other servers to
  // replicate the entry."
  auto role = GENERATE(from_range(all_roles));
  INFO(to_string(role) << " of term 2");
  role_setup s;
  s.term = 2;
  s.log = make_log({1});
  auto h = make_in_role(role, s);
  propose_result res;
  auto out = h.propose("x", &res);
  if (role == raft::role::leader) {
    CHECK(to_string(res) == "propose accepted at 2/2");
    auto x = log_entries{entry(2, 2, "x")};
    CHECK(transcript(out)
          == lines{"persist term=2 vote=1 entries=[2] last=2/2 {2/2 \"x\"}",
                   line(1, 2, ae(2, 1, lid(1, 1), x, 0)),
                   line(1, 3, ae(2, 1, lid(1, 1), x, 0))});
  } else {
    CHECK(to_string(res)
          == (role == raft::role::follower ? "propose not_leader hint=2"
                                           : "propose not_leader hint=none"));
    CHECK(transcript(out).empty());
    CHECK(h->log().last_index() == 1_i);
  }
}

TEST_CASE("paper 5.3: the leader commits an entry of its term once a "
          "majority stores it, applies it and tells followers",
          "[paper-5.3]") {
  // "A log entry is committed once the leader that created the entry has
  // replicated it on a majority of the servers ... The leader keeps track of
  // the highest index it knows to be committed, and it includes that index
  // in future AppendEntries RPCs (including heartbeats)".
  auto servers = GENERATE(3u, 5u);
  INFO(servers << " servers");
  role_setup s;
  s.servers = servers;
  s.term = 2;
  auto h = make_in_role(raft::role::leader, s);
  h.propose("x");
  h.ack_all(); // the leader's own copy is durable
  std::uint32_t needed = servers / 2;     // followers besides the leader
  for (std::uint32_t f = 2; f < 2 + needed - 1; ++f) {
    CHECK(transcript(h.step(f, ae_ok(2, 0, 1))).empty());
    CHECK(h->commit_index() == 0_i);
  }
  auto out = h.step(2 + needed - 1, ae_ok(2, 0, 1));
  CHECK(h->commit_index() == 1_i);
  CHECK(out.committed == log_entries{entry(2, 1, "x")});
  // Every AppendEntries from now on carries the commit index.
  auto hb = h.ticks(h->cfg().heartbeat_ticks);
  REQUIRE(hb.messages.size() == servers - 1);
  for (const auto& m : hb.messages)
    CHECK(std::get<append_entries>(m.msg).leader_commit == 1_i);
}

TEST_CASE("paper 5.4.2: the leader commits only entries of its current term "
          "by counting replicas (Figure 8)",
          "[paper-5.4.2]") {
  // "Raft never commits log entries from previous terms by counting
  // replicas. Only log entries from the leader's current term are committed
  // by counting replicas; once an entry from the current term has been
  // committed in this way, then all prior entries are committed indirectly".
  role_setup s;
  s.term = 4;
  s.log = make_log({1, 2});
  s.followers_caught_up = false;
  auto h = make_in_role(raft::role::leader, s);
  // Follower 2 stores 2/2; follower 3 catches up to it via a probe.
  CHECK(transcript(h.step(2, ae_ok(4, 2, 2))).empty());
  auto out = h.step(3, ae_reject(4, 2, 0, 0, 2));
  CHECK(transcript(out)
        == lines{line(1, 3, ae(4, 1, lid(1, 1), {entry(2, 2)}, 0))});
  CHECK(transcript(h.step(3, ae_ok(4, 1, 2))).empty());
  // Every server holds 2/2, yet it is not committed by counting.
  CHECK(h->commit_index() == 0_i);
  // An entry of term 4 commits, and 1/1, 2/2 with it.
  h.propose("x");
  h.ack_all();
  CHECK(h->commit_index() == 0_i);
  out = h.step(2, ae_ok(4, 2, 3));
  CHECK(h->commit_index() == 3_i);
  CHECK(out.committed
        == log_entries{entry(1, 1), entry(2, 2), entry(4, 3, "x")});
}

TEST_CASE("durability: the leader counts itself toward a commit only once "
          "its own write is durable",
          "[durability][paper-5.3]") {
  // Thesis §10.2.1: the leader may send AppendEntries before its own write
  // completes, but its match index moves only when the write is confirmed.
  role_setup s;
  s.servers = 5;
  s.term = 2;
  auto h = make_in_role(raft::role::leader, s);
  auto out = h.propose("x");
  REQUIRE(out.persist);
  CHECK(out.messages.size() == 4); // replication started before the write
  h.step(2, ae_ok(2, 0, 1));
  h.step(3, ae_ok(2, 0, 1));
  CHECK(h->commit_index() == 0_i); // two followers + a non-durable leader
  out = h.ack_next();
  CHECK(h->commit_index() == 1_i);
  CHECK(out.committed == log_entries{entry(2, 1, "x")});

  // Three followers form a majority on their own: committed, but the leader
  // applies only what it stores durably itself.
  out = h.propose("y");
  REQUIRE(out.persist);
  for (std::uint32_t f = 2; f <= 4; ++f)
    out = h.step(f, ae_ok(2, 1, 2));
  CHECK(h->commit_index() == 2_i);
  CHECK(h->applied_index() == 1_i);
  CHECK(out.committed.empty());
  out = h.ack_next();
  CHECK(out.committed == log_entries{entry(2, 2, "y")});
}

TEST_CASE("durability: a follower acks appended entries only after "
          "on_persisted",
          "[durability][paper-5.3]") {
  auto role = GENERATE(from_range(all_roles));
  INFO(to_string(role) << " of term 2 receives entries from leader 3 of term "
                         "3");
  role_setup s;
  s.term = 2;
  s.log = make_log({1});
  auto h = make_in_role(role, s);
  auto entries = log_entries{entry(3, 2), entry(3, 3)};
  auto first = h.step(3, ae(3, 3, lid(1, 1), entries, 0));
  REQUIRE(first.persist);
  CHECK(line(*first.persist)
        == line(batch(hs(3, 0), 0, entries, lid(3, 3))));
  CHECK(sent(first).empty());
  CHECK(h->held_messages() == 1);
  auto out = h.ack_next();
  CHECK(transcript(out)
        == lines{"1->3 append_entries_reply term=3 success=true prev=1 "
                 "match=3"});
}

TEST_CASE("durability: a late ack of an overwritten batch does not make the "
          "replaced entries durable",
          "[durability]") {
  auto h = fresh_follower(1, {});
  // Batch A: three entries from leader 2 of term 1 (not yet durable).
  auto a = h.step(2, ae(1, 2, lid(0, 0), make_log({1, 1, 1}), 0));
  REQUIRE(a.persist);
  // Batch B: leader 3 of term 2 replaces 2 and 3 before A is durable.
  auto b = h.step(3, ae(2, 3, lid(1, 1), {entry(2, 2)}, 2));
  REQUIRE(b.persist);
  CHECK(line(*b.persist)
        == line(batch(hs(2, 0), 2, {entry(2, 2)}, lid(2, 2))));
  CHECK(sent(b).empty());
  auto after_a = h.ack_next();
  // A made 1..3 durable, but only 1/1 is still in the log: 1/1 may be
  // applied (it is committed and durable), 2/2 may not.
  CHECK(h->durable_index() == 1_i);
  CHECK(h->applied_index() <= 1_i);
  for (const auto& m : after_a.messages)
    CHECK(m.to == 2_s); // nothing for the new leader yet
  auto after_b = h.ack_next();
  CHECK(h->durable_index() == 2_i);
  CHECK(sent(after_b)
        == lines{"1->3 append_entries_reply term=2 success=true prev=1 "
                 "match=2"});
  auto applied = after_a.committed;
  applied.insert(applied.end(), after_b.committed.begin(),
                 after_b.committed.end());
  CHECK(describe(applied) == "{1/1 \"c1t1\", 2/2 \"c2t2\"}");
}

// -- fast backup, batching, pipelining (§5.3 optimisations) -------------------

TEST_CASE("paper 5.3: fast backup -- the leader jumps next_index by XTerm, "
          "XIndex and XLen",
          "[paper-5.3]") {
  // docs/architecture.md §5.1: no entry with XTerm -> next = XIndex; has
  // XTerm -> one past its last entry of XTerm; follower log too short ->
  // next = XLen.
  struct row {
    const char* what;
    std::uint64_t xterm, xindex, xlen;
    std::uint64_t expected_next; // 0: the reply is ignored
  };
  auto r = GENERATE(
    row{"leader has no entry of XTerm 2", 2, 2, 6, 2},
    row{"leader has XTerm 3 up to 4", 3, 3, 6, 5},
    row{"leader has XTerm 1 up to 2", 1, 1, 6, 3},
    row{"follower log too short", 0, 0, 3, 3},
    row{"follower log empty", 0, 0, 1, 1});
  INFO(r.what);
  // Leader 1 of term 5, log terms 1 1 3 3 4; its first heartbeat probes 4/5.
  role_setup s;
  s.term = 5;
  s.log = make_log({1, 1, 3, 3, 4});
  s.followers_caught_up = false;
  auto h = make_in_role(raft::role::leader, s);
  auto out = h.step(2, ae_reject(5, 5, r.xterm, r.xindex, r.xlen));
  auto prev = r.expected_next - 1;
  auto prev_term = prev == 0 ? 0 : s.log[prev - 1].term.value;
  CHECK(transcript(out)
        == lines{line(1, 2, ae(5, 1, lid(prev_term, prev),
                               slice_of(s.log, r.expected_next, 5), 0))});
  // Follower 2 takes them; it is now in sync and nothing more is sent.
  out = h.step(2, ae_ok(5, prev, 5));
  CHECK(transcript(out).empty());
}

TEST_CASE("paper 5.3: a rejection answering an outdated probe is ignored",
          "[paper-5.3]") {
  role_setup s;
  s.term = 5;
  s.log = make_log({1, 1, 3, 3, 4});
  s.followers_caught_up = false;
  auto h = make_in_role(raft::role::leader, s);
  // The current probe is at prev 5; a rejection of prev 3 is from the past.
  CHECK(transcript(h.step(2, ae_reject(5, 3, 1, 1, 3))).empty());
  // The real answer still works.
  CHECK(transcript(h.step(2, ae_reject(5, 5, 0, 0, 5)))
        == lines{line(1, 2, ae(5, 1, lid(3, 4), make_log({4}, 5), 0))});
}

TEST_CASE("paper 5.3: one AppendEntries carries up to max_entries_per_append "
          "entries, a caught-up follower gets the rest pipelined",
          "[paper-5.3]") {
  role_setup s;
  s.term = 2;
  s.log = make_log({1, 1, 1, 1, 1, 1, 1});
  s.followers_caught_up = false;
  s.cfg.max_entries_per_append = 3;
  auto h = make_in_role(raft::role::leader, s);
  // Follower 2 is empty: XLen 1 -> send from 1, three at a time.
  auto out = h.step(2, ae_reject(2, 7, 0, 0, 1));
  CHECK(transcript(out)
        == lines{line(1, 2, ae(2, 1, lid(0, 0), slice_of(s.log, 1, 3), 0))});
  // Its ack proves the logs match up to 3: stream the remainder at once.
  out = h.step(2, ae_ok(2, 0, 3));
  CHECK(transcript(out)
        == lines{line(1, 2, ae(2, 1, lid(1, 3), slice_of(s.log, 4, 6), 0)),
                 line(1, 2, ae(2, 1, lid(1, 6), slice_of(s.log, 7, 7), 0))});
}

TEST_CASE("paper 5.3: max_bytes_per_append bounds a message, but at least "
          "one entry goes",
          "[paper-5.3]") {
  struct row {
    std::size_t max_bytes;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  };
  // Entries 1..5 of 400 bytes each.
  auto r = GENERATE(row{800, {{1, 2}, {3, 4}, {5, 5}}},
                    row{100, {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}}},
                    row{2000, {{1, 5}}});
  INFO("max_bytes_per_append " << r.max_bytes);
  log_entries log;
  for (std::uint64_t i = 1; i <= 5; ++i)
    log.push_back(entry(1, i, std::string(400, static_cast<char>('a' + i))));
  role_setup s;
  s.term = 2;
  s.log = log;
  s.followers_caught_up = false;
  s.cfg.max_bytes_per_append = r.max_bytes;
  auto h = make_in_role(raft::role::leader, s);
  h.step(2, ae_reject(2, 5, 0, 0, 1)); // probe from 1: the first chunk
  auto out = h.step(2, ae_ok(2, 0, r.ranges[0].second));
  lines expected;
  for (std::size_t k = 1; k < r.ranges.size(); ++k) {
    auto [from, to] = r.ranges[k];
    expected.push_back(line(1, 2, ae(2, 1, lid(from == 1 ? 0 : 1, from - 1),
                                     slice_of(log, from, to), 0)));
  }
  CHECK(transcript(out) == expected);
}

TEST_CASE("paper 5.3: pipelining -- a second command goes out before the "
          "first is acknowledged, up to max_inflight_appends",
          "[paper-5.3]") {
  role_setup s;
  s.term = 2;
  s.cfg.max_inflight_appends = 2;
  auto h = make_in_role(raft::role::leader, s);
  auto out = h.propose("a");
  auto a = log_entries{entry(2, 1, "a")};
  CHECK(sent(out) == lines{line(1, 2, ae(2, 1, lid(0, 0), a, 0)),
                           line(1, 3, ae(2, 1, lid(0, 0), a, 0))});
  out = h.propose("b");
  auto b = log_entries{entry(2, 2, "b")};
  CHECK(sent(out) == lines{line(1, 2, ae(2, 1, lid(2, 1), b, 0)),
                           line(1, 3, ae(2, 1, lid(2, 1), b, 0))});
  // Two unacknowledged messages per follower: the third command waits ...
  out = h.propose("c");
  CHECK(sent(out).empty());
  // ... until an acknowledgement frees a slot.
  out = h.step(2, ae_ok(2, 0, 1));
  CHECK(sent(out)
        == lines{line(1, 2, ae(2, 1, lid(2, 2), {entry(2, 3, "c")}, 0))});
}
