// Randomized, seeded simulations of whole clusters of core::node
// (docs/architecture.md §8.2). Every input is followed by the single-node
// invariants, the durability check on outgoing messages and the cluster
// safety checks; every run ends by healing all faults and requiring a new
// command to reach every server.
//
// Each failure prints its seed and how to replay it alone:
//   RAFT_SEED=<seed> ./build/tests/core/test_core '<test case name>'
// A replayed seed also prints the last events before the violation.
// RAFT_SIM_STATS=1 prints each scenario's totals (elections, crashes, lost
// writes, truncations, drops, committed entries), with -s.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "tests/core/sim/sim_cluster.hpp"
#include "tests/support/run_options.hpp"

using namespace raft;

namespace {

struct totals {
  std::size_t seeds = 0;
  std::uint64_t inputs = 0;
  std::uint64_t crashes = 0;
  std::uint64_t lost_writes = 0;
  std::uint64_t truncations = 0;
  std::uint64_t elections = 0;
  std::uint64_t dropped = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t committed = 0;
  std::uint64_t snapshots_taken = 0;
  std::uint64_t snapshot_chunks = 0;
  std::uint64_t snapshots_installed = 0;
  std::uint64_t reads_ready = 0;
  std::uint64_t reads_failed = 0;
};

/// Runs `sc` for every seed of this run (at least `at_least`); reports up to
/// three failing seeds in full (re-run with the event trace).
totals run_seeds(const sim::scenario& sc, std::uint64_t at_least) {
  const auto& opts = testing::run_options::global();
  auto seeds = opts.seed_list(at_least);
  bool replay = opts.seed.has_value();
  auto test_name = Catch::getResultCapture().getCurrentTestName();
  totals t;
  int failures = 0;
  for (auto seed : seeds) {
    auto r = sim::run_scenario(sc, seed, replay);
    ++t.seeds;
    t.inputs += r.stats.inputs;
    t.crashes += r.stats.crashes;
    t.lost_writes += r.stats.lost_writes;
    t.truncations += r.stats.truncations;
    t.elections += r.stats.elections_won;
    t.dropped += r.net.dropped;
    t.duplicated += r.net.duplicated;
    t.committed += r.committed.value;
    t.snapshots_taken += r.stats.snapshots_taken;
    t.snapshot_chunks += r.stats.snapshot_chunks;
    t.snapshots_installed += r.stats.snapshots_installed;
    t.reads_ready += r.stats.reads_ready;
    t.reads_failed += r.stats.reads_failed;
    if (!r.ok) {
      auto shown = replay ? r : sim::run_scenario(sc, seed, true);
      FAIL_CHECK(shown.report
                 << testing::run_options::replay_hint(seed, test_name));
      if (++failures == 3)
        break;
    }
  }
  INFO(t.seeds << " seeds, " << t.inputs << " inputs, " << t.elections
               << " elections, " << t.crashes << " crashes, "
               << t.lost_writes << " lost writes, " << t.truncations
               << " truncations, " << t.dropped << " drops, " << t.committed
               << " committed entries, " << t.snapshots_taken
               << " snapshots taken, " << t.snapshot_chunks
               << " snapshot chunks sent, " << t.snapshots_installed
               << " snapshots installed, " << t.reads_ready
               << " reads confirmed, " << t.reads_failed << " reads failed");
  if (std::getenv("RAFT_SIM_STATS") != nullptr)
    WARN("totals of " << sc.name);
  // Guard against a vacuous run: with many seeds the faults must happen.
  if (t.seeds >= 50) {
    CHECK(t.elections >= t.seeds);
    CHECK(t.committed >= t.seeds);
    if (sc.crashes) {
      CHECK(t.crashes > 0);
      CHECK(t.lost_writes > 0);
    }
    if (sc.partitions || sc.crashes)
      CHECK(t.truncations > 0);
    if (sc.unreliable) {
      CHECK(t.dropped > 0);
      CHECK(t.duplicated > 0);
    }
    if (sc.read_per_mille > 0) {
      CHECK(t.reads_ready >= t.seeds);
      CHECK(t.reads_failed > 0);
    }
    if (sc.snapshot_every > 0) {
      CHECK(t.snapshots_taken >= t.seeds);
      CHECK(t.snapshot_chunks > 0);
      CHECK(t.snapshots_installed > 0);
    }
  }
  return t;
}

/// 3 servers whose leader is partitioned or crashed often, whose disks are
/// slow (acks up to 60 ms late), on an unreliable network that reorders
/// half the time, and whose leader may crash right after a proposal.
sim::scenario slow_disks_crashing_leaders(const char* name) {
  sim::scenario sc;
  sc.name = name;
  sc.servers = 3;
  sc.target_leader = true;
  sc.fault_per_mille = 200;
  sc.max_persist_delay = 60;
  sc.reorder_per_mille = 500;
  sc.unreliable = true;
  sc.crash_after_propose_per_mille = 60;
  return sc;
}

} // namespace

