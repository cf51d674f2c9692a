// raft-demo: the main job. A cluster of Raft nodes in one process (five by
// default), no configuration needed. Two modes (apps/raft_demo_cli.hpp):
//
// --mode kv (the default, apps/raft_demo_kv.cpp): the replicated KV service
// with clients writing and reading while the leader is killed and
// restarted, ending with a linearizability verdict and an HTML history.
//
// --mode log (this file): elects a leader, submits commands, kills the
// leader, shows the new election, restarts the old leader, waits for every
// log to converge, and prints a timeline and a summary. With --data-dir the
// nodes keep their state on disk (disk_store), and the demo finally stops
// the whole cluster and starts it again from the directory.
//
// Exit status (--mode log): 0 when every node applied the same commands in
// the same order, 1 otherwise, 2 on bad usage.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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
#include <variant>
#include <vector>

#include <caf/all.hpp>

#include "actors/node_supervisor.hpp"
#include "actors/transport.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"
#include "apps/raft_demo_cli.hpp"
#include "apps/raft_demo_common.hpp"
#include "apps/raft_demo_kv.hpp"

namespace {

using raft::demo::clock_type;
using namespace std::chrono_literals;
using raft::demo::demo_options;

// -- shared demo state --------------------------------------------------------

/// What every node applied, per incarnation, plus the timeline. Written by
/// the state machines and the observer (actor threads), read by main; every
/// member is guarded by timeline::mtx.
struct demo_log : raft::demo::timeline {
  /// applied[node] = commands of the node's current incarnation, in order.
  std::map<int, std::vector<std::string>> applied;
  std::map<int, int> incarnation;
};

/// The demo's state machine: records every applied command of one node
/// incarnation and answers with the command's index.
class recording_machine : public raft::actors::state_machine {
public:
  recording_machine(std::shared_ptr<demo_log> log, int node, int incarnation,
                    std::size_t snapshot_bytes)
    : log_(std::move(log)),
      node_(node),
      incarnation_(incarnation),
      snapshot_bytes_(snapshot_bytes) {
  }

  std::string apply(const raft::apply_msg& m) override {
    if (m.snapshot_valid) {
      // The state is the list of applied commands, one per line.
      std::vector<std::string> state;
      std::istringstream in{m.snapshot};
      for (std::string line; std::getline(in, line);)
        state.push_back(line);
      state_ = state;
      since_snapshot_ = 0;
      {
        std::lock_guard<std::mutex> guard{log_->mtx};
        if (log_->incarnation[node_] == incarnation_)
          log_->applied[node_] = std::move(state);
      }
      log_->event("node " + std::to_string(node_)
                  + " restored its state machine from the snapshot at index "
                  + raft::to_string(m.snapshot_index) + " ("
                  + std::to_string(m.snapshot.size()) + " bytes)");
      return {};
    }
    if (!m.command_valid)
      return {};
    state_.push_back(m.command);
    since_snapshot_ += m.command.size() + 1;
    std::lock_guard<std::mutex> guard{log_->mtx};
    if (log_->incarnation[node_] == incarnation_)
      log_->applied[node_].push_back(m.command);
    return "applied at " + raft::to_string(m.command_index);
  }

  /// Snapshots by size: once the commands applied since the last snapshot
  /// pass --snapshot-bytes, Raft may drop its log through `applied`.
  std::optional<std::string> take_snapshot(raft::index_t applied) override {
    if (snapshot_bytes_ == 0 || since_snapshot_ < snapshot_bytes_)
      return std::nullopt;
    since_snapshot_ = 0;
    std::string bytes;
    for (auto& c : state_)
      bytes += c + "\n";
    log_->event("node " + std::to_string(node_) + " snapshots at index "
                + raft::to_string(applied) + " (" + std::to_string(bytes.size())
                + " bytes); its log is compacted");
    return bytes;
  }

private:
  std::shared_ptr<demo_log> log_;
  int node_;
  int incarnation_;
  /// 0: never snapshot.
  std::size_t snapshot_bytes_;
  /// The machine's state: every command applied, in order.
  std::vector<std::string> state_;
  /// Bytes of commands applied since the last snapshot.
  std::size_t since_snapshot_ = 0;
};

// -- the demo -----------------------------------------------------------------

class demo {
public:
  demo(caf::actor_system& sys, demo_options opts)
    : sys_(sys), opts_(opts), log_(std::make_shared<demo_log>()), self_(sys) {
    transport_ = raft::actors::spawn_direct_transport(sys_);
    for (int i = 1; i <= opts_.nodes; ++i)
      members_.push_back(raft::server_id{static_cast<std::uint32_t>(i)});
    observer_ = raft::demo::spawn_observer(sys_, log_);
  }

