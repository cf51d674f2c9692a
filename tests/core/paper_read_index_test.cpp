// Linearizable reads with ReadIndex (Raft thesis §6.4), one rule per
// TEST_CASE, tables where the rule has cases (docs/architecture.md §8.1).
// Assertions are on whole outputs as transcript lines; the harness also
// checks that every read ends exactly once and never before the state
// machine has its index.
//
// The thesis' steps: (1) the leader waits until it knows the commit index
// (an entry of its term committed); (2) readIndex = commitIndex; (3) a
// heartbeat round acknowledged by a majority confirms the leadership; (4)
// the read is answered once the state machine reached readIndex.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/core/core_harness.hpp"
#include "tests/core/role_setup.hpp"

using namespace raft;
using namespace raft::core_test;

namespace {

/// An AppendEntries reply of `term` echoing read round `seq`.
append_entries_reply ack(std::uint64_t term, std::uint64_t prev,
                         std::uint64_t match, std::uint64_t seq) {
  auto r = ae_ok(term, prev, match);
  r.read_seq = seq;
  return r;
}

/// Server 1, leader of term 2 in a cluster of `servers`, with log {1, 1},
/// its no-op at index 3 and (caught_up) every follower at 3: commit 3.
harness read_leader(std::uint32_t servers = 3, bool caught_up = true,
               int read_timeout_ticks = 60) {
  role_setup s;
  s.servers = servers;
  s.term = 2;
  s.log = make_log({1, 1});
  s.followers_caught_up = caught_up;
  s.cfg.noop_on_election = true;
  s.cfg.read_timeout_ticks = read_timeout_ticks;
  auto h = make_in_role(raft::role::leader, s);
  if (caught_up)
    REQUIRE(h->commit_index() == 3_i);
  return h;
}

/// Round `seq` of leader 1 (term 2, commit `commit`) to followers 2..n, as
/// transcript lines.
lines read_round(std::uint64_t seq, std::uint32_t servers = 3,
            std::uint64_t commit = 3) {
  lines result;
  for (std::uint32_t f = 2; f <= servers; ++f)
    result.push_back("1->" + std::to_string(f) + " append_entries term=2 "
                     "prev=2/3 entries=[] commit=" + std::to_string(commit)
                     + " read=" + std::to_string(seq));
  return result;
}

} // namespace

// -- step 3: a majority acknowledges a round that left after the read --------

TEST_CASE("thesis 6.4: a leader answers a read only after a majority acks a "
          "heartbeat round started after the read",
          "[thesis-6.4]") {
  // "It issues a new round of heartbeats and waits for their
  // acknowledgments from a majority of the cluster." The leader counts
  // itself; rejections of its term count too (the follower still accepts
  // it as leader).
  struct row {
    const char* what;
    std::uint32_t servers;
    std::vector<std::uint32_t> ackers; // in order; the read is ready after
    std::size_t ready_after;           // this many acks (0: never)
    bool reject;                       // acks are rejections of term 2
  };
  auto r = GENERATE(row{"3 servers: one follower is a majority", 3, {2}, 1,
                        false},
                    row{"5 servers: two followers are needed", 5, {4, 2}, 2,
                        false},
                    row{"5 servers: the same follower twice is one ack", 5,
                        {3, 3, 5}, 3, false},
                    row{"5 servers: one ack is not enough", 5, {2}, 0, false},
                    row{"a rejection of the leader's term is an ack", 3, {3},
                        1, true});
  INFO(r.what);
  auto h = read_leader(r.servers);
  CHECK(transcript(h.read_index(7)) == read_round(1, r.servers));
  for (std::size_t k = 0; k < r.ackers.size(); ++k) {
    auto reply = r.reject ? ae_reject(2, 3, 0, 0, 4) : ack(2, 3, 3, 0);
    reply.read_seq = 1;
    auto o = h.step(r.ackers[k], reply);
    INFO("after ack " << k + 1 << " from " << r.ackers[k]);
    if (k + 1 == r.ready_after)
      CHECK(o.reads_ready == std::vector<core::read_state>{{7, 3_i}});
    else
      CHECK(o.reads_ready.empty());
  }
  CHECK(h.open_reads().size() == (r.ready_after == 0 ? 1u : 0u));
}

