// 6.5840 (2023) Lab 2D, log compaction: src/raft/test_test.go ported step
// by step onto raft::testing::cluster (docs/architecture.md §8.9). Same
// steps, same numbers, same checks; every instance (make_config and each
// start1) applies with the snapshotting applier (config.go applierSnap,
// SnapShotInterval = 10; raft::testing::snapshot_applier). Go commands are
// rand.Int(); ours are their decimal strings from the run's seeded RNG.
// crash1(i) is cfg.crash(i), start1(i, applierSnap) is cfg.restart(i) on a
// cluster made with snapshots = true.
//
// Each body runs once per seed (for_each_run: make_config, begin, body, end).
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/ported/ported.hpp"

using raft::testing::cluster_options;
using namespace raft::testing::ported;

namespace {

/// config.go SnapShotInterval.
constexpr std::uint64_t snapshot_interval = 10;

// MAXLOGSIZE. Go: 2000 bytes of RaftStateSize(), the labgob (gob) encoding
// of the student's hard state and log. The 2D commands are rand.Int(): gob
// writes one log entry {Command interface{}; Term int} in about 20 bytes
// (field deltas 2, interface type name "int" 4, type id 1, length 1, the
// value as a zig-zag uint up to 9 plus its delta 1, the term 1-2, end of
// struct 1), after about 100 bytes of hard state and gob type descriptors.
// So Go's bound is about (2000 - 100) / 20 = 95 entries: it fails a Raft
// that does not compact (12-20 new entries per iteration) within a few
// iterations, and lets one that compacts at every tenth index pass with
// room for the entries in flight and snapshots not yet durable.
//
// Ours keeps the same number of entries. log_size() is
// store::raft_state_size() (hard state + log, never the snapshot); our
// commands are decimal rand.Int()s, at most 19 digits:
// - memory_store: 32 bytes of header + per entry 21 bytes (term 8, index 8,
//   kind 1, length 4) + the command: <= 40 bytes an entry, so
//   32 + 95 * 40 = 3832 bytes;
// - disk_store: 52 bytes of HARDSTATE + per entry an 8-byte record frame +
//   its boost payload (class info 5, term 8, index 8, kind 1, length 8) +
//   the command: <= 57 bytes an entry, so 52 + 95 * 57 = 5467 bytes.
// Measured (200 simulated seeds per store, and real time): the largest
// state these tests see is 9 entries, 392 bytes in memory, 565 on disk --
// snapshots are taken at the end of the applied batch, so at most 9
// applied entries stay uncompacted. An applier that never offers a
// snapshot fails the five snapcommon tests with about 4000+ bytes.
constexpr std::uint64_t max_log_entries = 95;

std::size_t max_log_size(const cluster& cfg) {
  if (cfg.storage() == raft::testing::storage_kind::disk)
    return 52 + max_log_entries * (8 + 30 + 19);
  return 32 + max_log_entries * (21 + 19);
}

/// snapcommon(t, name, disconnect, reliable, crash).
void snap_common(cluster& cfg, bool disconnect, bool crash) {
  const int iters = 30;
  const int servers = cfg.servers();
  cfg.one(rand_cmd(cfg), servers, true);
  auto leader1 = cfg.check_one_leader();
  for (int i = 0; i < iters; ++i) {
    auto victim = (leader1 + 1) % servers;
    auto sender = leader1;
    if (i % 3 == 1) {
      sender = (leader1 + 1) % servers;
      victim = leader1;
    }
    if (disconnect) {
      cfg.disconnect(victim);
      cfg.one(rand_cmd(cfg), servers - 1, true);
    }
    if (crash) {
      cfg.crash(victim);
      cfg.one(rand_cmd(cfg), servers - 1, true);
    }
    // perhaps send enough to get a snapshot
    auto nn = (snapshot_interval / 2) + (cfg.random() % snapshot_interval);
    for (std::uint64_t k = 0; k < nn; ++k)
      cfg.start(sender, rand_cmd(cfg));
    // let applier threads catch up with the Start()'s
    if (!disconnect && !crash) {
      // make sure all followers have caught up, so that an InstallSnapshot
      // RPC isn't required for TestSnapshotBasic2D().
      cfg.one(rand_cmd(cfg), servers, true);
    } else {
      cfg.one(rand_cmd(cfg), servers - 1, true);
    }
    auto size = cfg.log_size();
    if (size >= max_log_size(cfg))
      cfg.fail("Log size too large (" + to_string(size) + " >= "
               + to_string(max_log_size(cfg)) + " bytes)");
    // RAFT_2D_LOGSIZE=1: print every checked size (to re-measure the bound).
    if (std::getenv("RAFT_2D_LOGSIZE"))
      std::printf("  log size %zu\n", size);
    cfg.passed("log size");
    if (disconnect) {
      // reconnect a follower, who maybe behind and needs to receive a
      // snapshot to catch up.
      cfg.connect(victim);
      cfg.one(rand_cmd(cfg), servers, true);
      leader1 = cfg.check_one_leader();
    }
    if (crash) {
      cfg.restart(victim);
      cfg.connect(victim);
      cfg.one(rand_cmd(cfg), servers, true);
      leader1 = cfg.check_one_leader();
    }
  }
}

/// make_config(t, servers, unreliable, true).
cluster_options snap_config(int servers, bool unreliable) {
  cluster_options o;
  o.servers = servers;
  o.unreliable = unreliable;
  o.snapshots = true;
  return o;
}

void crash_all_restart_all(cluster& cfg) {
  const int servers = cfg.servers();
  // crash all
  for (int i = 0; i < servers; ++i)
    cfg.crash(i);
  // revive all
  for (int i = 0; i < servers; ++i) {
    cfg.restart(i);
    cfg.connect(i);
  }
}

void snapshot_all_crash(cluster& cfg) {
  const int servers = cfg.servers();
  const int iters = 5;
  cfg.one(rand_cmd(cfg), servers, true);
  for (int i = 0; i < iters; ++i) {
    // perhaps enough to get a snapshot
    auto nn = (snapshot_interval / 2) + (cfg.random() % snapshot_interval);
    for (std::uint64_t k = 0; k < nn; ++k)
      cfg.one(rand_cmd(cfg), servers, true);
    auto index1 = cfg.one(rand_cmd(cfg), servers, true);
    crash_all_restart_all(cfg);
    auto index2 = cfg.one(rand_cmd(cfg), servers, true);
    if (index2 < index1 + 1)
      cfg.fail("index decreased from " + to_string(index1) + " to "
               + to_string(index2));
    cfg.passed("index2 >= index1 + 1");
  }
}

void snapshot_init(cluster& cfg) {
  const int servers = cfg.servers();
  cfg.one(rand_cmd(cfg), servers, true);
  // enough ops to make a snapshot
  auto nn = snapshot_interval + 1;
  for (std::uint64_t k = 0; k < nn; ++k)
    cfg.one(rand_cmd(cfg), servers, true);
  crash_all_restart_all(cfg);
  // a single op, to get something to be written back to persistent storage.
  cfg.one(rand_cmd(cfg), servers, true);
  crash_all_restart_all(cfg);
  // do another op to trigger potential bug
  cfg.one(rand_cmd(cfg), servers, true);
}

} // namespace

