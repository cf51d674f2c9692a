// The election rules of the Raft paper (§5.1, §5.2, §5.4.1) and their
// durability side, one sentence per TEST_CASE, run once per role where the
// sentence applies to several (docs/architecture.md §8.1; cf. etcd's
// raft_paper_test.go).
// Each test asserts on the node's whole output as transcript lines
// (messages/to_string.cpp); the harness checks invariants and durability
// after every input (core_harness.hpp).
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/core/core_harness.hpp"
#include "tests/core/role_setup.hpp"
#include "tests/support/run_options.hpp"

using namespace raft;
using namespace raft::core_test;

namespace {

/// Ticks left until the election timer fires.
int ticks_to_timeout(const node& n) {
  return n.election_timeout() - n.election_elapsed();
}

} // namespace

// -- §5.1 terms -------------------------------------------------------------

TEST_CASE("paper 5.1: a server that sees a larger term adopts it and "
          "reverts to follower with no vote",
          "[paper-5.1]") {
  // "If one server's current term is smaller than the other's, then it
  // updates its current term to the larger value. If a candidate or leader
  // discovers that its term is out of date, it immediately reverts to
  // follower state." Figure 2: votedFor is per term, so it resets.
  struct row {
    const char* what;
    rpc_message msg; // from server 3, term 5
    std::uint32_t expected_vote;
    std::uint32_t expected_leader;
    lines expected_sent; // after the term change is durable
  };
  auto r = GENERATE(
    row{"append_entries (heartbeat)", ae(5, 3, lid(1, 1), {}, 0), 0, 3,
        {"1->3 append_entries_reply term=5 success=true prev=1 match=1"}},
    row{"request_vote, candidate's log behind", rv(5, 3, lid(0, 0)), 0, 0,
        {"1->3 request_vote_reply term=5 granted=false"}},
    row{"request_vote, candidate's log up to date", rv(5, 3, lid(1, 1)), 3,
        0, {"1->3 request_vote_reply term=5 granted=true"}},
    row{"request_vote_reply", rv_reply(5, false), 0, 0, {}},
    row{"append_entries_reply", ae_reject(5, 1, 0, 0, 1), 0, 0, {}});
  auto role = GENERATE(from_range(all_roles));
  INFO(to_string(role) << " at term 2 receives " << r.what << " of term 5");
  role_setup s;
  s.term = 2;
  s.log = make_log({1});
  auto h = make_in_role(role, s);
  auto first = h.step(3, r.msg);
  CHECK(h->role() == raft::role::follower);
  CHECK(h->current_term() == 5_t);
  CHECK(h->voted_for() == server_id{r.expected_vote});
  CHECK(h->leader() == server_id{r.expected_leader});
  // The new term (and vote) are persisted first; replies promising them
  // leave only once durable.
  REQUIRE(first.persist);
  CHECK(line(*first.persist)
        == line(batch(hs(5, r.expected_vote), 0, {}, lid(1, 1))));
  CHECK(first.committed.empty());
  CHECK(sent(first).empty());
  auto rest = h.ack_all();
  CHECK(rest.batches.empty());
  CHECK(rest.sent() == r.expected_sent);
}

TEST_CASE("paper 5.1: a request with a stale term is rejected with the "
          "current term",
          "[paper-5.1]") {
  // "If a server receives a request with a stale term number, it rejects
  // the request." The reply carries currentTerm "for [the sender] to update
  // itself" (Figure 2).
  auto role = GENERATE(from_range(all_roles));
  INFO(to_string(role) << " at term 5");
  role_setup s;
  s.term = 5;
  s.log = make_log({1, 1});
  auto h = make_in_role(role, s);
  auto before = core::observe(h.n());
  auto log_before = all_entries(h->log());

  SECTION("request_vote of term 3 is refused") {
    auto out = h.step(3, rv(3, 3, lid(3, 9)));
    CHECK(transcript(out)
          == lines{"1->3 request_vote_reply term=5 granted=false"});
  }
  SECTION("append_entries of term 3 is refused and changes nothing") {
    auto out = h.step(3, ae(3, 3, lid(1, 2), make_log({3}, 3), 3));
    CHECK_FALSE(out.persist);
    CHECK(out.committed.empty());
    REQUIRE(out.messages.size() == 1);
    CHECK(out.messages[0].to == 3_s);
    auto* rep = std::get_if<append_entries_reply>(&out.messages[0].msg);
    REQUIRE(rep);
    CHECK(rep->term == 5_t);
    CHECK_FALSE(rep->success);
  }
  CHECK(h->role() == before.role);
  CHECK(h->current_term() == 5_t);
  CHECK(h->voted_for() == before.voted_for);
  CHECK(h->leader() == before.leader);
  CHECK(h->commit_index() == before.commit_index);
  CHECK(all_entries(h->log()) == log_before);
}

