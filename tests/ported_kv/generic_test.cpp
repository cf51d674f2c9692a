#include "tests/ported_kv/generic_test.hpp"

#include <memory>
#include <vector>

#include "tests/kit/goroutines.hpp"
#include "tests/kit/kv/kv_run.hpp"

namespace raft::kv_test {

using raft::testing::goroutines;

kv_cluster_options shape(int servers, bool unreliable,
                         std::int64_t max_raft_state) {
  kv_cluster_options o;
  o.servers = servers;
  o.unreliable = unreliable;
  o.max_raft_state = max_raft_state;
  return o;
}

void generic(const char* desc, int nservers, const generic_shape& s) {
  auto o = shape(nservers, s.unreliable, s.max_raft_state);
  o.read_index = s.read_index;
  testing::for_each_kv_run(desc, o,
                           [&](kv_cluster& cfg) { generic_test(cfg, s); });
}

std::string append_value(int clnt, int j) {
  return "x " + std::to_string(clnt) + " " + std::to_string(j) + " y";
}

void check_clnt_appends(kv_cluster& cfg, int clnt, const std::string& v,
                        int count) {
  std::string::size_type lastoff = std::string::npos;
  for (int j = 0; j < count; ++j) {
    auto wanted = append_value(clnt, j);
    auto off = v.find(wanted);
    if (off == std::string::npos)
      cfg.raft().fail(std::to_string(clnt) + " missing element " + wanted
                      + " in Append result " + v);
    auto off1 = v.rfind(wanted);
    if (off1 != off)
      cfg.raft().fail("duplicate element " + wanted + " in Append result");
    if (lastoff != std::string::npos && off <= lastoff)
      cfg.raft().fail("wrong order for element " + wanted
                      + " in Append result");
    lastoff = off;
  }
  cfg.raft().passed("client appends exactly once, in order");
}

namespace {

/// partitioner: every electionTimeout + 0-199 ms, each server goes to one
/// of two groups at random, until `done`.
void partitioner(kv_cluster& cfg, const bool& done) {
  auto& r = cfg.raft();
  while (!done) {
    std::vector<int> a, b;
    for (int i = 0; i < cfg.servers(); ++i)
      (r.random() % 2 == 0 ? a : b).push_back(i);
    cfg.partition(a, b);
    r.sleep(election_timeout
            + std::chrono::milliseconds{r.random() % 200});
  }
}

} // namespace

void generic_test(kv_cluster& cfg, const generic_shape& s) {
  auto& r = cfg.raft();
  const int nservers = cfg.servers();
  auto& ck = cfg.make_client();
  for (int round = 0; round < 3; ++round) {
    bool done_clients = false;
    bool done_partitioner = false;
    // Appends each client made this round (clnts[i] in Go).
    std::vector<int> counts(static_cast<std::size_t>(s.clients), -1);
    goroutines gs{r};
    for (int cli = 0; cli < s.clients; ++cli) {
      gs.go([&, cli] {
        auto& myck = cfg.make_client();
        int j = 0;
        std::string last;
        auto key = std::to_string(cli);
        if (!s.random_keys)
          myck.put(key, last);
        while (!done_clients) {
          if (s.random_keys)
            key = std::to_string(r.random()
                                 % static_cast<std::uint64_t>(s.clients));
          auto nv = append_value(cli, j);
          if (r.random() % 1000 < 500) {
            myck.append(key, nv);
            if (!s.random_keys)
              last += nv;
            ++j;
          } else if (s.random_keys && r.random() % 1000 < 100) {
            myck.put(key, nv);
            ++j;
          } else {
            auto v = myck.get(key);
            if (!s.random_keys && v != last)
              r.fail("get wrong value, key " + key + ", wanted:\n" + last
                     + "\n, got\n" + v);
          }
        }
        counts[static_cast<std::size_t>(cli)] = j;
      });
    }
    if (s.partitions) {
      // Allow the clients to perform some operations without interruption.
      r.sleep(std::chrono::seconds{1});
      gs.go([&] { partitioner(cfg, done_partitioner); });
    }
    r.sleep(std::chrono::seconds{5});
    done_clients = true;     // tell clients to quit
    done_partitioner = true; // tell partitioner to quit
    if (s.partitions) {
      // The partitioner ends within one partition interval; then heal and
      // let a leader emerge (Go waits for partitioner() to return first).
      r.sleep(election_timeout + std::chrono::milliseconds{200});
      cfg.connect_all();
      r.sleep(election_timeout);
    }
    if (s.crash) {
      for (int i = 0; i < nservers; ++i)
        cfg.shutdown_server(i);
      // Wait for a while for servers to shutdown, since shutdown isn't a
      // real crash and isn't instantaneous.
      r.sleep(election_timeout);
      for (int i = 0; i < nservers; ++i)
        cfg.start_server(i);
      cfg.connect_all();
    }
    gs.wait_all();
    for (int cli = 0; cli < s.clients; ++cli) {
      auto j = counts[static_cast<std::size_t>(cli)];
      if (!s.random_keys) {
        auto key = std::to_string(cli);
        auto v = ck.get(key);
        check_clnt_appends(cfg, cli, v, j);
      }
    }
    if (s.max_raft_state > 0) {
      // Check maximum after the servers have processed all client
      // requests and had time to checkpoint.
      auto sz = cfg.log_size();
      if (sz > 8 * static_cast<std::size_t>(s.max_raft_state))
        r.fail("logs were not trimmed (" + std::to_string(sz) + " > 8*"
               + std::to_string(s.max_raft_state) + ")");
      r.passed("log trimmed to 8 x max_raft_state");
    }
    if (s.max_raft_state < 0) {
      auto ssz = cfg.snapshot_size();
      if (ssz > 0)
        r.fail("snapshot too large (" + std::to_string(ssz)
               + "), should not be used when maxraftstate = "
               + std::to_string(s.max_raft_state));
      r.passed("no snapshot without max_raft_state");
    }
  }
  cfg.check_linearizable();
}

/// GenericTestSpeed: 1000 sequential appends, each faster than a third of
/// a heartbeat interval (Go: 100 ms / 3) on average.
void generic_test_speed(kv_cluster& cfg) {
  auto& r = cfg.raft();
  auto& ck = cfg.make_client();
  // Wait until the first op completes, so we know a leader is elected.
  ck.get("x");
  const int num_ops = 1000;
  auto start = r.now();
  for (int i = 0; i < num_ops; ++i)
    ck.append("x", "x 0 " + std::to_string(i) + " y");
  auto dur = r.now() - start;
  auto v = ck.get("x");
  check_clnt_appends(cfg, 0, v, num_ops);
  // Heartbeat interval should be ~100 ms; require at least 3 ops per.
  auto limit = std::chrono::milliseconds{100} * num_ops / 3;
  if (dur > limit)
    r.fail("Operations completed too slowly "
           + std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(dur)
               .count()
             / num_ops)
           + " ms/op > 33 ms/op");
  r.passed("faster than one op per heartbeat interval");
  cfg.check_linearizable();
}

} // namespace raft::kv_test
