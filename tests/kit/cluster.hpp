// raft::testing::cluster -- the 6.5840 Raft tester (config.go) on top of
// caf-raft: N nodes in one actor system behind a simulated network actor
// (network_actor.hpp). The contract is docs/architecture.md §8.4-§8.7; the
// semantics are those of the 6.5840 config.go:
//
// - server numbers are 0..n-1; server i is raft server_id i + 1;
// - crash(i) = disconnect, detach the instance from the network, stop it,
//   and keep only what its store had synced: memory_store::durable_copy(),
//   or with storage_kind::disk disk_store::crash() (unsynced writes dropped,
//   files closed, LOCK released) and a fresh disk_store::open() of the same
//   directory; the old instance can only write into the detached old store;
// - restart(i) = crash(i) if alive, then a new instance on the saved store,
//   registered with the network but NOT connected;
// - the plain applier records every apply in logs[i] with checkLogs
//   semantics; logs[i] survives restarts; apply errors are reported by
//   n_committed(), the other checks and the destructor;
// - with cluster_options::snapshots, every instance applies with the
//   snapshotting applier (applierSnap, apply_log.hpp): lastApplied[i] is
//   reset by start1 and the restarted node restores its persisted snapshot
//   through an apply_msg with snapshot_valid (Go's start1 ingests it
//   itself; the check is the same: the first command must follow it);
// - one(), wait(), check_one_leader(), check_terms(), check_no_leader() and
//   n_committed() follow config.go step by step, with this cluster's
//   sleep() and now(), so they work in both clock modes.
//
// Clock modes:
// - simulated: CAF's test_coordinator. Virtual time only moves in sleep(),
//   which advances the clock timer by timer (each followed by running every
//   runnable actor), so runs are exact and reproducible from the seed. A
//   query (start(), get_state(), ...) takes no virtual time and runs only
//   its destination actor (everything, if that does not answer); what it
//   set in motion happens when time passes, as in Go;
// - real_time: the normal scheduler (2 threads); sleep() really sleeps and
//   queries are blocking requests with a timeout. Each test keeps
//   6.5840's 120 s limit.
//
// Every failure message names the seed and how to replay the run.
//
// Not thread-safe: one test thread drives a cluster (goroutines.hpp runs
// Go's concurrent goroutines on several threads, one at a time).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/node_supervisor.hpp"
#include "messages/client_messages.hpp"
#include "persistence/disk_store.hpp"
#include "persistence/memory_store.hpp"
#include "tests/kit/apply_log.hpp"
#include "tests/kit/network_actor.hpp"

namespace caf::scheduler {
class test_coordinator;
} // namespace caf::scheduler

namespace raft::testing {

enum class clock_mode { simulated, real_time };

/// "simulated" or "real_time" (the spelling of the --clock option).
const char* to_string(clock_mode x);

enum class storage_kind { memory, disk }; // disk: a fresh temp dir per server

struct cluster_options {
  /// Number of servers.
  int servers = 3;
  /// config.go make_config(unreliable): the network drops and delays.
  bool unreliable = false;
  /// Apply with the snapshotting applier (config.go applierSnap: snapshot
  /// every 10 entries; snapshot_applier in apply_log.hpp).
  bool snapshots = false;
  clock_mode clock = clock_mode::simulated;
  storage_kind storage = storage_kind::memory;
  /// 0: pick one from std::random_device; always printed when a check
  /// fails.
  std::uint64_t seed = 0;
  /// A new leader appends an empty entry of its term (thesis §6.4; needed
  /// by ReadIndex reads).
  bool noop_on_election = false;
  /// Optional: the state machine of every instance of server i, instead of
  /// the 6.5840 appliers (the KV kit runs kv_state_machine here). `store`
  /// is the instance's store (e.g. for the raft-state size). With it, the
  /// apply checks of the appliers (n_committed, one, wait) see nothing.
  std::function<std::unique_ptr<actors::state_machine>(
    int server, std::shared_ptr<persistence::store> store)>
    make_state_machine;
};

/// The answer of Start().
struct start_result {
  std::uint64_t index;
  std::uint64_t term;
  bool is_leader;
};

class cluster {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// 6.5840's per-test limit (real-time mode only).
  static constexpr std::chrono::seconds test_time_limit{120};

  /// make_config(n, unreliable): starts and connects every server.
  explicit cluster(cluster_options opts);