TEST_CASE("paper 5.1: replies with a stale term are ignored", "[paper-5.1]") {
  auto role = GENERATE(from_range(all_roles));
  INFO(to_string(role) << " at term 5");
  role_setup s;
  s.term = 5;
  s.servers = 5;
  s.log = make_log({1});
  auto h = make_in_role(role, s);
  auto before = core::observe(h.n());
  // A stale grant must not count toward this term's election, a stale
  // append ack not toward a commit.
  for (std::uint32_t from = 2; from <= 5; ++from) {
    CHECK(transcript(h.step(from, rv_reply(4, true))).empty());
    CHECK(transcript(h.step(from, ae_ok(4, 1, 1))).empty());
  }
  CHECK(h->role() == before.role);
  CHECK(h->current_term() == 5_t);
  CHECK(h->commit_index() == before.commit_index);
}

// -- §5.2 leader election -----------------------------------------------------

TEST_CASE("paper 5.2: at election timeout a server becomes candidate, votes "
          "for itself, and asks for votes once that is durable",
          "[paper-5.2][durability]") {
  // "If a follower receives no communication over a period of time called
  // the election timeout, then it assumes there is no viable leader and
  // begins an election ... a follower increments its current term and
  // transitions to candidate state. It then votes for itself and issues
  // RequestVote RPCs in parallel to each of the other servers." A candidate
  // that times out "will time out and start a new election by incrementing
  // its term". Durability: term and vote are on disk before the requests go.
  auto role = GENERATE(raft::role::follower, raft::role::candidate);
  INFO(to_string(role) << " at term 2");
  role_setup s;
  s.term = 2;
  s.log = make_log({1});
  auto h = make_in_role(role, s);
  auto quiet = h.ticks(ticks_to_timeout(h.n()) - 1);
  CHECK(quiet.transcript().empty());
  CHECK(h->role() == role);
  CHECK(h->current_term() == 2_t);

  auto out = h.tick();
  CHECK(h->role() == raft::role::candidate);
  CHECK(h->current_term() == 3_t);
  CHECK(h->voted_for() == 1_s);
  CHECK(transcript(out) == lines{"persist term=3 vote=1 entries=[] last=1/1"});
  CHECK(h->held_messages() == 2);

  auto after_ack = h.ack_next();
  CHECK(transcript(after_ack)
        == lines{"1->2 request_vote term=3 cand=1 last=1/1",
                 "1->3 request_vote term=3 cand=1 last=1/1"});
  CHECK(h->held_messages() == 0);
}

TEST_CASE("paper 5.2: a leader does not time out", "[paper-5.2]") {
  role_setup s;
  s.term = 2;
  auto h = make_in_role(raft::role::leader, s);
  auto e = h.ticks(4 * h->cfg().election_ticks);
  CHECK(h->role() == raft::role::leader);
  CHECK(h->current_term() == 2_t);
  CHECK(e.batches.empty());
  for (const auto& m : e.messages)
    CHECK(std::holds_alternative<append_entries>(m.msg));
}

