// raft-demo --mode kv: the replicated KV service (actors/kv) on a local
// cluster under load while the leader is killed and restarted. This file
// holds the cluster (nodes, their KV machines and client endpoints), the
// phases, the convergence check and the verdict; the clients, which run in
// threads of their own and record every operation for the linearizability
// check, are in raft_demo_kv_workload.{hpp,cpp}. At the end the history is
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
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actors/kv/kv_state_machine.hpp"
#include "actors/node_supervisor.hpp"
#include "actors/transport.hpp"
#include "apps/raft_demo_common.hpp"
#include "apps/raft_demo_kv_workload.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"
#include "tests/kit/linearizability/checker.hpp"
#include "tests/kit/linearizability/html.hpp"

namespace raft::demo {

namespace {

using namespace std::chrono_literals;

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
  /// The store: keys, values, sessions, last applied command.
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
  /// The incarnation's KV machine (shared with main).
  std::shared_ptr<replica> rep_;
  /// The node's number, for the timeline.
  int node_;
  std::shared_ptr<timeline> tl_;
  /// The next snapshot applied is the node's own (see the constructor).
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

// -- the demo -----------------------------------------------------------------

/// One run of the KV demo: the cluster, the phases and the verdict; the
/// clients are a kv_workload. Everything runs on the main thread but the
/// nodes' actors and the client threads.
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
    if (load_)
      load_->stop();
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
    std::vector<kv_workload::server> servers;
    for (auto& [i, n] : nodes_)
      servers.emplace_back(server_id{static_cast<std::uint32_t>(i)},
                           n.endpoint);
    load_.emplace(sys_, opts_, tl_, std::move(servers));
    if (wait_for_leader(std::nullopt) < 0)
      return fail("no leader elected within 10 s");
    first_election_ = tl_->first_leader_after(0);
    if (!load_->reset_keys())
      return fail("could not reset the keys");
    load_->start();
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
      load_->stop();
      while (catch_up_ < 0 && tl_->since_start() - restarted_at_ < 10)
        poll_catch_up(old, target);
    } else {
      tl_->event("no failover with " + std::to_string(opts_.nodes)
                 + " node(s): a majority would be lost");
      run_phase(1);
      run_phase(2);
      load_->stop();
    }
    tl_->event("clients stopped");
    auto finals = load_->final_reads();
    bool converged = converge(finals);
    return report(converged, failover);
  }

private:
  /// One node: its store outlives its incarnations.
  struct node {
    /// What the node persists (memory or disk), kept across restarts.
    std::shared_ptr<persistence::store> store;
    /// The current incarnation's actors.
    actors::node_handles handles;
    /// False while the node is stopped (killed leader).
    bool running = false;
    /// How many times the node was started (1 for the first start).
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

  // -- phases -----------------------------------------------------------------

  void begin_phase(int p) {
    load_->set_phase(p);
    phase_start_ = clock_type::now();
    phase_retries_ = load_->retries(self_);
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
    load_->set_phase(p + 1);
    auto r = load_->retries(self_);
    auto st = load_->close_phase(
      p,
      std::chrono::duration<double>(clock_type::now() - phase_start_).count(),
      r - phase_retries_);
    tl_->event("phase " + std::to_string(p + 1) + " done: " + line_of(st));
  }

  void run_phase(int p) {
    begin_phase(p);
    finish_phase(p);
  }

  // -- the end ----------------------------------------------------------------

  /// Waits until every running node holds the same keys and values (and
  /// applied the same last command) and they match `finals`.
  bool converge(const final_values& finals) {
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
    auto ops = load_->operations();
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
    std::cout << "  leaders:          " << describe_leaders(tl_->leaders_seen())
              << "\n  first election:   " << fixed(first_election_, 3)
              << " s after start\n";
    if (failover) {
      std::cout << "  failover:         " << fixed(failover_time_, 3)
                << " s from leader kill to new leader\n";
      std::cout << "  catch-up:         "
                << (catch_up_ < 0 ? std::string{"NOT within 10 s"}
                                  : fixed(catch_up_, 3) + " s")
                << " from restart to the leader's commit index\n";
    }
    for (int p = 0; p < 3; ++p)
      std::cout << "  phase " << p + 1 << " (" << std::left << std::setw(18)
                << (std::string{phase_name(p)} + "):") << std::right
                << line_of(load_->stats_of(p)) << "\n";
    std::size_t unknown = 0;
    std::map<std::string, std::size_t> by_kind;
    for (auto& op : ops) {
      unknown += op.out.unknown ? 1 : 0;
      by_kind[lin::to_string(op.in.op)] += 1;
    }
    std::cout << "  operations:       " << ops.size() << " recorded (";
    const char* sep = "";
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
  /// The printed timeline, shared with the observer, the state machines
  /// and the workload.
  std::shared_ptr<timeline> tl_;
  /// Main thread's actor for status queries.
  caf::scoped_actor self_;
  /// Carries the nodes' messages to each other (direct, in process).
  caf::actor transport_;
  /// Puts the nodes' role and term changes on the timeline.
  caf::actor observer_;
  /// Every node's id: 1..opts_.nodes.
  std::vector<server_id> members_;
  /// By node number (1..opts_.nodes).
  std::map<int, node> nodes_;
  /// The node last seen leading.
  int leader_ = 0;
  /// The clients and their history; set once every endpoint exists.
  std::optional<kv_workload> load_;

  // -- main thread only -------------------------------------------------------

  /// When the current phase began.
  clock_type::time_point phase_start_;
  /// The clients' retries when the current phase began.
  std::uint64_t phase_retries_ = 0;
  /// Seconds from start to the first leader's announcement.
  double first_election_ = -1;
  /// Whether the leader is killed and restarted (at least 3 nodes).
  bool failover_ = false;
  /// Seconds from the kill to the new leader's announcement.
  double failover_time_ = -1;
  /// When (seconds since start) the old leader was restarted.
  double restarted_at_ = -1;
  /// Seconds from that restart until it applied through the leader's commit
  /// index at the time; -1 until then.
  double catch_up_ = -1;
  /// The convergence check's outcome, for the summary.
  std::string replicas_ = "not compared";
};

} // namespace

int run_kv_demo(caf::actor_system& sys, const demo_options& opts) {
  kv_demo d{sys, opts};
  return d.run();
}

} // namespace raft::demo