  /// cleanup(): stops every node and the network, fails (non-fatally) on
  /// any apply error and, in real-time mode, on the 120 s limit.
  ~cluster();

  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  // -- checks (config.go) -------------------------------------------------------

  /// Up to 10 rounds of sleep(450-549 ms) + GetState of every connected
  /// server; fails on two leaders in one term or when no leader shows up.
  /// Returns the leader of the highest term.
  int check_one_leader();

  /// All connected servers report the same term; returns it.
  std::uint64_t check_terms();

  /// No connected server claims to be leader.
  void check_no_leader();

  /// How many servers applied `index`, and the value they applied (fails
  /// on any apply error and on two different values).
  std::pair<int, std::optional<std::string>> n_committed(std::uint64_t index);

  /// Agreement on `cmd` by at least `expected_servers`; returns its index.
  std::uint64_t one(const std::string& cmd, int expected_servers, bool retry);

  /// Waits until `n` servers applied `index` and returns the applied
  /// command as an integer; -1 when some server's term exceeds
  /// `start_term` (if start_term > -1). Fails when the command is not an
  /// integer (Go: "value is not an int").
  std::int64_t wait(std::uint64_t index, int n, std::int64_t start_term);

  // -- servers ------------------------------------------------------------------

  /// Start(cmd) on `server` (connected or not; must be alive).
  start_result start(int server, const std::string& cmd);

  /// Start(cmds[k]) on `server` for every k, all sent before any answer is
  /// awaited (the "concurrent Start()s" of TestConcurrentStarts2B). The
  /// results are in the order of `cmds`.
  std::vector<start_result> start_all(int server,
                                      const std::vector<std::string>& cmds);

  /// GetState() of `server` (must be alive): {term, is_leader}.
  std::pair<std::uint64_t, bool> get_state(int server);

  /// The peer's full status (must be alive).
  peer_status status(int server);

  /// crash1(i).
  void crash(int server);

  /// start1(i): from the persisted state; not connected.
  void restart(int server);

  void connect(int server);
  void disconnect(int server);
  void set_unreliable(bool unreliable);
  void set_long_reordering(bool long_reordering);

  /// config.go connected[i].
  bool connected(int server) const;
  /// kvraft's partition(p1, p2): every server in p1 or p2 is connected, a
  /// link is enabled only inside a group (servers in neither group are
  /// disconnected). connect()/disconnect() keep the groups; heal() puts
  /// every server back in one group (and connects every server).
  void partition(const std::vector<int>& p1, const std::vector<int>& p2);
  void heal();
  /// The state machine actor of server i's running instance (invalid while
  /// it is crashed): where client requests go.
  caf::actor state_machine(int server) const;
  /// The peer actor of server i's running instance (invalid while it is
  /// crashed).
  caf::actor peer(int server) const;
  /// The actor system (spawning helper actors of a kit built on this one).
  caf::actor_system& system();
  /// Max snapshot bytes over all servers (kvraft SnapshotSize()).
  std::size_t snapshot_size() const;

  /// Whether the server has a running instance (rafts[i] != nil).
  bool alive(int server) const;

  // -- statistics ---------------------------------------------------------------

  std::uint64_t rpc_count(int server) const;
  std::uint64_t rpc_total() const;
  std::uint64_t bytes_total() const;
  /// Max persisted raft-state bytes over all servers (LogSize()): hard
  /// state + log, excluding the snapshot (store::raft_state_size()).
  std::size_t log_size() const;

  // -- time ---------------------------------------------------------------------

  /// Real sleep, or advance virtual time by `d`. While a sleep hook is set
  /// (goroutines.hpp), the hook decides what runs meanwhile.
  void sleep(std::chrono::milliseconds d);

  /// sleep() without the hook: really sleeps, or advances virtual time.
  void pass_time(std::chrono::nanoseconds d);

  /// Routes every sleep() through `hook` (empty: no hook). The hook must
  /// let time pass with pass_time(). Used by goroutines (goroutines.hpp).
  void set_sleep_hook(std::function<void(std::chrono::milliseconds)> hook);

  /// Go's preemption point: with a sleep hook, sleep(0) -- other
  /// goroutines whose time has come run first. start() and status() (so
  /// get_state()) call it after their answer, so a goroutine that never
  /// sleeps cannot starve the others. Without a hook: nothing.
  void yield();