TEST_CASE("thesis 6.4: a stale ack does not confirm a read", "[thesis-6.4]") {
  // Only a reply to a round that left after the read was registered proves
  // the leadership at a time after the read: acks of earlier rounds, of
  // rounds never sent, and replies of older terms do not.
  struct row {
    const char* what;
    append_entries_reply reply;
  };
  auto r = GENERATE(
    row{"a reply to a heartbeat sent before the read", ack(2, 3, 3, 0)},
    row{"an ack of the earlier round", ack(2, 3, 3, 1)},
    row{"an ack of a round never sent", ack(2, 3, 3, 9)},
    row{"an ack of round 2 from an older term", ack(1, 3, 3, 2)});
  INFO(r.what);
  auto h = read_leader();
  // Round 1 is outstanding when read 8 arrives: 8 needs round 2.
  CHECK(transcript(h.read_index(7)) == read_round(1));
  CHECK(transcript(h.read_index(8)).empty());
  auto o = h.step(2, ack(2, 3, 3, 1)); // confirms 7, starts round 2 for 8
  CHECK(transcript(o)
        == lines{read_round(2)[0], read_round(2)[1], "read 7 index=3"});
  o = h.step(3, r.reply);
  CHECK(o.reads_ready.empty());
  CHECK(h.open_reads() == std::set<std::uint64_t>{8});
  // The real ack of round 2 does.
  CHECK(transcript(h.step(3, ack(2, 3, 3, 2))) == lines{"read 8 index=3"});
}

TEST_CASE("thesis 6.4: several reads share one round", "[thesis-6.4]") {
  // etcd's read_only.go: reads that arrive while a round is outstanding
  // wait for the next one and share it; one majority confirms them all.
  auto h = read_leader();
  CHECK(transcript(h.read_index(1)) == read_round(1));
  CHECK(transcript(h.read_index(2)).empty());
  CHECK(transcript(h.read_index(3)).empty());
  CHECK(transcript(h.step(2, ack(2, 3, 3, 1)))
        == lines{read_round(2)[0], read_round(2)[1], "read 1 index=3"});
  CHECK(transcript(h.read_index(4)).empty());
  // Round 2 confirms 2, 3 and (an ack of a later round confirms earlier
  // reads too) -- not 4, which needs round 3.
  CHECK(transcript(h.step(3, ack(2, 3, 3, 2)))
        == lines{read_round(3)[0], read_round(3)[1], "read 2 index=3",
                 "read 3 index=3"});
  CHECK(transcript(h.step(2, ack(2, 3, 3, 3))) == lines{"read 4 index=3"});
}

TEST_CASE("thesis 6.4: a heartbeat with reads unconfirmed starts a new round",
          "[thesis-6.4]") {
  // A round whose messages were lost is repaired by the next heartbeat,
  // which is a round of its own; its ack confirms the older reads.
  auto h = read_leader();
  CHECK(transcript(h.read_index(7)) == read_round(1));
  auto e = h.ticks(h->cfg().heartbeat_ticks);
  CHECK(e.transcript() == read_round(2));
  CHECK(transcript(h.step(3, ack(2, 3, 3, 2))) == lines{"read 7 index=3"});
  // Without reads pending, heartbeats carry the last round unchanged.
  CHECK(h.ticks(h->cfg().heartbeat_ticks).transcript() == read_round(2));
}

// -- step 2: the read index ---------------------------------------------------

TEST_CASE("thesis 6.4: the read index is the commit index when the read is "
          "registered",
          "[thesis-6.4]") {
  // "The leader saves its current commit index in a local variable
  // readIndex": an entry proposed but not committed is not waited for, an
  // entry committed before the read is.
  auto h = read_leader();
  h.propose("x"); // index 4, not committed
  h.ack_all();
  auto o = h.read_index(7);
  CHECK(sent(o) == lines{"1->2 append_entries term=2 prev=2/4 entries=[] "
                         "commit=3 read=1",
                         "1->3 append_entries term=2 prev=2/4 entries=[] "
                         "commit=3 read=1"});
  // The ack of entry 4 commits it and confirms the read -- at index 3.
  o = h.step(2, ack(2, 3, 4, 1));
  CHECK(h->commit_index() == 4_i);
  CHECK(o.reads_ready == std::vector<core::read_state>{{7, 3_i}});
  // A read after the commit waits for index 4.
  h.read_index(8);
  o = h.step(3, ack(2, 4, 4, 2));
  CHECK(o.reads_ready == std::vector<core::read_state>{{8, 4_i}});
}

