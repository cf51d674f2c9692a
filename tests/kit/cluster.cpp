// Lifecycle, servers, network control, time and bookkeeping of the cluster.
// The config.go checks are in cluster_checks.cpp.
#include "tests/kit/cluster.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>

#include "messages/type_ids.hpp"
#include "tests/kit/peer_watch.hpp"

namespace raft::testing {

namespace {

/// Built with -DRAFT_CHECK_INVARIANTS=ON: in simulated time every peer
/// checks the core's invariants after every input (a violation stops it,
/// and the test fails with the violation and the seed).
#ifdef RAFT_CHECK_INVARIANTS
constexpr bool check_invariants_in_simulation = true;
#else
constexpr bool check_invariants_in_simulation = false;
#endif

/// How long a real-time query may take before the test fails.
constexpr auto query_timeout = std::chrono::seconds{10};


/// Interval of every node's election timer.
constexpr auto tick_interval = std::chrono::milliseconds{10};

std::uint64_t pick_seed() {
  std::random_device rd;
  std::uint64_t x = 0;
  while (x == 0)
    x = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return x;
}

} // namespace

const char* to_string(clock_mode x) {
  return x == clock_mode::simulated ? "simulated" : "real_time";
}

// -- construction and destruction ------------------------------------------------

cluster::cluster(cluster_options opts)
  : opts_(opts), seed_(opts.seed != 0 ? opts.seed : pick_seed()) {
  if (opts_.servers < 1)
    fail("cluster: servers must be >= 1");
  rng_.seed(seed_ ^ 0x9e3779b97f4a7c15ull);
  cfg_ = std::make_unique<caf::actor_system_config>();
  raft::register_types(*cfg_);
  if (opts_.clock == clock_mode::simulated)
    cfg_->set("scheduler.policy", caf::atom("testing"));
  else
    cfg_->set("scheduler.max-threads", 2);
  sys_ = std::make_unique<caf::actor_system>(*cfg_);
  try {
    if (opts_.clock == clock_mode::simulated)
      sched_ = &dynamic_cast<caf::scheduler::test_coordinator&>(
        sys_->scheduler());
    self_ = std::make_unique<caf::scoped_actor>(*sys_, true);
    auto n = opts_.servers;
    stats_ = std::make_shared<network_stats>(n);
    network_config ncfg;
    ncfg.servers = n;
    ncfg.seed = seed_;
    ncfg.reliable = !opts_.unreliable;
    ncfg.stats = stats_;
    net_ = spawn_network(*sys_, std::move(ncfg));
    applied_ = std::make_shared<apply_log>(n);
    slots_.resize(static_cast<std::size_t>(n));
    if (opts_.storage == storage_kind::disk)
      make_data_root();
    start_ = now();
    t0_ = start_;
    for (int i = 0; i < n; ++i) {
      slots_[static_cast<std::size_t>(i)].store = open_store(i);
      start_server(i);
    }
    for (int i = 0; i < n; ++i)
      connect(i);
  } catch (...) {
    shutdown();
    throw;
  }
}

cluster::~cluster() {
  auto too_long = opts_.clock == clock_mode::real_time
                  && now() - start_ > test_time_limit;
  shutdown();
  // Report what the nodes did until they stopped (Go: log.Fatalf in the
  // applier; ours are recorded and reported here at the latest).
  // FAIL_CHECK does not throw: this may run while a failure unwinds.
  if (applied_) {
    auto err = applied_->first_error();
    if (!err.empty())
      FAIL_CHECK(err << "\n  " << replay_hint());
  }
  if (too_long)
    FAIL_CHECK("test took longer than 120 seconds\n  " << replay_hint());
}

void cluster::shutdown() noexcept {
  if (!sys_)
    return;
  for (auto& s : slots_) {
    if (s.node) {
      actors::stop_node(*s.node);
      s.node.reset();
    }
  }
  if (net_)
    caf::anon_send_exit(net_, caf::exit_reason::kill);
  net_ = nullptr;
  if (sched_)
    sched_->run();
  self_.reset();
  // Waits for every actor: all of them received an exit above.
  sys_.reset();
  sched_ = nullptr;
  cfg_.reset();
  // Every node is gone: close the stores, then remove their directories.
  for (auto& s : slots_)
    s.store.reset();
  if (!data_root_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(data_root_, ec);
    data_root_.clear();
  }
}

/// Where disk-mode clusters put their data directories: $RAFT_KIT_DATA_DIR,
/// else /dev/shm when it is a writable directory, else the temp directory.
/// On tmpfs fsync costs nothing, so a simulated run exercises every line
/// of disk_store (records, segments, truncation, recovery after a crash)
/// at memory speed; the device's durability is the storage tests' subject
/// (tests/persistence: power loss on sim_file_system, faults, torn tails).
static std::filesystem::path kit_data_parent() {
  if (const char* dir = std::getenv("RAFT_KIT_DATA_DIR"); dir && *dir)
    return dir;
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)
      && ::access("/dev/shm", W_OK) == 0)
    return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

