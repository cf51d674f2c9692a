// raft-demo --mode kv: the replicated KV service (actors/kv) on a local
// cluster, with real clients (actors/kv_client) in threads of their own
// while the leader is killed and restarted. Every client operation goes
// into a lin::history_recorder (call time before the request, return time
// after the answer, steady_clock nanoseconds); at the end the history is
// checked with lin::check, drawn with lin::write_html, and every running
// node's store is compared with the others and with a final read of every
// key.
//
// Phases (each --seconds long, clients running throughout):
//   1. leader up       -- the cluster as elected;
//   2. leader down     -- the leader is killed (stop_node) at the start; the
//                         phase includes the election of a new one;
//   3. old leader back -- it restarts from its persisted state (its store)
//                         at the start and catches up (log or snapshot).
// With fewer than 3 nodes there is no failover (a majority would be lost):
// phases 2 and 3 run with the cluster as it is.
//
// Clients reach every node through an endpoint actor of that node, which
// forwards to the node's current state machine actor: a restarted node has
// a new one, but the clients' list of servers stays the same, like a
// server's address across a restart.
#include "apps/raft_demo_kv.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "actors/kv/kv_command.hpp"
#include "actors/kv/kv_state_machine.hpp"
#include "actors/kv_client/blocking_client.hpp"
#include "actors/node_supervisor.hpp"
#include "actors/transport.hpp"
#include "apps/raft_demo_common.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"
#include "tests/kit/linearizability/checker.hpp"
#include "tests/kit/linearizability/history.hpp"
#include "tests/kit/linearizability/html.hpp"

namespace raft::demo {

namespace {

using namespace std::chrono_literals;
namespace lin = raft::testing::lin;

/// The keys every client works on (shared, so the clients race).
const std::array<std::string, 3> keys = {"k1", "k2", "k3"};

/// How long one client attempt waits for its answer, and when a call is
/// given up (its outcome is then unknown, and recorded so).
constexpr auto request_timeout = 300ms;
constexpr auto call_deadline = 5s;

/// A client's pause between two operations, drawn uniformly: without it
/// four clients do ~13,000 ops/s here, and the history (100,000+ ops) is
/// too long to read in HTML; with it they do a few hundred per second.
constexpr int think_min_ms = 5;
constexpr int think_max_ms = 25;

/// How long the demo waits for an election, a catch-up or convergence.
constexpr auto patience = 10s;

const char* const phase_names[] = {"leader up", "leader down",
                                   "old leader back"};
/// With fewer than 3 nodes (no failover).
const char* const steady_names[] = {"leader up", "leader still up",
                                    "leader still up"};

// -- one node's KV machine, visible from main ---------------------------------

/// The KV state machine of one node incarnation, shared by its state
/// machine actor (apply, snapshots) and main (the convergence check).
struct replica {
  explicit replica(kv::kv_options o) : machine(std::move(o)) {
  }
  /// Guards everything below.
  std::mutex mtx;
  kv::kv_state_machine machine;
  /// Snapshots this incarnation handed to Raft (its log was compacted).
  std::uint64_t snapshots_taken = 0;
};

/// The state_machine the node runs: the replica's kv_state_machine under
/// the replica's mutex; snapshot installs go on the timeline.
class shared_machine : public actors::state_machine {
public:
  /// `own_snapshot`: the node's store holds a snapshot, so the first
  /// snapshot applied is the node's own (a restart), not the leader's.
  shared_machine(std::shared_ptr<replica> rep, int node,
                 std::shared_ptr<timeline> tl, bool own_snapshot)
    : rep_(std::move(rep)),
      node_(node),
      tl_(std::move(tl)),
      own_snapshot_(own_snapshot) {
  }

