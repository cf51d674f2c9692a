// raft-demo --mode kv: the replicated KV service (actors/kv) on a local
// cluster under load while the leader is killed and restarted. This file
// holds the phases, the timings and the verdict; the nodes (their stores, KV
// machines and client endpoints, and the convergence check) are a
// kv_cluster (raft_demo_kv_cluster.{hpp,cpp}); the clients, which run in
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
#include "apps/raft_demo_kv.hpp"

#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "apps/raft_demo_common.hpp"
#include "apps/raft_demo_kv_cluster.hpp"
#include "apps/raft_demo_kv_workload.hpp"
#include "messages/to_string.hpp"
#include "tests/kit/linearizability/checker.hpp"
#include "tests/kit/linearizability/html.hpp"

namespace raft::demo {

namespace {

using namespace std::chrono_literals;

const char* const phase_names[] = {"leader up", "leader down",
                                   "old leader back"};
/// With fewer than 3 nodes (no failover).
const char* const steady_names[] = {"leader up", "leader still up",
                                    "leader still up"};

// -- the demo -----------------------------------------------------------------

/// One run of the KV demo: the cluster, the phases and the verdict; the
/// clients are a kv_workload. Everything runs on the main thread but the
/// nodes' actors and the client threads.
class kv_demo {
public:
  kv_demo(caf::actor_system& sys, const demo_options& opts)
    : sys_(sys),
      opts_(opts),
      tl_(std::make_shared<timeline>()),
      self_(sys),
      cluster_(sys, opts, tl_) {
  }

  /// Stops the clients first, then (cluster_'s destructor) the nodes.
  ~kv_demo() {
    if (load_)
      load_->stop();
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
    for (int i = 1; i <= opts_.nodes; ++i)
      if (!cluster_.start(i))
        return 1;
    load_.emplace(sys_, opts_, tl_, cluster_.servers());
    if (!find_leader(std::nullopt))
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
      cluster_.stop(old);
      begin_phase(1);
      if (!find_leader(old))
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
      if (!cluster_.start(old))
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
    bool converged = cluster_.converge(finals, replicas_);
    return report(converged, failover);
  }

private:
  // -- nodes ------------------------------------------------------------------

  /// Waits until a running node other than `not_this` leads and makes it
  /// leader_; false when none did within 10 s.
  bool find_leader(std::optional<int> not_this) {
    int found = cluster_.wait_for_leader(not_this);
    if (found != 0)
      leader_ = found;
    return found != 0;
  }

  /// Node i's commit index (0 when it does not answer).
  index_t commit_index_of(int i) {
    auto s = cluster_.status(i);
    return s ? s->commit_index : index_t{};
  }

  /// Puts "caught up" on the timeline once the restarted node `i` has
  /// applied through `target` (the leader's commit index when it
  /// restarted); sleeps a little otherwise.
  void poll_catch_up(int i, index_t target) {
    if (catch_up_ < 0) {
      auto s = cluster_.status(i);
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
    auto [taken, installed] = cluster_.snapshot_counts();
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
  /// The main thread's actor for the clients' retry counts.
  caf::scoped_actor self_;
  /// The nodes (declared before load_, so destroyed after it).
  kv_cluster cluster_;
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
