// raft-demo --mode kv: the client side of the KV demo. kv_workload runs the
// client threads (actors/kv_client blocking clients, a random mix of get,
// append, put and cas over three shared keys), records every operation in a
// lin::history_recorder, and counts what the clients did per phase
// (phase_stats). It also does the two recorded runs of its own: resetting
// the keys before the clients start and reading every key at the end.
//
// The cluster, its phases and the verdict are in raft_demo_kv.cpp; this file
// knows nothing of nodes beyond the endpoints the clients talk to.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/kv/kv_command.hpp"
#include "actors/kv_client/blocking_client.hpp"
#include "apps/raft_demo_cli.hpp"
#include "apps/raft_demo_common.hpp"
#include "tests/kit/linearizability/history.hpp"

namespace raft::demo {

namespace lin = raft::testing::lin;

/// The keys every client works on (shared, so the clients race).
extern const std::array<std::string, 3> kv_demo_keys;

/// What the clients did in one phase.
struct phase_stats {
  /// Operations that ended in the phase (answered or not).
  std::uint64_t ops = 0;
  /// Operations that ended without an answer (deadline, stopped client):
  /// recorded with unknown outcome.
  std::uint64_t errors = 0;
  /// Client attempts beyond the first (leader changes, dead servers).
  std::uint64_t retries = 0;
  /// The longest time one operation took (call to answer).
  std::chrono::nanoseconds slowest{0};
  /// How long the phase lasted (set when it ends).
  double seconds = 0;
};

/// "N ops, X ops/s, E errors, R retries, slowest M ms".
std::string line_of(const phase_stats& st);

/// `x` with `digits` digits after the point.
std::string fixed(double x, int digits);

/// Final value of every key as read at the end; nullopt for a read that got
/// no answer.
using final_values = std::map<std::string, std::optional<std::string>>;

/// The clients of the KV demo and the history they record. Driven from the
/// main thread (every public member); the client threads it starts touch
/// only its private state, under its own guards.
class kv_workload {
public:
  /// A server the clients may talk to: its id and the actor they send to
  /// (the node's endpoint, which stays the same across restarts).
  using server = std::pair<server_id, caf::actor>;

  /// `tl` gives the time origin of the history (tl->t0) and takes the
  /// workload's own timeline events.
  kv_workload(caf::actor_system& sys, const demo_options& opts,
              std::shared_ptr<timeline> tl, std::vector<server> servers);

  /// Stops the clients (stop()).
  ~kv_workload();

  kv_workload(const kv_workload&) = delete;
  kv_workload& operator=(const kv_workload&) = delete;

  /// Puts every key to "" through a client of its own (recorded): an
  /// earlier run's --data-dir may hold them, and the checker's model starts
  /// from "absent". False when a put got no answer.
  bool reset_keys();

  /// Starts one thread per client (opts.clients), each in client_loop().
  void start();

  /// Tells the client threads to stop and joins them. Idempotent.
  void stop();

  /// Operations that end from now on count in phase `p` (0..2 the demo's
  /// phases, 3 the final reads).
  void set_phase(int p);

  /// Sum of the clients' retries so far (each client actor asked through
  /// `self`, 1 s each; a client that does not answer counts 0).
  std::uint64_t retries(caf::scoped_actor& self);

  /// Closes phase `p`: sets its duration and retries and returns a copy.
  phase_stats close_phase(int p, double seconds, std::uint64_t retries);

  /// A copy of phase `p`'s statistics.
  phase_stats stats_of(int p);

  /// Reads every key through a client of its own (recorded, counted in
  /// phase 3).
  final_values final_reads();

  /// The history so far (lin::history_recorder::operations()).
  std::vector<lin::operation> operations() const;

private:
  /// Options for a client with random stream `seed`, talking to servers_.
  kv::client_options client_options(std::uint64_t seed) const;

  /// Nanoseconds since the timeline's t0 (the history's clock).
  std::int64_t now_ns() const;

  /// Runs `cmd` through `kv` and records it in the history as client `c`,
  /// counting it in the current phase.
  kv::reply recorded(kv::blocking_client& kv, int c, kv::command cmd,
                     lin::kv_input in);

  /// Client `c`'s loop: a random mix of get, append, put and cas over the
  /// shared keys until stop_. Values are unique (client and op number), so
  /// every read points at the writes it saw.
  void client_loop(int c);

  caf::actor_system& sys_;
  demo_options opts_;
  std::shared_ptr<timeline> tl_;
  /// Every node's endpoint, in node order.
  std::vector<server> servers_;

  /// The client threads (main thread only).
  std::vector<std::thread> threads_;
  /// Set to make the client threads finish their loop.
  std::atomic<bool> stop_{false};
  /// Every recorded operation (thread-safe on its own).
  lin::history_recorder history_;
  /// The phase operations are counted in (3: the final reads).
  std::atomic<int> phase_{0};
  /// Guards stats_ and client_actors_.
  std::mutex stats_mtx_;
  /// Per phase; index 3 counts the final reads.
  std::array<phase_stats, 4> stats_;
  /// The actors of the running clients' blocking_clients (for retries()).
  std::vector<caf::actor> client_actors_;
};

} // namespace raft::demo