TEST_CASE("paper 5.2: a candidate wins with votes from a majority of the "
          "full cluster in its term",
          "[paper-5.2]") {
  // "A candidate wins an election if it receives votes from a majority of
  // the servers in the full cluster for the same term. ... Once a candidate
  // wins an election, it becomes leader. It then sends heartbeat messages
  // to all of the other servers".
  struct row {
    std::uint32_t servers;
    std::vector<std::pair<std::uint32_t, bool>> replies; // (from, granted)
    bool wins;
  };
  auto r = GENERATE(row{3, {{2, true}}, true},
                    row{3, {{2, false}, {3, true}}, true},
                    row{3, {{2, false}, {3, false}}, false},
                    row{5, {{2, true}}, false},
                    row{5, {{2, true}, {2, true}}, false}, // counted once
                    row{5, {{2, true}, {3, true}}, true},
                    row{5, {{2, false}, {3, false}, {4, true}, {5, true}},
                        true},
                    row{5, {{2, false}, {3, false}, {4, false}, {5, true}},
                        false});
  std::string what;
  for (auto [from, granted] : r.replies)
    what += std::to_string(from) + (granted ? "+ " : "- ");
  INFO(r.servers << " servers, replies " << what);
  role_setup s;
  s.servers = r.servers;
  s.term = 2;
  s.log = make_log({1});
  auto h = make_in_role(raft::role::candidate, s);
  effects e;
  for (auto [from, granted] : r.replies)
    e.add(h.step(from, rv_reply(2, granted)));
  if (r.wins) {
    CHECK(h->role() == raft::role::leader);
    CHECK(h->leader() == 1_s);
    lines heartbeats;
    for (std::uint32_t to = 2; to <= r.servers; ++to)
      heartbeats.push_back(
        line(1, to, ae(2, 1, lid(1, 1), {}, 0)));
    CHECK(e.transcript() == heartbeats);
  } else {
    CHECK(h->role() == raft::role::candidate);
    CHECK(e.transcript().empty());
  }
  CHECK(h->current_term() == 2_t);
}

TEST_CASE("paper 5.2: a lone server elects itself once its vote is durable",
          "[paper-5.2][durability]") {
  auto cfg = cluster_config(1, 1);
  harness h{cfg};
  effects e;
  for (int i = 0; i < 2 * cfg.election_ticks
                  && h->role() == raft::role::follower;
       ++i)
    e.add(h.tick());
  CHECK(h->role() == raft::role::candidate);
  REQUIRE(e.batches.size() == 1);
  CHECK(line(e.batches[0]) == "persist term=1 vote=1 entries=[] last=0/0");
  auto out = h.ack_next();
  CHECK(h->role() == raft::role::leader);
  CHECK(transcript(out).empty());
  propose_result res;
  out = h.propose("x", &res);
  CHECK(to_string(res) == "propose accepted at 1/1");
  CHECK(transcript(out)
        == lines{"persist term=1 vote=1 entries=[1] last=1/1 {1/1 \"x\"}"});
  CHECK(h->commit_index() == 0_i);
  out = h.ack_next();
  CHECK(h->commit_index() == 1_i);
  CHECK(transcript(out) == lines{"apply {1/1 \"x\"}"});
}

TEST_CASE("paper 5.2: a candidate that hears from a leader of its term "
          "steps down",
          "[paper-5.2]") {
  // "If the leader's term (included in its RPC) is at least as large as the
  // candidate's current term, then the candidate recognizes the leader as
  // legitimate and returns to follower state."
  role_setup s;
  s.term = 2;
  s.log = make_log({1});
  auto h = make_in_role(raft::role::candidate, s);
  auto out = h.step(3, ae(2, 3, lid(1, 1), {}, 0));
  CHECK(h->role() == raft::role::follower);
  CHECK(h->leader() == 3_s);
  CHECK(h->current_term() == 2_t);
  CHECK(h->voted_for() == 1_s); // the vote of term 2 stays
  auto e = h.ack_all();
  e.add(std::move(out));
  CHECK(e.transcript()
        == lines{"1->3 append_entries_reply term=2 success=true prev=1 "
                 "match=1"});
}

TEST_CASE("paper 5.2: each server votes for at most one candidate per term",
          "[paper-5.2][durability]") {
  // "Each server will vote for at most one candidate in a given term, on a
  // first-come-first-served basis". Candidates and leaders voted for
  // themselves. The grant leaves only once the vote is durable.
  auto role = GENERATE(from_range(all_roles));
  INFO(to_string(role) << " at term 2");
  role_setup s;
  s.term = 2;
  s.log = make_log({1});
  // A follower that has not voted yet (and knows no leader) in term 2.
  auto h = role == raft::role::follower
             ? harness{cluster_config(1, 3),
                       stored_state{hs(2, 0), {}, make_log({1})}}
             : make_in_role(role, s);
  if (role == raft::role::follower) {
    auto first = h.step(3, rv(2, 3, lid(1, 1)));
    CHECK(transcript(first)
          == lines{"persist term=2 vote=3 entries=[] last=1/1"});
    CHECK(h.ack_all().transcript()
          == lines{"1->3 request_vote_reply term=2 granted=true"});
    // A retransmitted request of the same candidate gets the same answer.
    CHECK(transcript(h.step(3, rv(2, 3, lid(1, 1))))
          == lines{"1->3 request_vote_reply term=2 granted=true"});
  }
  auto voted = h->voted_for();
  CHECK(voted != no_server);
  // Another candidate of the same term, even with a longer log, is refused.
  auto out = h.step(2, rv(2, 2, lid(1, 5)));
  auto e = h.ack_all();
  e.add(std::move(out));
  CHECK(e.transcript()
        == lines{"1->2 request_vote_reply term=2 granted=false"});
  CHECK(h->voted_for() == voted);
  CHECK(h->role() == role);
}

