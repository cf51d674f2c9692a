// 6.5840 (2023) Lab 3A, the fault-tolerant KV service without snapshots:
// src/kvraft/test_test.go ported onto raft::testing::kv_cluster
// (docs/architecture.md §8.9). Same steps and numbers; every recorded history
// goes through the linearizability checker. TestSpeed3A keeps its meaning
// -- operations complete faster than one per heartbeat interval, i.e. the
// service does not wait for a heartbeat to commit -- measured on the
// cluster's clock (virtual time in simulated mode); wall-clock speed is the
// benchmark's business.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "tests/kit/goroutines.hpp"
#include "tests/kit/kv/kv_run.hpp"
#include "tests/ported_kv/generic_test.hpp"

using namespace raft::kv_test;
using raft::testing::for_each_kv_run;
using raft::testing::goroutines;

TEST_CASE("TestBasic3A: one client", "[realtime-subset]") {
  generic("Test: one client (3A)", 5, {1});
}

TEST_CASE("TestSpeed3A: ops complete fast enough", "[realtime-subset]") {
  for_each_kv_run("Test: ops complete fast enough (3A)", shape(3, false),
                  [](kv_cluster& cfg) { generic_test_speed(cfg); });
}

TEST_CASE("TestConcurrent3A: many clients", "[realtime-subset]") {
  generic("Test: many clients (3A)", 5, {5});
}

TEST_CASE("TestUnreliable3A: unreliable net and many clients") {
  generic("Test: unreliable net, many clients (3A)", 5, {5, true});
}

TEST_CASE("TestUnreliableOneKey3A: concurrent append to same key") {
  for_each_kv_run(
    "Test: concurrent append to same key, unreliable (3A)", shape(3, true),
    [](kv_cluster& cfg) {
      auto& ck = cfg.make_client();
      ck.put("k", "");
      const int nclient = 5;
      const int upto = 10;
      {
        goroutines gs{cfg.raft()};
        for (int me = 0; me < nclient; ++me)
          gs.go([&cfg, me] {
            auto& myck = cfg.make_client();
            for (int n = 0; n < upto; ++n)
              myck.append("k", append_value(me, n));
          });
        gs.wait_all();
      }
      auto vx = ck.get("k");
      for (int me = 0; me < nclient; ++me)
        check_clnt_appends(cfg, me, vx, upto);
      cfg.check_linearizable();
    });
}

// Submit a request in the minority partition and check that the requests
// don't go through until the partition heals. The leader in the original
// network ends up in the minority partition.
TEST_CASE("TestOnePartition3A: progress in majority", "[realtime-subset]") {
  for_each_kv_run(
    "Test: progress in majority (3A)", shape(5, false), [](kv_cluster& cfg) {
      auto& r = cfg.raft();
      auto& ck = cfg.make_client();
      ck.put("1", "13");
      auto [p1, p2] = cfg.make_partition();
      cfg.partition(p1, p2);
      auto& ckp1 = cfg.make_client(p1);  // connect ckp1 to p1
      auto& ckp2a = cfg.make_client(p2); // connect ckp2a to p2
      auto& ckp2b = cfg.make_client(p2); // connect ckp2b to p2
      ckp1.put("1", "14");
      if (ckp1.get("1") != "14")
        r.fail("Progress in majority: wrong value");
      r.passed("progress in majority");
      // No progress in minority.
      bool done0 = false;
      bool done1 = false;
      goroutines gs{r};
      gs.go([&] {
        ckp2a.put("1", "15");
        done0 = true;
      });
      gs.go([&] {
        ckp2b.get("1"); // different clerk in p2
        done1 = true;
      });
      r.sleep(std::chrono::seconds{1});
      if (done0)
        r.fail("Put in minority completed");
      if (done1)
        r.fail("Get in minority completed");
      r.passed("no progress in minority");
      if (ckp1.get("1") != "14")
        r.fail("wrong value in majority");
      ckp1.put("1", "16");
      if (ckp1.get("1") != "16")
        r.fail("wrong value in majority");
      // Completion after heal.
      cfg.connect_all();
      cfg.connect_client(ckp2a, cfg.all());
      cfg.connect_client(ckp2b, cfg.all());
      r.sleep(election_timeout);
      auto deadline = r.now() + std::chrono::seconds{3};
      while (!(done0 && done1) && r.now() < deadline)
        r.sleep(std::chrono::milliseconds{10});
      if (!done0)
        r.fail("Put did not complete");
      if (!done1)
        r.fail("Get did not complete");
      gs.wait_all();
      r.passed("completion after heal");
      if (ck.get("1") != "15")
        r.fail("wrong final value");
      cfg.check_linearizable();
    });
}

TEST_CASE("TestManyPartitionsOneClient3A: partitions one client") {
  generic("Test: partitions, one client (3A)", 5, {1, false, false, true});
}

TEST_CASE("TestManyPartitionsManyClients3A: partitions many clients") {
  generic("Test: partitions, many clients (3A)", 5, {5, false, false, true});
}

TEST_CASE("TestPersistOneClient3A: restarts one client") {
  generic("Test: restarts, one client (3A)", 5, {1, false, true});
}

TEST_CASE("TestPersistConcurrent3A: restarts many clients", "[realtime-subset]") {
  generic("Test: restarts, many clients (3A)", 5, {5, false, true});
}

TEST_CASE("TestPersistConcurrentUnreliable3A: unreliable net restarts "
          "many clients") {
  generic("Test: unreliable net, restarts, many clients (3A)", 5,
          {5, true, true});
}

TEST_CASE("TestPersistPartition3A: restarts partitions many clients") {
  generic("Test: restarts, partitions, many clients (3A)", 5,
          {5, false, true, true});
}

TEST_CASE("TestPersistPartitionUnreliable3A: unreliable net restarts "
          "partitions many clients") {
  generic("Test: unreliable net, restarts, partitions, many clients (3A)", 5,
          {5, true, true, true});
}

TEST_CASE("TestPersistPartitionUnreliableLinearizable3A: unreliable net "
          "restarts partitions random keys many clients") {
  generic("Test: unreliable net, restarts, partitions, random keys, many "
          "clients (3A)",
          7, {15, true, true, true, -1, true});
}

// The same tests with gets answered by ReadIndex (Raft thesis §6.4) instead
// of through the log: the histories must stay linearizable.
TEST_CASE("TestConcurrent3A: many clients ReadIndex reads") {
  generic_shape s{5};
  s.read_index = true;
  generic("Test: many clients, ReadIndex reads (3A)", 5, s);
}

TEST_CASE("TestPersistPartitionUnreliableLinearizable3A: unreliable net "
          "restarts partitions random keys many clients ReadIndex "
          "reads") {
  generic_shape s{15, true, true, true, -1, true};
  s.read_index = true;
  generic("Test: unreliable net, restarts, partitions, random keys, many "
          "clients, ReadIndex reads (3A)",
          7, s);
}