  ~demo() {
    for (auto& [id, h] : nodes_)
      raft::actors::stop_node(h);
    caf::anon_send_exit(transport_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(observer_, caf::exit_reason::user_shutdown);
  }

  int run() {
    std::cout << "raft-demo: " << opts_.nodes << " nodes, seed " << opts_.seed
              << " (replay with --seed " << opts_.seed << ")\n\ntimeline:\n";
    if (!opts_.data_dir.empty()
        && !raft::demo::make_data_dir(opts_.data_dir, opts_.nodes))
      return 1;
    for (int i = 1; i <= opts_.nodes; ++i) {
      if (!open_store(i))
        return 1;
      start(i);
    }
    if (wait_for_leader(std::nullopt) < 0)
      return fail("no leader elected within 10 s");
    // The observer's timestamp, not the polling loop's: the moment the
    // leader itself reported the role change.
    summary_.first_election = log_->first_leader_after(0);
    if (!submit_phase("a"))
      return fail("could not commit the first commands");
    int old = leader_;
    if (opts_.nodes >= 3) {
      log_->event("killing leader node " + std::to_string(old));
      auto killed_at = log_->since_start();
      raft::actors::stop_node(nodes_[old]);
      nodes_.erase(old);
      if (wait_for_leader(old) < 0)
        return fail("no new leader within 10 s of the kill");
      auto elected = log_->first_leader_after(killed_at);
      summary_.failover = elected < 0 ? -1 : elected - killed_at;
      if (!submit_phase("b"))
        return fail("could not commit after the failover");
      log_->event("restarting node " + std::to_string(old)
                  + " from its persisted state");
      if (!open_store(old))
        return 1;
      start(old);
    }
    if (!opts_.data_dir.empty()) {
      if (converge(false) != 0)
        return 1;
      if (!restart_all())
        return 1;
    }
    return converge(true);
  }

private:
  struct summary {
    double first_election = -1;
    double failover = -1;
    double restart_election = -1;
    int submitted = 0;
    /// Every command acknowledged in this run (a --data-dir may also hold
    /// an earlier run's commands).
    std::vector<std::string> acknowledged;
  };

  // -- storage ----------------------------------------------------------------

  /// Opens node i's store (raft_demo_common.hpp); false on a refusal.
  bool open_store(int i) {
    auto it = stores_.find(i);
    auto previous = it == stores_.end() ? nullptr : it->second;
    if (it != stores_.end() && !opts_.data_dir.empty())
      stores_.erase(it);
    auto store = raft::demo::open_store(opts_.data_dir, "raft-demo", i,
                                        std::move(previous), *log_);
    if (!store)
      return false;
    stores_[i] = std::move(store);
    return true;
  }

  /// Stops every node, closes every store, and starts the cluster again
  /// from the data directories; then commits one more phase of commands.
  bool restart_all() {
    log_->event("stopping the whole cluster");
    for (auto& [i, h] : nodes_)
      raft::actors::stop_node(h);
    nodes_.clear();
    log_->event("starting the whole cluster again from " + opts_.data_dir);
    for (int i = 1; i <= opts_.nodes; ++i) {
      if (!open_store(i))
        return false;
      start(i);
    }
    auto since = log_->since_start();
    if (wait_for_leader(std::nullopt) < 0) {
      fail("no leader after the full restart");
      return false;
    }
    auto elected = log_->first_leader_after(since);
    summary_.restart_election = elected < 0 ? -1 : elected - since;
    if (!submit_phase("c")) {
      fail("could not commit after the full restart");
      return false;
    }
    return true;
  }

  void start(int i) {
    {
      std::lock_guard<std::mutex> guard{log_->mtx};
      log_->incarnation[i] += 1;
      log_->applied[i].clear();
    }
    int inc = log_->incarnation[i];
    raft::actors::node_options o;
    o.raft.id = raft::server_id{static_cast<std::uint32_t>(i)};
    o.raft.members = members_;
    o.raft.rng_seed = opts_.seed + static_cast<std::uint64_t>(inc) * 7919;
    o.tick_interval = 10ms;
    o.store = stores_[i];
    o.transport = transport_;
    auto log = log_;
    auto snapshot_bytes = opts_.snapshot_bytes;
    o.make_state_machine = [log, i, inc, snapshot_bytes] {
      return std::make_unique<recording_machine>(log, i, inc, snapshot_bytes);
    };
    o.observer = observer_;
    auto h = raft::actors::spawn_node(sys_, std::move(o));
    caf::anon_send(transport_, raft::register_atom::value,
                   raft::server_id{static_cast<std::uint32_t>(i)}, h.peer);
    nodes_[i] = h;
  }

  std::optional<raft::peer_status> status_of(int i) {
    auto it = nodes_.find(i);
    if (it == nodes_.end())
      return std::nullopt;
    return raft::demo::status_of(self_, it->second.peer);
  }

  /// Waits until a node other than `not_this` leads; returns the time since
  /// start, or -1 after 10 s.
  double wait_for_leader(std::optional<int> not_this) {
    auto deadline = clock_type::now() + 10s;
    while (clock_type::now() < deadline) {
      for (auto& [i, h] : nodes_) {
        if (not_this && i == *not_this)
          continue;
        auto s = status_of(i);
        if (s && s->role == raft::role::leader) {
          leader_ = i;
          return log_->since_start();
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  /// Submits opts_.commands commands through the leader's state machine,
  /// following not_leader hints; true when all were applied.
  bool submit_phase(const std::string& tag) {
    auto t_begin = log_->since_start();
    for (int k = 0; k < opts_.commands; ++k) {
      // Unique per run, so a --data-dir holding an earlier run's commands
      // cannot pass for this run's.
      auto cmd = "run" + std::to_string(opts_.seed) + "-" + tag
                 + std::to_string(k);
      auto deadline = clock_type::now() + 10s;
      bool done = false;
      while (!done && clock_type::now() < deadline) {
        auto it = nodes_.find(leader_);
        if (it == nodes_.end()) {
          if (wait_for_leader(std::nullopt) < 0)
            return false;
          continue;
        }
        raft::client_reply reply;
        bool answered = false;
        self_->request(it->second.state_machine, 2s, raft::submit_atom::value,
                       cmd)
          .receive(
            [&](const raft::client_reply& r) {
              reply = r;
              answered = true;
            },
            [&](caf::error&) {});
        if (answered && reply.error == raft::errc::none) {
          done = true;
        } else if (answered && reply.error == raft::errc::not_leader
                   && reply.leader_hint != raft::no_server) {
          leader_ = static_cast<int>(reply.leader_hint.value);
        } else {
          std::this_thread::sleep_for(50ms);
          wait_for_leader(std::nullopt);
        }
      }
      if (!done)
        return false;
      ++summary_.submitted;
      summary_.acknowledged.push_back(cmd);
    }
    log_->event("committed " + std::to_string(opts_.commands)
                + " commands through leader node " + std::to_string(leader_)
                + " in "
                + std::to_string(static_cast<int>(
                  (log_->since_start() - t_begin) * 1000))
                + " ms");
    return true;
  }

  /// Waits until every node applied the same sequence and that sequence
  /// holds every command acknowledged in this run; prints the summary when
  /// `final`. Returns 0 when converged.
  int converge(bool final) {
    auto deadline = clock_type::now() + 10s;
    bool same = false;
    std::map<int, std::vector<std::string>> applied;
    while (clock_type::now() < deadline) {
      {
        std::lock_guard<std::mutex> guard{log_->mtx};
        applied = log_->applied;
      }
      same = !applied.empty() && holds_acknowledged(applied.begin()->second)
             && std::all_of(applied.begin(), applied.end(), [&](auto& kv) {
                  return kv.second == applied.begin()->second;
                });
      if (same)
        break;
      std::this_thread::sleep_for(20ms);
    }
    if (same)
      log_->event("all " + std::to_string(applied.size())
                  + " nodes applied the same "
                  + std::to_string(applied.begin()->second.size())
                  + " commands");
    if (final || !same)
      print_summary(applied, same);
    return same ? 0 : 1;
  }

  /// True when `seq` contains every command acknowledged in this run, in
  /// the order they were acknowledged.
  bool holds_acknowledged(const std::vector<std::string>& seq) const {
    auto it = seq.begin();
    for (auto& cmd : summary_.acknowledged) {
      it = std::find(it, seq.end(), cmd);
      if (it == seq.end())
        return false;
      ++it;
    }
    return true;
  }

  void print_summary(const std::map<int, std::vector<std::string>>& applied,
                     bool same) {
    std::cout << "\nsummary:\n";
    auto leaders = log_->leaders_seen();
    std::cout << "  leaders:          " << raft::demo::describe_leaders(leaders)
              << "\n";
    std::cout << "  highest term:     "
              << (leaders.empty() ? 0 : leaders.rbegin()->first) << "\n";
    std::cout << "  first election:   " << std::fixed << std::setprecision(3)
              << summary_.first_election << " s after start\n";
    if (summary_.failover >= 0)
      std::cout << "  failover:         " << summary_.failover
                << " s from leader kill to new leader\n";
    if (summary_.restart_election >= 0)
      std::cout << "  full restart:     leader " << summary_.restart_election
                << " s after starting again from " << opts_.data_dir << "\n";
    std::cout << "  commands:         " << summary_.submitted
              << " submitted and acknowledged\n";
    for (auto& [i, cmds] : applied) {
      auto st = status_of(i);
      std::cout << "  node " << i << ":           " << cmds.size()
                << " applied";
      if (st)
        std::cout << ", commit index " << st->commit_index << ", role "
                  << raft::to_string(st->role) << ", term " << st->term;
      std::cout << "\n";
    }
    std::cout << "  result:           "
              << (same ? "OK: every node applied the same commands"
                       : "MISMATCH: nodes differ (see above)")
              << "\n";
  }

  int fail(const std::string& why) {
    std::cout << "\nraft-demo: FAILED: " << why << " (seed " << opts_.seed
              << ")\n";
    std::map<int, std::vector<std::string>> applied;
    {
      std::lock_guard<std::mutex> guard{log_->mtx};
      applied = log_->applied;
    }
    print_summary(applied, false);
    return 1;
  }

  caf::actor_system& sys_;
  demo_options opts_;
  std::shared_ptr<demo_log> log_;
  caf::scoped_actor self_;
  caf::actor transport_;
  caf::actor observer_;
  std::vector<raft::server_id> members_;
  std::map<int, std::shared_ptr<raft::persistence::store>> stores_;
  std::map<int, raft::actors::node_handles> nodes_;
  int leader_ = 0;
  summary summary_;
};

} // namespace

int main(int argc, char** argv) {
  auto parsed = raft::demo::parse_args(argc, argv);
  if (auto* code = std::get_if<int>(&parsed))
    return *code;
  auto opts = std::get<demo_options>(parsed);
  caf::actor_system_config cfg;
  raft::register_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  int rc = 1;
  {
    caf::actor_system sys{cfg};
    if (opts.mode == raft::demo::demo_mode::kv) {
      rc = raft::demo::run_kv_demo(sys, opts);
    } else {
      demo d{sys, opts};
      rc = d.run();
    }
  }
  return rc;
}