TEST_CASE("TestSnapshotBasic2D: snapshots basic", "[2D]") {
  for_each_run("Test (2D): snapshots basic", snap_config(3, false),
               [](cluster& cfg) { snap_common(cfg, false, false); });
}

TEST_CASE("TestSnapshotInstall2D: install snapshots (disconnect)", "[2D]") {
  for_each_run("Test (2D): install snapshots (disconnect)",
               snap_config(3, false),
               [](cluster& cfg) { snap_common(cfg, true, false); });
}

TEST_CASE("TestSnapshotInstallUnreliable2D: install snapshots "
          "(disconnect+unreliable)",
          "[2D]") {
  for_each_run("Test (2D): install snapshots (disconnect+unreliable)",
               snap_config(3, true),
               [](cluster& cfg) { snap_common(cfg, true, false); });
}

TEST_CASE("TestSnapshotInstallCrash2D: install snapshots (crash)", "[2D]") {
  for_each_run("Test (2D): install snapshots (crash)", snap_config(3, false),
               [](cluster& cfg) { snap_common(cfg, false, true); });
}

TEST_CASE("TestSnapshotInstallUnCrash2D: install snapshots "
          "(unreliable+crash)",
          "[2D]") {
  for_each_run("Test (2D): install snapshots (unreliable+crash)",
               snap_config(3, true),
               [](cluster& cfg) { snap_common(cfg, false, true); });
}

TEST_CASE("TestSnapshotAllCrash2D: crash and restart all servers", "[2D]") {
  for_each_run("Test (2D): crash and restart all servers",
               snap_config(3, false), snapshot_all_crash);
}

TEST_CASE("TestSnapshotInit2D: snapshot initialization after crash",
          "[2D]") {
  for_each_run("Test (2D): snapshot initialization after crash",
               snap_config(3, false), snapshot_init);
}