TEST_CASE("thesis 6.4: a confirmed read reaches the state machine only after "
          "the entries through its index",
          "[thesis-6.4][durability]") {
  // Step 4: "The leader waits for its state machine to advance at least as
  // far as the readIndex." A leader commits entry 4 on its followers' acks
  // before its own write is durable (thesis §10.2.1) -- and so before the
  // state machine gets it; the read waits for that.
  auto h = read_leader();
  h.propose("x"); // batch not acknowledged: index 4 is not durable here
  h.step(2, ack(2, 3, 4, 0));
  h.step(3, ack(2, 3, 4, 0));
  REQUIRE(h->commit_index() == 4_i);
  REQUIRE(h->applied_index() == 3_i);
  h.read_index(7);
  auto o = h.step(3, ack(2, 4, 4, 1));
  CHECK(o.reads_ready.empty());
  CHECK(h->reads_confirmed().size() == 1);
  // The leader's write becomes durable: entry 4, then the read.
  o = h.ack_next();
  CHECK(transcript(o) == lines{"apply {2/4 \"x\"}", "read 7 index=4"});
}

// -- step 1: a new leader first learns the commit index -----------------------

TEST_CASE("thesis 6.4: a new leader holds reads until its no-op commits",
          "[thesis-6.4]") {
  // "If the leader has not yet marked an entry from its current term
  // committed, it waits until it has done so." Until then it sends no read
  // round; the no-op's commit registers the read at its index.
  auto h = read_leader(3, false); // log {1, 1} + no-op 2/3, nothing committed
  REQUIRE(h->commit_index() == 0_i);
  CHECK(transcript(h.read_index(7)).empty());
  CHECK(transcript(h.read_index(8)).empty());
  // Heartbeats carry no round while nothing is registered.
  auto e = h.ticks(h->cfg().heartbeat_ticks);
  for (const auto& m : e.messages)
    CHECK(std::get<append_entries>(m.msg).read_seq == 0);
  // Follower 2 stores the no-op: it commits, both reads register and share
  // round 1.
  auto o = h.step(2, ack(2, 0, 3, 0));
  CHECK(h->commit_index() == 3_i);
  CHECK(o.reads_ready.empty());
  std::vector<std::uint64_t> rounds;
  for (const auto& m : o.messages)
    rounds.push_back(std::get<append_entries>(m.msg).read_seq);
  CHECK(rounds == std::vector<std::uint64_t>{1, 1});
  o = h.step(2, ack(2, 3, 3, 1));
  CHECK(transcript(o) == lines{"read 7 index=3", "read 8 index=3"});
}

TEST_CASE("thesis 6.4: a new leader whose log is known committed needs no "
          "entry of its term",
          "[thesis-6.4]") {
  // What step 1 buys is a commit index covering every entry committed
  // before the leadership (Leader Completeness, §5.4). A leader that, as a
  // follower, learned that its whole log is committed has that already --
  // even without a no-op (noop_on_election off).
  harness h{cluster_config(1, 3), stored_state{hs(1, 0), {}, {}}};
  h.step(2, ae(1, 2, lid(0, 0), make_log({1, 1}), 2));
  h.ack_all();
  REQUIRE(h->commit_index() == 2_i);
  for (int i = 0; i < 2 * h->cfg().election_ticks && !h->is_leader(); ++i) {
    h.tick();
    h.ack_all();
    if (h->role() == raft::role::candidate)
      h.step(3, rv_reply(h->current_term().value, true));
  }
  REQUIRE(h->is_leader());
  REQUIRE(h->log().last_index() == 2_i); // no no-op
  auto t = std::to_string(h->current_term().value);
  auto o = h.read_index(7);
  CHECK(sent(o) == lines{"1->2 append_entries term=" + t
                           + " prev=1/2 entries=[] commit=2 read=1",
                         "1->3 append_entries term=" + t
                           + " prev=1/2 entries=[] commit=2 read=1"});
  o = h.step(3, ack(h->current_term().value, 2, 2, 1));
  CHECK(transcript(o) == lines{"read 7 index=2"});
}

// -- leadership lost: reads fail, never hang ----------------------------------