TEST_CASE("sim: 3 servers stay safe under partitions, crashes and "
          "proposals, and recover",
          "[sim][paper-5.2][paper-5.3][paper-5.4]") {
  sim::scenario sc;
  sc.name = "3 servers, partitions + crashes";
  sc.servers = 3;
  run_seeds(sc, 200);
}

TEST_CASE("sim: 5 servers stay safe on an unreliable network with "
          "reordering, duplicates, partitions and crashes",
          "[sim][paper-5.2][paper-5.3][paper-5.4]") {
  sim::scenario sc;
  sc.name = "5 servers, unreliable network";
  sc.servers = 5;
  sc.unreliable = true;
  run_seeds(sc, 200);
}

TEST_CASE("sim: leader churn -- the leader is isolated or crashed again and "
          "again",
          "[sim][paper-5.2][paper-5.4]") {
  sim::scenario sc;
  sc.name = "leader churn";
  sc.servers = 5;
  sc.target_leader = true;
  sc.fault_per_mille = 150;
  run_seeds(sc, 200);
}

TEST_CASE("sim: 3 servers stay safe with slow disks, crashing leaders and "
          "reordering",
          "[sim][durability][paper-5.3][paper-5.4]") {
  auto sc = slow_disks_crashing_leaders("slow disks, crashing leaders");
  run_seeds(sc, 1000); // cheap: its servers are down much of the time
}

TEST_CASE("sim: linearizable reads see every write committed before them "
          "and always end",
          "[sim][thesis-6.4]") {
  // ReadIndex under partitions, crashes, a lossy network and leader churn:
  // a confirmed read's index is at least every index known committed when
  // it was issued (a deposed leader that does not know it yet must not
  // confirm), and every read on a live server ends.
  sim::scenario sc;
  sc.name = "reads, unreliable network, leader churn";
  sc.servers = 5;
  sc.unreliable = true;
  sc.target_leader = true;
  sc.fault_per_mille = 150;
  sc.read_per_mille = 500;
  run_seeds(sc, 200);
}

TEST_CASE("sim: a run is a pure function of its seed", "[sim]") {
  sim::scenario sc;
  sc.name = "determinism";
  sc.servers = 5;
  sc.unreliable = true;
  sc.duration_ms = 1500;
  auto a = sim::run_scenario(sc, 42);
  auto b = sim::run_scenario(sc, 42);
  auto c = sim::run_scenario(sc, 43);
  INFO(a.report);
  CHECK(a.ok);
  CHECK(a.digest == b.digest);
  CHECK(a.stats.inputs == b.stats.inputs);
  CHECK(a.committed == b.committed);
  CHECK(a.digest != c.digest);
}

TEST_CASE("sim: 3 servers that snapshot every few entries stay safe, and "
          "lagging or restarted followers catch up by InstallSnapshot",
          "[sim][paper-7]") {
  sim::scenario sc;
  sc.name = "3 servers, snapshots";
  sc.servers = 3;
  sc.snapshot_every = 8;
  sc.fault_per_mille = 120;
  run_seeds(sc, 200);
}

TEST_CASE("sim: 5 servers that snapshot stay safe on an unreliable network "
          "with partitions, crashes and small snapshot chunks",
          "[sim][paper-7]") {
  sim::scenario sc;
  sc.name = "5 servers, unreliable network, snapshots";
  sc.servers = 5;
  sc.unreliable = true;
  sc.snapshot_every = 5;
  sc.max_chunk = 16;
  sc.reorder_per_mille = 300;
  run_seeds(sc, 200);
}

TEST_CASE("sim: snapshots with slow disks and crashing leaders",
          "[sim][paper-7][durability]") {
  auto sc = slow_disks_crashing_leaders(
    "slow disks, crashing leaders, snapshots");
  sc.snapshot_every = 4;
  sc.max_chunk = 8;
  run_seeds(sc, 500);
}