  /// Now, on this cluster's clock (virtual in simulated mode).
  time_point now() const;

  // -- test bookkeeping ---------------------------------------------------------

  /// Prints "desc ..." and starts the statistics of the summary line.
  void begin(const std::string& desc);

  /// Checks the time limit and prints
  /// "  ... Passed --  time  peers  rpcs  bytes  agreements".
  void end();

  int servers() const { return static_cast<int>(slots_.size()); }
  std::uint64_t seed() const { return seed_; }
  clock_mode clock() const { return opts_.clock; }
  storage_kind storage() const { return opts_.storage; }

  /// The test's RNG (Go's rand.Int()): non-negative 63-bit values, seeded
  /// from seed(), so the commands of a run are reproducible.
  std::uint64_t random();

  /// randstring(n): n random base64 characters from the test's RNG.
  std::string random_string(std::size_t n);

  /// Fails the current test with `what`, the seed and how to replay.
  [[noreturn]] void fail(const std::string& what) const;

  /// Records a check that held as a passed Catch2 assertion, so the
  /// assertion counts of a run show how many of the kit's checks ran.
  void passed(const char* check) const;

  /// "seed=S clock=M; replay: RAFT_SEED=S <test binary> --clock M "<test>""
  /// (plus storage=disk / --storage disk with the disk store).
  std::string replay_hint() const;

private:
  /// One server as the tester sees it (config.go rafts[i], saved[i],
  /// connected[i]).
  struct server {
    /// The running instance, if any.
    std::optional<actors::node_handles> node;
    /// Watches node->peer for a failure (peer_watch.hpp); replaced at each
    /// start.
    caf::actor watcher;
    /// The store the current (or next) instance uses: saved[i]. A
    /// memory_store or, with storage_kind::disk, a disk_store.
    std::shared_ptr<persistence::store> store;
    /// storage_kind::disk: the server's data directory.
    std::string dir;
    /// config.go connected[i].
    bool connected = false;
    /// Instances started so far (varies the node's RNG seed per restart).
    std::uint64_t starts = 0;
  };

  /// Opens server i's store: a fresh memory_store, or the disk_store of its
  /// directory (recovering what an earlier instance synced).
  std::shared_ptr<persistence::store> open_store(int i);
  /// storage_kind::disk: creates data_root_ and names each server's dir.
  void make_data_root();
  /// start1 without the crash: a new instance on slots_[i].store,
  /// attached to the network, not connected.
  void start_server(int i);
  /// Fails unless 0 <= i < servers().
  void check_index(int i) const;
  /// The running instance of server i; fails if it is crashed.
  const actors::node_handles& running(int i) const;
  /// Fails when the real-time test ran longer than 120 s.
  void check_timeout();
  /// Fails on the first recorded apply error (Go: log.Fatalf in the
  /// applier, i.e. at once; we report at the next check or sleep) and on
  /// network serialization errors.
  void check_apply_errors() const;
  /// Stops every node and the network, then the actor system. Idempotent.
  void shutdown() noexcept;
  /// Sends `xs...` to `dest` and waits for the answer, which `f` receives;
  /// fails (naming `what`) on an error or when no answer comes.
  template <class F, class... Ts>
  void query(const caf::actor& dest, const std::string& what, F f,
             Ts&&... xs);
  /// Sends a control message to the network and waits for its ok.
  template <class... Ts>
  void control(Ts&&... xs);

  cluster_options opts_;
  std::uint64_t seed_;
  std::mt19937_64 rng_;
  // Declared in construction order; destroyed explicitly in ~cluster().
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  /// Set in simulated mode only.
  caf::scheduler::test_coordinator* sched_ = nullptr;
  std::unique_ptr<caf::scoped_actor> self_;
  std::shared_ptr<network_stats> stats_;
  caf::actor net_;
  std::shared_ptr<apply_log> applied_;
  std::vector<server> slots_;
  /// storage_kind::disk: the temp directory holding every server's data
  /// directory; removed by the destructor.
  std::string data_root_;
  /// make_config time (the 120 s limit counts from here).
  time_point start_;
  /// Statistics at begin().
  time_point t0_;
  /// See set_sleep_hook().
  std::function<void(std::chrono::milliseconds)> sleep_hook_;
  std::uint64_t rpcs0_ = 0;
  std::uint64_t bytes0_ = 0;
  std::uint64_t max_index0_ = 0;
};

} // namespace raft::testing
