// raft::testing::kv_cluster -- the 6.5840 kvraft tester (kvraft config.go,
// docs/architecture.md §8.8) on top of raft::testing::cluster: N nodes running
// kv_state_machine (max_raft_state as kvraft's maxraftstate), clerks that
// are real kv::client_actors talking through a simulated client network
// (kv_network.hpp), partitions, crash and restart of servers, and a
// history of every recorded clerk operation for the linearizability
// checker (tests/kit/linearizability).
//
// Clerks block like Go's: a call returns once the client actor has an
// answer; meanwhile the cluster's time passes in 5 ms sleeps (virtual time
// in simulated mode, so concurrent clerks run as goroutines.hpp tasks).
// A call that takes more than 120 s (the 6.5840 test limit) fails the test.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/kv/kv_command.hpp"
#include "tests/kit/cluster.hpp"
#include "tests/kit/linearizability/history.hpp"

namespace raft::testing {

struct kv_cluster_options {
  int servers = 3;
  bool unreliable = false;
  /// kvraft maxraftstate: snapshot once the persisted Raft state reaches
  /// this many bytes; -1: never.
  std::int64_t max_raft_state = -1;
  /// Gets with ReadIndex (kv_options::read_index; the nodes then append a
  /// no-op on election) instead of through the log.
  bool read_index = false;
  clock_mode clock = clock_mode::simulated;
  storage_kind storage = storage_kind::memory;
  std::uint64_t seed = 0;
};

class kv_cluster;

/// One client (kvraft's Clerk): its own session and its own endpoint to
/// every server.
class clerk {
public:
  /// kvraft Get: the value, "" when the key is absent.
  std::string get(const std::string& key);
  void put(const std::string& key, const std::string& value);
  void append(const std::string& key, const std::string& value);
  /// Any command, answered with the service's reply (not recorded).
  kv::reply call(kv::command cmd);
  /// Whether this clerk's operations go into the cluster's history.
  void set_recording(bool on) { recording_ = on; }
  int id() const { return id_; }

private:
  friend class kv_cluster;
  clerk(kv_cluster& owner, int id, caf::actor client)
    : owner_(owner), id_(id), client_(std::move(client)) {
  }
  /// Runs `cmd`, recording it as `in` when recording.
  kv::reply run(kv::command cmd, const lin::kv_input& in);
  /// Runs `kind` on `key` (with `value`, if any) as run() does, and fails
  /// the test when the service answers with an error.
  kv::reply run_ok(kv::op kind, const std::string& key,
                   const std::string& value, const lin::kv_input& in);

  kv_cluster& owner_;
  int id_;
  caf::actor client_;
  bool recording_ = true;
};

class kv_cluster {
public:
  explicit kv_cluster(kv_cluster_options opts);
  ~kv_cluster();
  kv_cluster(const kv_cluster&) = delete;
  kv_cluster& operator=(const kv_cluster&) = delete;

  /// The Raft tester underneath (sleep, check_one_leader, statistics ...).
  cluster& raft() { return raft_; }
  int servers() const { return raft_.servers(); }
  /// 0..n-1.
  std::vector<int> all() const;

  // -- clients ----------------------------------------------------------------
  /// makeClient(to): a new clerk reaching the servers in `to`. Owned here.
  clerk& make_client(const std::vector<int>& to);
  clerk& make_client() { return make_client(all()); }
  /// ConnectClient: from now on `ck` reaches exactly the servers in `to`.
  void connect_client(clerk& ck, const std::vector<int>& to);

  // -- servers -----------------------------------------------------------------
  /// ShutdownServer: crash server i (its persisted state survives).
  void shutdown_server(int i);
  /// StartServer: a new instance from the persisted state, connected
  /// (links as the current partition says).
  void start_server(int i);
  /// partition(p1, p2): links only inside each group.
  void partition(const std::vector<int>& p1, const std::vector<int>& p2);
  /// ConnectAll: every server in one group, connected.
  void connect_all();
  /// make_partition: {majority without the leader, minority with it}.
  std::pair<std::vector<int>, std::vector<int>> make_partition();
  void set_unreliable(bool unreliable);

  // -- statistics ----------------------------------------------------------------
  std::size_t log_size() const { return raft_.log_size(); }
  std::size_t snapshot_size() const { return raft_.snapshot_size(); }

  // -- history -------------------------------------------------------------------
  lin::history_recorder& history() { return history_; }
  /// Nanoseconds since the cluster started, on its clock.
  std::int64_t now_ns() const;
  /// Checks the recorded history (budget: 1 s of wall time per 1000 ops, at
  /// least 1 s). Illegal: writes an HTML file and fails with its path.
  /// Unknown (budget exceeded): prints a note and passes, as 6.5840 does.
  void check_linearizable();

private:
  friend class clerk;
  void register_server(int i);

  kv_cluster_options opts_;
  cluster raft_;
  caf::actor net_;
  std::vector<std::unique_ptr<clerk>> clerks_;
  /// Every endpoint actor spawned (killed at the end).
  std::vector<caf::actor> endpoints_;
  lin::history_recorder history_;
};

} // namespace raft::testing
