// 6.5840 (2023) Lab 2A, leader election: src/raft/test_test.go ported step
// by step onto raft::testing::cluster (docs/architecture.md §8.9). Same
// steps, same numbers, same checks; RaftElectionTimeout is 1000 ms. Each
// body runs once per seed (for_each_run: make_config, begin, body, end).
#include <catch2/catch.hpp>

#include <chrono>
#include <iostream>
#include <string>

#include "tests/ported/ported.hpp"

using namespace raft::testing::ported;

namespace {

void initial_election(cluster& cfg) {
  // is a leader elected?
  cfg.check_one_leader();
  // sleep a bit to avoid racing with followers learning of the
  // election, then check that all peers agree on the term.
  cfg.sleep(50ms);
  auto term1 = cfg.check_terms();
  if (term1 < 1)
    cfg.fail("term is " + std::to_string(term1) + ", but should be at least 1");
  // does the leader+term stay the same if there is no network failure?
  cfg.sleep(2 * raft_election_timeout);
  auto term2 = cfg.check_terms();
  if (term1 != term2)
    std::cout << "warning: term changed even though there were no failures"
              << std::endl;
  // there should still be a leader.
  cfg.check_one_leader();
}

void re_election(cluster& cfg) {
  const int servers = cfg.servers();
  auto leader1 = cfg.check_one_leader();
  // if the leader disconnects, a new one should be elected.
  cfg.disconnect(leader1);
  cfg.check_one_leader();
  // if the old leader rejoins, that shouldn't
  // disturb the new leader. and the old leader
  // should switch to follower.
  cfg.connect(leader1);
  auto leader2 = cfg.check_one_leader();
  // if there's no quorum, no new leader should
  // be elected.
  cfg.disconnect(leader2);
  cfg.disconnect((leader2 + 1) % servers);
  cfg.sleep(2 * raft_election_timeout);
  // check that the one connected server
  // does not think it is the leader.
  cfg.check_no_leader();
  // if a quorum arises, it should elect a leader.
  cfg.connect((leader2 + 1) % servers);
  cfg.check_one_leader();
  // re-join of last node shouldn't prevent leader from existing.
  cfg.connect(leader2);
  cfg.check_one_leader();
}

void many_elections(cluster& cfg) {
  const int servers = cfg.servers();
  cfg.check_one_leader();
  constexpr int iters = 10;
  for (int ii = 1; ii < iters; ++ii) {
    // disconnect three nodes
    auto i1 = static_cast<int>(cfg.random() % servers);
    auto i2 = static_cast<int>(cfg.random() % servers);
    auto i3 = static_cast<int>(cfg.random() % servers);
    cfg.disconnect(i1);
    cfg.disconnect(i2);
    cfg.disconnect(i3);
    // either the current leader should still be alive,
    // or the remaining four should elect a new one.
    cfg.check_one_leader();
    cfg.connect(i1);
    cfg.connect(i2);
    cfg.connect(i3);
  }
  cfg.check_one_leader();
}

} // namespace

TEST_CASE("TestInitialElection2A: initial election", "[2A]") {
  for_each_run("Test (2A): initial election", 3, false, initial_election);
}

TEST_CASE("TestReElection2A: election after network failure", "[2A]") {
  for_each_run("Test (2A): election after network failure", 3, false,
               re_election);
}

TEST_CASE("TestManyElections2A: multiple elections", "[2A]") {
  for_each_run("Test (2A): multiple elections", 7, false, many_elections);
}