TEST_CASE("paper 5.2: granting a vote resets the election timer",
          "[paper-5.2]") {
  // Figure 2, Followers: "If election timeout elapses without receiving
  // AppendEntries RPC from current leader or granting vote to candidate:
  // convert to candidate".
  harness h{cluster_config(1, 3), stored_state{hs(2, 0), {}, {}}};
  h.ticks(ticks_to_timeout(h.n()) - 1);
  h.step(3, rv(3, 3, lid(0, 0)));
  h.ack_all();
  CHECK(h->voted_for() == 3_s);
  CHECK(h->election_elapsed() == 0);
  CHECK(h.ticks(ticks_to_timeout(h.n()) - 1).transcript().empty());
  CHECK(h->role() == raft::role::follower);
  h.tick();
  CHECK(h->role() == raft::role::candidate);
}

TEST_CASE("paper 5.2: a follower stays follower while it hears heartbeats",
          "[paper-5.2]") {
  // "A server remains in follower state as long as it receives valid RPCs
  // from a leader or candidate. Leaders send periodic heartbeats ... to all
  // followers in order to maintain their authority."
  role_setup s;
  s.term = 2;
  s.log = make_log({1});
  auto h = make_in_role(raft::role::follower, s);
  auto every = h->cfg().election_ticks - 1; // just inside the lower bound
  for (int round = 0; round < 20; ++round) {
    h.ticks(every);
    auto out = h.step(2, ae(2, 2, lid(1, 1), {}, 0));
    h.ack_all();
    CHECK(sent(out) == lines{"1->2 append_entries_reply term=2 success=true "
                             "prev=1 match=1"});
  }
  CHECK(h->role() == raft::role::follower);
  CHECK(h->current_term() == 2_t);
}

TEST_CASE("paper 5.2: the leader sends heartbeats every heartbeat_ticks, at "
          "most ten per second with the default 10 ms tick",
          "[paper-5.2]") {
  config defaults;
  // With one tick every 10 ms, 10 ticks between heartbeats = 10 per second
  // (the 6.5840 limit), and followers hear one well inside election_ticks.
  CHECK(defaults.heartbeat_ticks >= 10);
  CHECK(defaults.heartbeat_ticks < defaults.election_ticks);
  role_setup s;
  s.term = 2;
  s.log = make_log({1});
  auto h = make_in_role(raft::role::leader, s);
  auto hb = h->cfg().heartbeat_ticks;
  // Exactly at the interval, one empty AppendEntries per follower.
  CHECK(h.ticks(hb - 1).transcript().empty());
  auto out = h.tick();
  CHECK(transcript(out) == lines{line(1, 2, ae(2, 1, lid(1, 1), {}, 0)),
                                 line(1, 3, ae(2, 1, lid(1, 1), {}, 0))});
  // Over 10 s of idleness (followers answering): <= 10 per 100-tick window
  // per follower, and never a gap a follower's timer could notice.
  std::map<server_id, std::vector<int>> sent_at;
  for (int t = 1; t <= 1000; ++t) {
    auto o = h.tick();
    for (const auto& m : o.messages) {
      REQUIRE(std::holds_alternative<append_entries>(m.msg));
      sent_at[m.to].push_back(t);
      h.step(m.to, ae_ok(2, 1, 1));
    }
  }
  for (auto& [to, times] : sent_at) {
    INFO("follower " << to);
    CHECK(times.size() == static_cast<std::size_t>(1000 / hb));
    for (std::size_t k = 1; k < times.size(); ++k)
      CHECK(times[k] - times[k - 1] == hb);
    for (std::size_t k = 10; k < times.size(); ++k)
      CHECK(times[k] - times[k - 10] >= 100);
  }
  CHECK(sent_at.size() == 2);
}