TEST_CASE("thesis 6.4: a leader partitioned from the majority never answers "
          "and fails its reads when it steps down",
          "[thesis-6.4]") {
  // Without a majority's ack there is no answer, however long the leader
  // waits (below read_timeout_ticks). Stepping down -- whatever the cause --
  // fails every read it holds, registered or still waiting for the commit
  // index, pointing at the new leader if known.
  struct row {
    const char* what;
    rpc_message from3;
    server_id hint;
  };
  auto r = GENERATE(
    row{"AppendEntries of the leader of term 3", ae(3, 3, lid(2, 3), {}, 3),
        3_s},
    row{"RequestVote of term 3", rv(3, 3, lid(2, 3)), no_server},
    row{"a reply of term 3", rpc_message{ae_reject(3, 3, 0, 0, 1)},
        no_server});
  INFO(r.what);
  auto h = read_leader(5, true, 1000);
  h.read_index(7);
  auto e = h.ticks(5 * h->cfg().heartbeat_ticks);
  CHECK(e.reads_ready.empty());
  CHECK(e.reads_failed.empty());
  // A single ack (2 of 5) is no majority either.
  CHECK(h.step(2, ack(2, 3, 3, 6)).reads_ready.empty());
  h.read_index(8);
  auto first = h.step(3, r.from3);
  e = h.ack_all();
  e.add(std::move(first));
  CHECK(h->role() == raft::role::follower);
  CHECK(e.reads_ready.empty());
  CHECK(e.reads_failed
        == std::vector<core::read_failure>{{7, r.hint, errc::not_leader},
                                           {8, r.hint, errc::not_leader}});
  CHECK(h.open_reads().empty());
}

TEST_CASE("thesis 6.4: a read no majority confirms within read_timeout_ticks "
          "fails",
          "[thesis-6.4]") {
  // Without check-quorum a partitioned leader never learns it lost; the
  // timeout bounds how long a read may hang (errc::timeout, retry allowed).
  auto h = read_leader(3, true, 25);
  h.read_index(7);
  auto e = h.ticks(24);
  CHECK(e.reads_failed.empty());
  h.read_index(8); // arrives later: times out later
  auto o = h.tick();
  CHECK(transcript(o) == lines{"read 7 failed timeout leader=1"});
  e = h.ticks(23);
  CHECK(e.reads_failed.empty());
  CHECK(transcript(h.tick()) == lines{"read 8 failed timeout leader=1"});
  CHECK(h->is_leader());
  CHECK(h.open_reads().empty());
}

TEST_CASE("thesis 6.4: a follower or candidate fails reads with the leader "
          "hint",
          "[thesis-6.4]") {
  // Only the leader serves linearizable reads; the caller retries there.
  struct row {
    raft::role role;
    const char* expected;
  };
  auto r = GENERATE(row{raft::role::follower, "read 7 failed not_leader "
                                              "leader=2"},
                    row{raft::role::candidate, "read 7 failed not_leader "
                                               "leader=none"});
  INFO(to_string(r.role));
  auto h = make_in_role(r.role);
  CHECK(transcript(h.read_index(7)) == lines{r.expected});
}

TEST_CASE("thesis 6.4: a single-node cluster answers a read immediately",
          "[thesis-6.4]") {
  // The leader alone is a majority: no round trip. The read index is the
  // commit index, not the last entry proposed.
  role_setup s;
  s.servers = 1;
  s.cfg.noop_on_election = true;
  auto h = make_in_role(raft::role::leader, s);
  REQUIRE(h->commit_index() == 1_i);
  CHECK(transcript(h.read_index(7)) == lines{"read 7 index=1"});
  h.propose("x");
  CHECK(transcript(h.read_index(8)) == lines{"read 8 index=1"});
  CHECK(transcript(h.ack_next())
        == lines{"apply {2/2 \"x\"}"});
  CHECK(transcript(h.read_index(9)) == lines{"read 9 index=2"});
}

TEST_CASE("thesis 6.4: reads never touch the log or the persister",
          "[thesis-6.4][durability]") {
  auto h = read_leader();
  auto last = h->log().last();
  auto batches = h->batches_emitted();
  h.read_index(7);
  h.step(2, ack(2, 3, 3, 1));
  h.read_index(8);
  h.ticks(3 * h->cfg().heartbeat_ticks);
  CHECK(h->log().last() == last);
  CHECK(h->batches_emitted() == batches);
  CHECK(h.unacked() == 0);
}