void cluster::make_data_root() {
  auto pattern = (kit_data_parent()
                  / ("caf-raft-kit-" + std::to_string(seed_) + "-XXXXXX"))
                   .string();
  if (::mkdtemp(pattern.data()) == nullptr)
    fail("cluster: cannot create a temp directory " + pattern);
  data_root_ = pattern;
  for (int i = 0; i < servers(); ++i)
    slots_[static_cast<std::size_t>(i)].dir
      = data_root_ + "/server-" + std::to_string(i);
}

std::shared_ptr<persistence::store> cluster::open_store(int i) {
  if (opts_.storage == storage_kind::memory)
    return std::make_shared<persistence::memory_store>();
  persistence::disk_options o;
  o.dir = slots_[static_cast<std::size_t>(i)].dir;
  o.cluster_id = "kit";
  o.node = server_id{static_cast<std::uint32_t>(i + 1)};
  // Small segments, so the tests exercise rollover and segment deletion.
  o.segment_bytes = 64 * 1024;
  try {
    return persistence::disk_store::open(std::move(o));
  } catch (const std::exception& e) {
    fail(std::string{"cluster: cannot open the store of server "}
         + std::to_string(i) + ": " + e.what());
  }
}

// -- servers ---------------------------------------------------------------------

void cluster::start_server(int i) {
  auto& s = slots_[static_cast<std::size_t>(i)];
  auto incarnation = applied_->new_incarnation(i);
  actors::node_options o;
  o.raft.id = server_id{static_cast<std::uint32_t>(i + 1)};
  for (int j = 0; j < servers(); ++j)
    o.raft.members.emplace_back(static_cast<std::uint32_t>(j + 1));
  // seed + id for the first instance; a restart draws fresh timeouts.
  o.raft.rng_seed = seed_ + static_cast<std::uint64_t>(i + 1)
                    + s.starts * 0x9e3779b97f4a7c15ull;
  o.tick_interval = tick_interval;
  o.raft.noop_on_election = opts_.noop_on_election;
  o.store = s.store;
  o.transport = net_;
  if (opts_.make_state_machine)
    o.make_state_machine = [make = opts_.make_state_machine, i,
                            store = s.store]() { return make(i, store); };
  else if (opts_.snapshots)
    o.make_state_machine = [log = applied_, i, incarnation]()
      -> std::unique_ptr<actors::state_machine> {
      return std::make_unique<snapshot_applier>(log, i, incarnation);
    };
  else
    o.make_state_machine = [log = applied_, i, incarnation]()
      -> std::unique_ptr<actors::state_machine> {
      return std::make_unique<applier>(log, i, incarnation);
    };
  o.check_invariants = check_invariants_in_simulation
                       && opts_.clock == clock_mode::simulated;
  s.node = actors::spawn_node(*sys_, std::move(o));
  // A peer that stops on its own (broken contract or invariant) fails the
  // test at its next check.
  s.watcher = watch_for_failure(
    *sys_, s.node->peer, [log = applied_, i](const std::string& why) {
      log->record_failure(i, "server " + std::to_string(i)
                               + ": its peer stopped: " + why);
    });
  ++s.starts;
  control(net_attach_atom::value, static_cast<int32_t>(i), s.node->peer);
}

void cluster::crash(int i) {
  check_index(i);
  disconnect(i);
  control(net_detach_atom::value, static_cast<int32_t>(i));
  auto& s = slots_[static_cast<std::size_t>(i)];
  applied_->end_incarnation(i);
  if (opts_.storage == storage_kind::memory) {
    // Only what was synced survives; the old instance keeps the old store.
    auto& mem = static_cast<persistence::memory_store&>(*s.store);
    s.store = mem.durable_copy();
  }
  if (s.node) {
    actors::stop_node(*s.node);
    s.node.reset();
  }
  if (sched_)
    sched_->run();
  if (opts_.storage == storage_kind::disk) {
    // The process dies: unsynced writes are dropped and LOCK is released;
    // the old instance's store refuses every later call. The next instance
    // recovers from the directory.
    static_cast<persistence::disk_store&>(*s.store).crash();
    s.store = open_store(i);
  }
}