TEST_CASE("paper 5.2: election timeouts are random between election_ticks "
          "and twice that, and deterministic for a seed",
          "[paper-5.2]") {
  // "Raft uses randomized election timeouts ... chosen randomly from a fixed
  // interval". Ours come from a seeded RNG, so a run can be replayed.
  auto lo = config{}.election_ticks;
  // Measures `elections` successive timeouts of a lone candidate-to-be.
  auto timeouts = [&](std::uint64_t seed, std::uint32_t id, int elections) {
    auto cfg = cluster_config(id, 5, seed);
    harness h{cfg};
    std::vector<int> result;
    int since = 0;
    int expected = 0;
    auto term = h->current_term();
    while (static_cast<int>(result.size()) < elections) {
      if (since == 0)
        expected = h->election_timeout() - h->election_elapsed();
      h.tick();
      ++since;
      if (h->current_term() != term) {
        CHECK(since == expected);
        result.push_back(since);
        since = 0;
        term = h->current_term();
        h.ack_all();
      }
      REQUIRE(since <= 2 * lo);
    }
    return result;
  };
  std::set<int> seen;
  auto seeds = raft::testing::run_options::global().seed_list(200);
  for (auto seed : seeds) {
    INFO(raft::testing::run_options::replay_hint(seed));
    auto xs = timeouts(seed, 1, 20);
    for (auto x : xs) {
      CHECK(x >= lo);
      CHECK(x < 2 * lo);
      seen.insert(x);
    }
    CHECK(timeouts(seed, 1, 20) == xs); // same seed, same inputs: same draws
  }
  if (seeds.size() >= 200)
    CHECK(seen.size() == static_cast<std::size_t>(lo)); // the whole range
  // Different seeds, and different servers under one seed, draw differently
  // (servers sharing a config must not time out in lockstep).
  CHECK(timeouts(1, 1, 20) != timeouts(2, 1, 20));
  CHECK(timeouts(1, 1, 20) != timeouts(1, 2, 20));
}

TEST_CASE("determinism: same config, seed and inputs give the same outputs",
          "[paper-5.2]") {
  auto run = [](std::uint64_t seed) {
    harness h{cluster_config(2, 3, seed)};
    lines log;
    auto record = [&](const output& o) {
      for (auto& l : transcript(o))
        log.push_back(l);
    };
    for (int i = 0; i < 200; ++i) {
      record(h.tick());
      if (h.unacked() > 0 && i % 3 == 0)
        for (auto& b : h.ack_all().transcript())
          log.push_back(b);
      if (i == 70)
        record(h.step(1, rv(9, 1, lid(0, 0))));
    }
    return log;
  };
  auto a = run(7);
  CHECK(!a.empty());
  CHECK(run(7) == a);
}

// -- §5.4.1 election restriction ---------------------------------------------

TEST_CASE("paper 5.4.1: a vote is denied to a candidate whose log is less "
          "up-to-date",
          "[paper-5.4.1]") {
  // "The RequestVote RPC implements this restriction: ... the voter denies
  // its vote if its own log is more up-to-date than that of the candidate.
  // ... If the logs have last entries with different terms, then the log
  // with the later term is more up-to-date. If the logs end with the same
  // term, then whichever log is longer is more up-to-date."
  struct row {
    std::uint64_t last_term, last_index;
    bool granted;
  };
  auto r = GENERATE(row{2, 3, true}, row{2, 4, true}, row{3, 1, true},
                    row{2, 2, false}, row{1, 5, false}, row{0, 0, false});
  auto role = GENERATE(from_range(all_roles));
  INFO(to_string(role) << " at term 3 with log ending 2/3; candidate 2 of "
                         "term 4 has last "
                      << r.last_term << "/" << r.last_index);
  role_setup s;
  s.term = 3;
  s.log = make_log({1, 1, 2});
  auto h = make_in_role(role, s);
  auto first = h.step(2, rv(4, 2, lid(r.last_term, r.last_index)));
  auto e = h.ack_all();
  CHECK(transcript(first)
        == lines{line(batch(hs(4, r.granted ? 2 : 0), 0, {}, lid(2, 3)))});
  auto reply = r.granted ? "1->2 request_vote_reply term=4 granted=true"
                         : "1->2 request_vote_reply term=4 granted=false";
  CHECK(e.transcript() == lines{reply});
  CHECK(h->role() == raft::role::follower);
  CHECK(h->voted_for() == (r.granted ? 2_s : no_server));
}
