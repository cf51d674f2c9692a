// 6.5840 (2023) Lab 3B, the KV service with snapshots (maxraftstate):
// src/kvraft/test_test.go ported onto raft::testing::kv_cluster
// (docs/architecture.md §8.9). The byte bounds (LogSize <= 8 * maxraftstate,
// SnapshotSize <= 500) are kept as they are: our log encoding
// (store::raft_state_size) and KV snapshot encoding (kv_snapshot.hpp) are
// at least as compact as Go's gob for these tests' tiny commands.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "tests/kit/kv/kv_run.hpp"
#include "tests/ported_kv/generic_test.hpp"

using namespace raft::kv_test;
using raft::testing::for_each_kv_run;

namespace {

/// check(cfg, t, ck, key, value).
void check(kv_cluster& cfg, clerk& ck, const std::string& key,
           const std::string& value) {
  auto v = ck.get(key);
  if (v != value)
    cfg.raft().fail("Get(" + key + "): expected:\n" + value + "\nreceived:\n"
                    + v);
}

} // namespace

// Ensure that servers discard old log entries and install snapshots; a
// server that missed them must catch up through InstallSnapshot.
TEST_CASE("TestSnapshotRPC3B: InstallSnapshot RPC", "[realtime-subset]") {
  const std::int64_t maxraftstate = 1000;
  for_each_kv_run(
    "Test: InstallSnapshot RPC (3B)", shape(3, false, maxraftstate),
    [&](kv_cluster& cfg) {
      auto& r = cfg.raft();
      auto& ck = cfg.make_client();
      ck.put("a", "A");
      check(cfg, ck, "a", "A");
      // A bunch of puts into the majority partition.
      cfg.partition({0, 1}, {2});
      {
        auto& ck1 = cfg.make_client({0, 1});
        for (int i = 0; i < 50; ++i)
          ck1.put(std::to_string(i), std::to_string(i));
        r.sleep(election_timeout);
        ck1.put("b", "B");
      }
      // Check that the majority partition has thrown away most of its log
      // entries.
      auto sz = cfg.log_size();
      if (sz > 8 * static_cast<std::size_t>(maxraftstate))
        r.fail("logs were not trimmed (" + std::to_string(sz) + " > 8*"
               + std::to_string(maxraftstate) + ")");
      r.passed("log trimmed in the majority");
      // Now make a group that requires participation of the lagging
      // server, so that it has to catch up.
      cfg.partition({0, 2}, {1});
      {
        auto& ck1 = cfg.make_client({0, 2});
        ck1.put("c", "C");
        ck1.put("d", "D");
        check(cfg, ck1, "a", "A");
        check(cfg, ck1, "b", "B");
        check(cfg, ck1, "1", "1");
        check(cfg, ck1, "49", "49");
      }
      // Now everybody.
      cfg.partition({0, 1, 2}, {});
      ck.put("e", "E");
      check(cfg, ck, "c", "C");
      check(cfg, ck, "e", "E");
      check(cfg, ck, "1", "1");
      cfg.check_linearizable();
    });
}

// Are the snapshots not too huge? 500 bytes is a generous bound for the
// operations we're doing here.
TEST_CASE("TestSnapshotSize3B: snapshot size is reasonable") {
  const std::int64_t maxraftstate = 1000;
  const std::size_t maxsnapshotstate = 500;
  for_each_kv_run(
    "Test: snapshot size is reasonable (3B)", shape(3, false, maxraftstate),
    [&](kv_cluster& cfg) {
      auto& r = cfg.raft();
      auto& ck = cfg.make_client();
      for (int i = 0; i < 200; ++i) {
        ck.put("x", "0");
        check(cfg, ck, "x", "0");
        ck.put("x", "1");
        check(cfg, ck, "x", "1");
      }
      // Check that servers have thrown away most of their log entries.
      auto sz = cfg.log_size();
      if (sz > 8 * static_cast<std::size_t>(maxraftstate))
        r.fail("logs were not trimmed (" + std::to_string(sz) + " > 8*"
               + std::to_string(maxraftstate) + ")");
      // Check that the snapshots are not unreasonably large.
      auto ssz = cfg.snapshot_size();
      if (ssz > maxsnapshotstate)
        r.fail("snapshot too large (" + std::to_string(ssz) + " > "
               + std::to_string(maxsnapshotstate) + ")");
      r.passed("log and snapshot sizes bounded");
      cfg.check_linearizable();
    });
}

TEST_CASE("TestSpeed3B: ops complete fast enough") {
  for_each_kv_run("Test: ops complete fast enough (3B)", shape(3, false, 1000),
                  [](kv_cluster& cfg) { generic_test_speed(cfg); });
}

TEST_CASE("TestSnapshotRecover3B: restarts snapshots one client", "[realtime-subset]") {
  generic("Test: restarts, snapshots, one client (3B)", 5,
          {1, false, true, false, 1000});
}

TEST_CASE("TestSnapshotRecoverManyClients3B: restarts snapshots many "
          "clients") {
  generic("Test: restarts, snapshots, many clients (3B)", 5,
          {20, false, true, false, 1000});
}

TEST_CASE("TestSnapshotUnreliable3B: unreliable net snapshots many "
          "clients") {
  generic("Test: unreliable net, snapshots, many clients (3B)", 5,
          {5, true, false, false, 1000});
}

TEST_CASE("TestSnapshotUnreliableRecover3B: unreliable net restarts "
          "snapshots many clients") {
  generic("Test: unreliable net, restarts, snapshots, many clients (3B)", 5,
          {5, true, true, false, 1000});
}

TEST_CASE("TestSnapshotUnreliableRecoverConcurrentPartition3B: unreliable "
          "net restarts partitions snapshots many clients") {
  generic("Test: unreliable net, restarts, partitions, snapshots, many "
          "clients (3B)",
          5, {5, true, true, true, 1000});
}

TEST_CASE("TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable3B: "
          "unreliable net restarts partitions snapshots random keys "
          "many clients") {
  generic("Test: unreliable net, restarts, partitions, snapshots, random "
          "keys, many clients (3B)",
          7, {15, true, true, true, 1000, true});
}

TEST_CASE("TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable3B: "
          "unreliable net restarts partitions snapshots random keys "
          "many clients ReadIndex reads") {
  generic_shape s{15, true, true, true, 1000, true};
  s.read_index = true;
  generic("Test: unreliable net, restarts, partitions, snapshots, random "
          "keys, many clients, ReadIndex reads (3B)",
          7, s);
}