void cluster::restart(int i) {
  crash(i);
  start_server(i);
}

void cluster::connect(int i) {
  check_index(i);
  slots_[static_cast<std::size_t>(i)].connected = true;
  control(net_connect_atom::value, static_cast<int32_t>(i), true);
}

void cluster::disconnect(int i) {
  check_index(i);
  slots_[static_cast<std::size_t>(i)].connected = false;
  control(net_connect_atom::value, static_cast<int32_t>(i), false);
}

void cluster::set_unreliable(bool unreliable) {
  control(net_reliable_atom::value, !unreliable);
}

void cluster::set_long_reordering(bool long_reordering) {
  control(net_reorder_atom::value, long_reordering);
}

bool cluster::connected(int i) const {
  check_index(i);
  return slots_[static_cast<std::size_t>(i)].connected;
}

bool cluster::alive(int i) const {
  check_index(i);
  return slots_[static_cast<std::size_t>(i)].node.has_value();
}

void cluster::check_index(int i) const {
  if (i < 0 || i >= servers())
    fail("no server " + std::to_string(i) + " in a cluster of "
         + std::to_string(servers()));
}

const actors::node_handles& cluster::running(int i) const {
  check_index(i);
  auto& s = slots_[static_cast<std::size_t>(i)];
  if (!s.node)
    fail("server " + std::to_string(i) + " is crashed");
  return *s.node;
}

// -- queries ---------------------------------------------------------------------

template <class F, class... Ts>
void cluster::query(const caf::actor& dest, const std::string& what, F f,
                    Ts&&... xs) {
  auto& self = *self_;
  std::optional<caf::error> err;
  auto on_error = [&](caf::error& e) { err = std::move(e); };
  if (sched_) {
    // Nothing runs concurrently. A call takes no virtual time, so it runs
    // only what answering needs: first just the destination actor (its
    // mailbox, in order); only if that does not answer (a node still
    // loading its state, ...) every job in order until the answer is
    // there. Everything else the call set in motion (a Start()'s
    // replication, ...) goes on when time passes (sleep), as in Go, where
    // Start() returns at once and replication takes time. Running all of
    // it here would complete a commit in zero time, and a goroutine that
    // loops while its commands commit at once (the churn clients) would
    // never let virtual time advance.
    auto h = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    auto* target = caf::actor_cast<caf::abstract_actor*>(dest);
    sched_->run_jobs_filtered([target](caf::resumable* job) {
      return dynamic_cast<caf::abstract_actor*>(job) == target;
    });
    while (self->mailbox().empty() && sched_->try_run_once()) {
      // next job, in order
    }
    if (self->mailbox().empty())
      fail(what + ": no answer");
    h.receive(f, on_error);
  } else {
    // A fresh blocking actor per query: CAF 0.17 cannot cancel a request's
    // timeout, which arrives after the answer and would stay in a
    // long-lived actor's mailbox for good. With thousands of queries (the
    // churn tests' clients) every receive would scan thousands of them.
    caf::scoped_actor tmp{*sys_, true};
    tmp->request(dest, query_timeout, std::forward<Ts>(xs)...)
      .receive(f, on_error);
  }
  if (err)
    fail(what + ": " + sys_->render(*err));
}

template <class... Ts>
void cluster::control(Ts&&... xs) {
  query(net_, "network control", [](caf::ok_atom) {},
        std::forward<Ts>(xs)...);
}

start_result cluster::start(int i, const std::string& cmd) {
  start_result r{0, 0, false};
  query(running(i).peer, "Start() on server " + std::to_string(i),
        [&](propose_result& x) {
          r = start_result{x.index.value, x.term.value, x.is_leader};
        },
        propose_atom::value, cmd);
  yield();
  return r;
}

std::vector<start_result>
cluster::start_all(int i, const std::vector<std::string>& cmds) {
  auto& peer = running(i).peer;
  auto& self = *self_;
  using handle_type = decltype(self->request(peer, caf::infinite,
                                             propose_atom::value,
                                             std::string{}));
  std::vector<handle_type> handles;
  for (auto& cmd : cmds) {
    auto timeout = sched_ ? caf::duration{caf::infinite}
                          : caf::duration{query_timeout};
    handles.push_back(self->request(peer, timeout, propose_atom::value, cmd));
  }
  if (sched_)
    sched_->run();
  std::vector<start_result> result;
  for (auto& h : handles) {
    std::optional<caf::error> err;
    h.receive(
      [&](propose_result& x) {
        result.push_back({x.index.value, x.term.value, x.is_leader});
      },
      [&](caf::error& e) { err = std::move(e); });
    if (err)
      fail("Start() on server " + std::to_string(i) + ": "
           + sys_->render(*err));
  }
  return result;
}