  std::string apply(const apply_msg& m) override {
    std::string result;
    std::size_t keys = 0;
    {
      std::lock_guard<std::mutex> guard{rep_->mtx};
      result = rep_->machine.apply(m);
      keys = rep_->machine.size();
    }
    if (m.snapshot_valid) {
      tl_->event("node " + std::to_string(node_)
                 + (own_snapshot_ ? " restored its own snapshot"
                                  : " installed the leader's snapshot")
                 + " through index " + to_string(m.snapshot_index) + " ("
                 + std::to_string(m.snapshot.size()) + " bytes, "
                 + std::to_string(keys) + " keys)");
      own_snapshot_ = false;
    }
    return result;
  }

  errc validate(const std::string& command) const override {
    std::lock_guard<std::mutex> guard{rep_->mtx};
    return rep_->machine.validate(command);
  }

  std::optional<std::string> take_snapshot(index_t applied) override {
    std::lock_guard<std::mutex> guard{rep_->mtx};
    auto bytes = rep_->machine.take_snapshot(applied);
    if (bytes)
      ++rep_->snapshots_taken;
    return bytes;
  }

private:
  std::shared_ptr<replica> rep_;
  int node_;
  std::shared_ptr<timeline> tl_;
  bool own_snapshot_;
};

// -- a node's client endpoint -------------------------------------------------

/// Forwards (submit_atom, std::string) to the state machine actor last
/// registered with (register_atom, caf::actor); until one is registered it
/// answers not_leader without a hint. A stopped node's actor is gone, so
/// the client gets an error for its attempt and tries the next server.
caf::behavior endpoint(caf::event_based_actor* self) {
  auto target = std::make_shared<caf::actor>();
  return {
    [=](register_atom, caf::actor sm) { *target = std::move(sm); },
    [=](submit_atom, std::string& cmd) {
      auto rp = self->make_response_promise<client_reply>();
      if (!*target) {
        client_reply r;
        r.error = errc::not_leader;
        rp.deliver(std::move(r));
        return rp;
      }
      self->request(*target, 5s, submit_atom::value, std::move(cmd))
        .then([rp](client_reply& r) mutable { rp.deliver(std::move(r)); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
  };
}

// -- statistics ---------------------------------------------------------------

/// What the clients did in one phase (guarded by kv_demo::stats_mtx_).
struct phase_stats {
  std::uint64_t ops = 0;
  /// Operations that ended without an answer (deadline, stopped client):
  /// recorded with unknown outcome.
  std::uint64_t errors = 0;
  /// Client attempts beyond the first (leader changes, dead servers).
  std::uint64_t retries = 0;
  std::chrono::nanoseconds slowest{0};
  double seconds = 0;
};

lin::kv_output output_of(const kv::reply& r, const lin::kv_input& in) {
  if (r.error != errc::none)
    return lin::unknown_outcome();
  switch (in.op) {
    case lin::kv_input::kind::get:
      return r.found ? lin::found(r.value) : lin::not_found();
    case lin::kv_input::kind::cas:
    case lin::kv_input::kind::del:
      return lin::done(r.ok);
    default:
      return lin::done(true);
  }
}

std::string fixed(double x, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << x;
  return out.str();
}

// -- the demo -----------------------------------------------------------------

class kv_demo {
public:
  kv_demo(caf::actor_system& sys, const demo_options& opts)
    : sys_(sys), opts_(opts), tl_(std::make_shared<timeline>()), self_(sys) {
    transport_ = actors::spawn_direct_transport(sys_);
    observer_ = spawn_observer(sys_, tl_);
    for (int i = 1; i <= opts_.nodes; ++i)
      members_.push_back(server_id{static_cast<std::uint32_t>(i)});
  }

  ~kv_demo() {
    stop_clients();
    for (auto& [i, n] : nodes_) {
      if (n.running)
        actors::stop_node(n.handles);
      caf::anon_send_exit(n.endpoint, caf::exit_reason::user_shutdown);
    }
    caf::anon_send_exit(transport_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(observer_, caf::exit_reason::user_shutdown);
  }

  int run() {
    failover_ = opts_.nodes >= 3;
    std::cout << "raft-demo (kv): " << opts_.nodes << " nodes, "
              << opts_.clients << " clients, " << opts_.seconds
              << " s per phase, max raft state "
              << (opts_.max_raft_state > 0
                    ? std::to_string(opts_.max_raft_state) + " bytes"
                    : std::string{"unlimited (no snapshots)"})
              << ", seed " << opts_.seed << " (replay with --seed "
              << opts_.seed << ")\n\ntimeline:\n";
    if (!opts_.data_dir.empty() && !make_data_dir(opts_.data_dir, opts_.nodes))
      return 1;
    for (int i = 1; i <= opts_.nodes; ++i) {
      nodes_[i].endpoint = sys_.spawn(endpoint);
      if (!start(i))
        return 1;
    }
    if (wait_for_leader(std::nullopt) < 0)
      return fail("no leader elected within 10 s");
    first_election_ = tl_->first_leader_after(0);
    if (!reset_keys())
      return fail("could not reset the keys");
    start_clients();
    run_phase(0);
    int old = leader_;
    bool failover = failover_;
    if (failover) {
      tl_->event("killing leader node " + std::to_string(old));
      auto killed_at = tl_->since_start();
      actors::stop_node(nodes_[old].handles);
      nodes_[old].running = false;
      begin_phase(1);
      if (wait_for_leader(old) < 0)
        return fail("no new leader within 10 s of the kill");
      auto elected = tl_->first_leader_after(killed_at);
      failover_time_ = elected < 0 ? -1 : elected - killed_at;
      tl_->event("new leader node " + std::to_string(leader_) + ", elected "
                 + fixed(failover_time_, 3) + " s after the kill");
      finish_phase(1);
      tl_->event("restarting node " + std::to_string(old)
                 + " from its persisted state");
      auto target = commit_index_of(leader_);
      restarted_at_ = tl_->since_start();
      if (!start(old))
        return 1;
      begin_phase(2);
      while (!phase_over())
        poll_catch_up(old, target);
      end_phase(2);
      stop_clients();
      while (catch_up_ < 0 && tl_->since_start() - restarted_at_ < 10)
        poll_catch_up(old, target);
    } else {
      tl_->event("no failover with " + std::to_string(opts_.nodes)
                 + " node(s): a majority would be lost");
      run_phase(1);
      run_phase(2);
      stop_clients();
    }
    tl_->event("clients stopped");
    auto finals = final_reads();
    bool converged = converge(finals);
    return report(converged, failover);
  }

private:
  /// One node: its store outlives its incarnations.
  struct node {
    std::shared_ptr<persistence::store> store;
    actors::node_handles handles;
    bool running = false;
    int incarnation = 0;
    /// The current incarnation's KV machine.
    std::shared_ptr<replica> rep;
    /// Snapshots taken by earlier incarnations.
    std::uint64_t snapshots_before = 0;
    /// What clients talk to (endpoint()).
    caf::actor endpoint;
  };

  // -- nodes ------------------------------------------------------------------

  /// (Re)starts node i from its store; false on a refused data directory.
  bool start(int i) {
    auto& n = nodes_[i];
    n.store = open_store(opts_.data_dir, "raft-demo-kv", i, n.store, *tl_);
    if (!n.store)
      return false;
    if (n.rep) {
      std::lock_guard<std::mutex> guard{n.rep->mtx};
      n.snapshots_before += n.rep->snapshots_taken;
    }
    n.incarnation += 1;
    kv::kv_options kvo;
    kvo.max_raft_state = opts_.max_raft_state;
    kvo.raft_state_bytes = [store = n.store] {
      return static_cast<std::uint64_t>(store->raft_state_size());
    };
    n.rep = std::make_shared<replica>(std::move(kvo));
    auto id = server_id{static_cast<std::uint32_t>(i)};
    actors::node_options o;
    o.raft.id = id;
    o.raft.members = members_;
    o.raft.rng_seed = opts_.seed
                      + static_cast<std::uint64_t>(n.incarnation) * 7919
                      + static_cast<std::uint64_t>(i);
    o.tick_interval = 10ms;
    o.store = n.store;
    o.transport = transport_;
    o.make_state_machine = [rep = n.rep, i, tl = tl_,
                            own = n.store->snapshot_size() > 0] {
      return std::make_unique<shared_machine>(rep, i, tl, own);
    };
    o.observer = observer_;
    n.handles = actors::spawn_node(sys_, std::move(o));
    n.running = true;
    caf::anon_send(transport_, register_atom::value, id, n.handles.peer);
    caf::anon_send(n.endpoint, register_atom::value, n.handles.state_machine);
    return true;
  }

  /// Waits until a running node other than `not_this` leads; returns the
  /// time since start, or -1 after `patience`.
  double wait_for_leader(std::optional<int> not_this) {
    auto deadline = clock_type::now() + patience;
    while (clock_type::now() < deadline) {
      for (auto& [i, n] : nodes_) {
        if (!n.running || (not_this && i == *not_this))
          continue;
        auto s = status_of(self_, n.handles.peer);
        if (s && s->role == role::leader) {
          leader_ = i;
          return tl_->since_start();
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  index_t commit_index_of(int i) {
    auto s = status_of(self_, nodes_[i].handles.peer);
    return s ? s->commit_index : index_t{};
  }

  /// Puts "caught up" on the timeline once the restarted node `i` has
  /// applied through `target` (the leader's commit index when it
  /// restarted); sleeps a little otherwise.
  void poll_catch_up(int i, index_t target) {
    if (catch_up_ < 0) {
      auto s = status_of(self_, nodes_[i].handles.peer);
      if (s && s->last_applied >= target) {
        catch_up_ = tl_->since_start() - restarted_at_;
        tl_->event("node " + std::to_string(i) + " caught up: applied through "
                   + to_string(target) + " (the leader's commit index at "
                   + "its restart) " + fixed(catch_up_, 3)
                   + " s after restarting");
      }
    }
    std::this_thread::sleep_for(20ms);
  }

  // -- clients ----------------------------------------------------------------

  kv::client_options client_options(std::uint64_t seed) {
    kv::client_options o;
    for (auto& [i, n] : nodes_)
      o.servers.emplace_back(server_id{static_cast<std::uint32_t>(i)},
                             n.endpoint);
    o.request_timeout = request_timeout;
    o.deadline = call_deadline;
    // A fresh session id each run (random_device): a --data-dir may hold
    // an earlier run's sessions.
    o.client_id = (static_cast<std::uint64_t>(std::random_device{}()) << 32
                   | std::random_device{}())
                  | 1u;
    o.seed = seed;
    return o;
  }

  std::int64_t now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
             clock_type::now() - tl_->t0)
      .count();
  }

  /// Runs `cmd` through `kv` and records it in the history as client `c`.
  kv::reply recorded(kv::blocking_client& kv, int c, kv::command cmd,
                     lin::kv_input in) {
    auto id = history_.begin(c, in, now_ns());
    auto called = clock_type::now();
    auto r = kv.call(std::move(cmd));
    auto took = clock_type::now() - called;
    history_.end(id, output_of(r, in), now_ns());
    std::lock_guard<std::mutex> guard{stats_mtx_};
    auto& st = stats_[static_cast<std::size_t>(phase_.load())];
    ++st.ops;
    if (r.error != errc::none)
      ++st.errors;
    st.slowest = std::max(st.slowest,
                          std::chrono::duration_cast<std::chrono::nanoseconds>(
                            took));
    return r;
  }

  /// Client `c`'s loop: a random mix of get, append, put and cas over the
  /// shared keys until stop_. Values are unique (client and op number), so
  /// every read points at the writes it saw.
  void client_loop(int c) {
    kv::blocking_client kv{sys_, client_options(opts_.seed * 1000 + 1
                                                + static_cast<unsigned>(c))};
    {
      std::lock_guard<std::mutex> guard{stats_mtx_};
      client_actors_.push_back(kv.actor());
    }
    std::mt19937_64 rng{opts_.seed * 7 + static_cast<unsigned>(c)};
    std::map<std::string, std::string> seen; // last value read, for cas
    for (int k = 1; !stop_.load(); ++k) {
      const auto& key = keys[rng() % keys.size()];
      auto tag = std::to_string(c) + "." + std::to_string(k);
      auto dice = rng() % 100;
      kv::command cmd;
      cmd.key = key;
      lin::kv_input in;
      if (dice < 35) {
        cmd.kind = kv::op::get;
        in = lin::kv_get(key);
      } else if (dice < 70) {
        cmd.kind = kv::op::append;
        cmd.value = "a" + tag + " ";
        in = lin::kv_append(key, cmd.value);
      } else if (dice < 85) {
        cmd.kind = kv::op::put;
        cmd.value = "p" + tag + " ";
        in = lin::kv_put(key, cmd.value);
      } else {
        cmd.kind = kv::op::cas;
        cmd.expected = seen[key];
        cmd.value = "x" + tag + " ";
        in = lin::kv_cas(key, cmd.expected, cmd.value);
      }
      auto r = recorded(kv, c, cmd, in);
      if (r.error == errc::none && cmd.kind == kv::op::get)
        seen[key] = r.value;
      else if (r.error == errc::none && r.ok && cmd.kind != kv::op::append)
        seen[key] = cmd.value;
      std::this_thread::sleep_for(std::chrono::milliseconds{
        think_min_ms
        + static_cast<int>(rng() % (think_max_ms - think_min_ms + 1))});
    }
  }

  void start_clients() {
    stop_ = false;
    for (int c = 0; c < opts_.clients; ++c)
      threads_.emplace_back([this, c] { client_loop(c); });
  }

  void stop_clients() {
    stop_ = true;
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

  /// Sum of the clients' retries so far.
  std::uint64_t retries() {
    std::vector<caf::actor> clients;
    {
      std::lock_guard<std::mutex> guard{stats_mtx_};
      clients = client_actors_;
    }
    std::uint64_t sum = 0;
    for (auto& c : clients)
      self_->request(c, 1s, caf::get_atom::value, status_atom::value)
        .receive([&](std::uint64_t, std::uint64_t,
                     std::uint64_t r) { sum += r; },
                 [&](caf::error&) {});
    return sum;
  }

  /// The keys start from a known value (an earlier run's --data-dir may
  /// hold them), as recorded operations of their own client: the checker's
  /// model starts from "absent".
  bool reset_keys() {
    kv::blocking_client kv{sys_, client_options(opts_.seed * 1000)};
    for (auto& key : keys) {
      kv::command cmd;
      cmd.kind = kv::op::put;
      cmd.key = key;
      if (recorded(kv, opts_.clients, cmd, lin::kv_put(key, "")).error
          != errc::none)
        return false;
    }
    tl_->event("keys k1 k2 k3 set to \"\" (the history starts from them)");
    return true;
  }

  // -- phases -----------------------------------------------------------------

  void begin_phase(int p) {
    phase_ = p;
    phase_start_ = clock_type::now();
    phase_retries_ = retries();
    tl_->event("phase " + std::to_string(p + 1) + " (" + phase_name(p)
               + "): " + std::to_string(opts_.clients)
               + " clients writing and reading for "
               + std::to_string(opts_.seconds) + " s");
  }

  const char* phase_name(int p) const {
    return (failover_ ? phase_names : steady_names)[p];
  }

  bool phase_over() const {
    return clock_type::now() - phase_start_
           >= std::chrono::seconds{opts_.seconds};
  }

  /// Sleeps until the phase is over.
  void finish_phase(int p) {
    while (!phase_over())
      std::this_thread::sleep_for(20ms);
    end_phase(p);
  }

  /// Prints phase p's line. Operations that end later count in the next
  /// phase (after the last phase: in none).
  void end_phase(int p) {
    phase_ = p + 1;
    auto r = retries();
    std::lock_guard<std::mutex> guard{stats_mtx_};
    auto& st = stats_[static_cast<std::size_t>(p)];
    st.seconds = std::chrono::duration<double>(clock_type::now()
                                               - phase_start_)
                   .count();
    st.retries = r - phase_retries_;
    tl_->event("phase " + std::to_string(p + 1) + " done: " + line_of(st));
  }

  void run_phase(int p) {
    begin_phase(p);
    finish_phase(p);
  }

  static std::string line_of(const phase_stats& st) {
    return std::to_string(st.ops) + " ops, "
           + fixed(st.seconds > 0 ? static_cast<double>(st.ops) / st.seconds
                                  : 0,
                   1)
           + " ops/s, " + std::to_string(st.errors) + " errors, "
           + std::to_string(st.retries) + " retries, slowest "
           + std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(st.slowest)
               .count())
           + " ms";
  }

  // -- the end ----------------------------------------------------------------

  /// Reads every key through a client of its own (recorded); nullopt for
  /// a read that got no answer.
  std::map<std::string, std::optional<std::string>> final_reads() {
    phase_ = 3;
    kv::blocking_client kv{sys_, client_options(opts_.seed * 1000 + 999)};
    std::map<std::string, std::optional<std::string>> result;
    for (auto& key : keys) {
      kv::command cmd;
      cmd.kind = kv::op::get;
      cmd.key = key;
      auto r = recorded(kv, opts_.clients, cmd, lin::kv_get(key));
      if (r.error == errc::none)
        result[key] = r.value;
      else
        result[key] = std::nullopt;
    }
    return result;
  }

  /// Waits until every running node holds the same keys and values (and
  /// applied the same last command) and they match `finals`.
  bool
  converge(const std::map<std::string, std::optional<std::string>>& finals) {
    auto deadline = clock_type::now() + patience;
    for (;;) {
      std::optional<std::map<std::string, std::string>> first;
      index_t first_index;
      bool same = true;
      for (auto& [i, n] : nodes_) {
        if (!n.running)
          continue;
        std::lock_guard<std::mutex> guard{n.rep->mtx};
        auto& st = n.rep->machine.state();
        if (!first) {
          first = st.data;
          first_index = st.last_index;
        } else if (st.data != *first || st.last_index != first_index) {
          same = false;
        }
      }
      bool match = same && first;
      for (auto& [key, v] : finals) {
        if (!match)
          break;
        auto it = first->find(key);
        match = v && it != first->end() && it->second == *v;
      }
      if (match) {
        std::size_t running = 0;
        for (auto& [i, n] : nodes_)
          running += n.running ? 1 : 0;
        replicas_ = "all " + std::to_string(running)
                    + " nodes hold the same " + std::to_string(first->size())
                    + " keys (last command at index " + to_string(first_index)
                    + "), equal to the final reads";
        tl_->event(replicas_);
        return true;
      }
      if (clock_type::now() >= deadline) {
        replicas_ = same ? "the nodes agree but differ from the final reads"
                         : "MISMATCH: the nodes hold different data after 10 s";
        tl_->event(replicas_);
        return false;
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  int report(bool converged, bool failover) {
    auto ops = history_.operations();
    tl_->event("checking " + std::to_string(ops.size())
               + " operations for linearizability (budget 10 s)");
    auto res = lin::check(ops, std::chrono::seconds{10});
    auto path = opts_.history;
    if (path.empty())
      path = ((opts_.data_dir.empty() ? std::filesystem::path{"/tmp"}
                                      : std::filesystem::path{opts_.data_dir})
              / ("raft-demo-history-" + std::to_string(opts_.seed) + ".html"))
               .string();
    std::string html_error;
    try {
      lin::write_html(path, ops, res);
    } catch (const std::exception& e) {
      html_error = e.what();
    }

    std::cout << "\nsummary:\n";
    std::map<std::uint64_t, int> leaders;
    {
      std::lock_guard<std::mutex> guard{tl_->mtx};
      leaders = tl_->leaders;
    }
    std::cout << "  leaders:          ";
    const char* sep = "";
    for (auto& [term, id] : leaders) {
      std::cout << sep << "node " << id << " (term " << term << ")";
      sep = ", ";
    }
    std::cout << "\n  first election:   " << fixed(first_election_, 3)
              << " s after start\n";
    if (failover) {
      std::cout << "  failover:         " << fixed(failover_time_, 3)
                << " s from leader kill to new leader\n";
      std::cout << "  catch-up:         "
                << (catch_up_ < 0 ? std::string{"NOT within 10 s"}
                                  : fixed(catch_up_, 3) + " s")
                << " from restart to the leader's commit index\n";
    }
    {
      std::lock_guard<std::mutex> guard{stats_mtx_};
      for (int p = 0; p < 3; ++p)
        std::cout << "  phase " << p + 1 << " ("
                  << std::left << std::setw(18)
                  << (std::string{phase_name(p)} + "):") << std::right
                  << line_of(stats_[static_cast<std::size_t>(p)]) << "\n";
    }
    std::size_t unknown = 0;
    std::map<std::string, std::size_t> by_kind;
    for (auto& op : ops) {
      unknown += op.out.unknown ? 1 : 0;
      by_kind[lin::to_string(op.in.op)] += 1;
    }
    std::cout << "  operations:       " << ops.size() << " recorded (";
    sep = "";
    for (auto& [kind, count] : by_kind) {
      std::cout << sep << count << " " << kind;
      sep = ", ";
    }
    std::cout << "), " << unknown << " with unknown outcome\n";
    std::uint64_t taken = 0;
    std::uint64_t installed = 0;
    for (auto& [i, n] : nodes_) {
      std::lock_guard<std::mutex> guard{n.rep->mtx};
      taken += n.snapshots_before + n.rep->snapshots_taken;
      installed += n.rep->machine.snapshots_installed();
    }
    std::cout << "  snapshots:        " << taken << " taken, " << installed
              << " installed\n";
    std::cout << "  replicas:         " << replicas_ << "\n";
    std::cout << "  linearizability:  " << lin::describe(res);
    if (res.v == lin::verdict::unknown)
      std::cout << " -- check timed out, not verified";
    std::cout << "\n";
    if (html_error.empty())
      std::cout << "  history:          " << path << "\n";
    else
      std::cout << "  history:          NOT written: " << html_error << "\n";
    bool ok = converged && res.v != lin::verdict::illegal;
    std::cout << "  result:           "
              << (!ok ? "FAILED (seed " + std::to_string(opts_.seed) + ")"
                  : res.v == lin::verdict::ok
                    ? std::string{"OK: linearizable, every node agrees"}
                    : std::string{"OK, but linearizability not verified "
                                  "(check timed out); every node agrees"})
              << "\n";
    return ok ? 0 : 1;
  }

  int fail(const std::string& why) {
    std::cout << "\nraft-demo: FAILED: " << why << " (seed " << opts_.seed
              << ")\n";
    return 1;
  }

  caf::actor_system& sys_;
  demo_options opts_;
  std::shared_ptr<timeline> tl_;
  caf::scoped_actor self_;
  caf::actor transport_;
  caf::actor observer_;
  std::vector<server_id> members_;
  std::map<int, node> nodes_;
  /// The node last seen leading.
  int leader_ = 0;

  // -- clients (threads) ------------------------------------------------------

  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  lin::history_recorder history_;
  /// The phase operations are counted in (3: the final reads).
  std::atomic<int> phase_{0};
  std::mutex stats_mtx_;
  std::array<phase_stats, 4> stats_;
  std::vector<caf::actor> client_actors_;

  // -- main thread only -------------------------------------------------------

  clock_type::time_point phase_start_;
  std::uint64_t phase_retries_ = 0;
  double first_election_ = -1;
  /// Whether the leader is killed and restarted (at least 3 nodes).
  bool failover_ = false;
  /// Seconds from the kill to the new leader's announcement.
  double failover_time_ = -1;
  double restarted_at_ = -1;
  double catch_up_ = -1;
  std::string replicas_ = "not compared";
};

} // namespace

int run_kv_demo(caf::actor_system& sys, const demo_options& opts) {
  kv_demo d{sys, opts};
  return d.run();
}

} // namespace raft::demo