peer_status cluster::status(int i) {
  peer_status r;
  query(running(i).peer, "GetState() on server " + std::to_string(i),
        [&](peer_status& x) { r = std::move(x); }, caf::get_atom::value,
        status_atom::value);
  yield();
  return r;
}

std::pair<std::uint64_t, bool> cluster::get_state(int i) {
  auto st = status(i);
  return {st.term.value, st.role == role::leader};
}

// -- statistics ------------------------------------------------------------------

std::uint64_t cluster::rpc_count(int i) const {
  check_index(i);
  return stats_->rpc_count(i);
}

std::uint64_t cluster::rpc_total() const {
  return stats_->rpc_total();
}

std::uint64_t cluster::bytes_total() const {
  return stats_->bytes_total();
}

void cluster::partition(const std::vector<int>& p1,
                        const std::vector<int>& p2) {
  std::vector<int> group(slots_.size(), -1);
  for (int i : p1) {
    check_index(i);
    group[static_cast<std::size_t>(i)] = 0;
  }
  for (int i : p2) {
    check_index(i);
    group[static_cast<std::size_t>(i)] = 1;
  }
  for (int i = 0; i < servers(); ++i) {
    auto g = group[static_cast<std::size_t>(i)];
    if (g >= 0)
      control(net_group_atom::value, static_cast<int32_t>(i),
              static_cast<int32_t>(g));
    if (g >= 0)
      connect(i);
    else
      disconnect(i);
  }
}

void cluster::heal() {
  for (int i = 0; i < servers(); ++i) {
    control(net_group_atom::value, static_cast<int32_t>(i), int32_t{0});
    connect(i);
  }
}

caf::actor cluster::state_machine(int i) const {
  check_index(i);
  auto& s = slots_[static_cast<std::size_t>(i)];
  return s.node ? s.node->state_machine : caf::actor{};
}

caf::actor cluster::peer(int i) const {
  check_index(i);
  auto& s = slots_[static_cast<std::size_t>(i)];
  return s.node ? s.node->peer : caf::actor{};
}

caf::actor_system& cluster::system() {
  return *sys_;
}

std::size_t cluster::snapshot_size() const {
  std::size_t result = 0;
  for (auto& s : slots_)
    result = std::max(result, s.store->snapshot_size());
  return result;
}

std::size_t cluster::log_size() const {
  // raft_state_size(): hard state + log as encoded, never the snapshot
  // (6.5840 RaftStateSize(); store.hpp). memory_store: 32 + 21 per entry +
  // command bytes; disk_store: HARDSTATE (52) + the log's framed records.
  std::size_t result = 0;
  for (auto& s : slots_)
    result = std::max(result, s.store->raft_state_size());
  return result;
}

// -- time ------------------------------------------------------------------------

void cluster::sleep(std::chrono::milliseconds d) {
  if (sleep_hook_)
    sleep_hook_(d);
  else
    pass_time(d);
}

void cluster::yield() {
  if (sleep_hook_)
    sleep_hook_(std::chrono::milliseconds{0});
}

void cluster::set_sleep_hook(
  std::function<void(std::chrono::milliseconds)> hook) {
  sleep_hook_ = std::move(hook);
}

void cluster::pass_time(std::chrono::nanoseconds d) {
  if (!sched_) {
    std::this_thread::sleep_for(d);
    check_apply_errors();
    return;
  }
  // Fire timers one time point at a time, each followed by running every
  // runnable actor, so the order of events is exactly that of virtual time.
  auto& clk = sched_->clock();
  auto target = clk.now() + d;
  sched_->run();
  for (;;) {
    auto& pending = clk.schedule();
    if (pending.empty() || pending.begin()->first > target)
      break;
    auto next = pending.begin()->first;
    auto now = clk.now();
    sched_->advance_time(next > now ? next - now : caf::timespan{0});
    sched_->run();
  }
  if (target > clk.now())
    sched_->advance_time(target - clk.now());
  sched_->run();
  check_apply_errors();
}

cluster::time_point cluster::now() const {
  if (sched_)
    return sched_->clock().now();
  return std::chrono::steady_clock::now();
}

} // namespace raft::testing
