// raft-demo: the main job. A cluster of Raft nodes in one process (five by
// default), no configuration needed. It elects a leader, submits commands,
// kills the leader, shows the new election, restarts the old leader, waits
// for every log to converge, and prints a timeline and a summary. With
// --data-dir the nodes keep their state on disk (disk_store), and the demo
// finally stops the whole cluster and starts it again from the directory.
//
// Exit status: 0 when every node applied the same commands in the same order,
// 1 otherwise, 2 on bad usage.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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
#include <variant>
#include <vector>

#include <caf/all.hpp>

#include "actors/node_supervisor.hpp"
#include "actors/transport.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"
#include "persistence/disk_store.hpp"
#include "persistence/memory_store.hpp"
#include "apps/raft_demo_cli.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;
using raft::demo::demo_options;

// -- shared demo state ------------------------------------------------------------

/// What every node applied, per incarnation, plus the timeline. Written by
/// the state machines and the observer (actor threads), read by main.
struct demo_log {
  clock_type::time_point t0 = clock_type::now();
  std::mutex mtx;
  std::vector<std::string> timeline;
  /// applied[node] = commands of the node's current incarnation, in order.
  std::map<int, std::vector<std::string>> applied;
  std::map<int, int> incarnation;
  /// Terms in which some node became leader, and who.
  std::map<std::uint64_t, int> leaders;
  /// When (seconds since start) the leader of each term announced itself.
  std::map<std::uint64_t, double> leader_since;

  /// The earliest leader announcement at or after `t`, or -1.
  double first_leader_after(double t) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& [term, at] : leader_since)
      if (at >= t)
        return at;
    return -1;
  }

  double since_start() const {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
  }

  void event(const std::string& what) {
    std::ostringstream line;
    line << "  +" << std::fixed << std::setprecision(3) << since_start()
         << "s  " << what;
    std::lock_guard<std::mutex> guard{mtx};
    timeline.push_back(line.str());
    std::cout << line.str() << std::endl;
  }
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

// -- the demo -----------------------------------------------------------------------

class demo {
public:
  demo(caf::actor_system& sys, demo_options opts)
    : sys_(sys), opts_(opts), log_(std::make_shared<demo_log>()), self_(sys) {
    transport_ = raft::actors::spawn_direct_transport(sys_);
    for (int i = 1; i <= opts_.nodes; ++i)
      members_.push_back(raft::server_id{static_cast<std::uint32_t>(i)});
    observer_ = spawn_observer();
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
    if (!opts_.data_dir.empty() && !make_data_dir())
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

  // -- storage ------------------------------------------------------------------

  bool make_data_dir() {
    std::error_code ec;
    std::filesystem::create_directories(opts_.data_dir, ec);
    if (ec) {
      std::cerr << "raft-demo: cannot create --data-dir " << opts_.data_dir
                << ": " << ec.message() << "\n";
      return false;
    }
    // The cluster's membership is not stored yet (membership changes are a
    // later issue): a directory of a cluster of another size is refused
    // rather than silently re-read with different majorities.
    int found = 0;
    bool others = false;
    for (auto& entry : std::filesystem::directory_iterator(opts_.data_dir, ec)) {
      auto name = entry.path().filename().string();
      if (name.rfind("node-", 0) != 0)
        continue;
      ++found;
      auto id = std::atoi(name.c_str() + 5);
      others = others || id < 1 || id > opts_.nodes;
    }
    if (found > 0 && (others || found != opts_.nodes)) {
      std::cerr << "raft-demo: " << opts_.data_dir << " holds " << found
                << " node directories, but --nodes is " << opts_.nodes
                << "; run with the cluster size it was created with, or use"
                   " another --data-dir\n";
      return false;
    }
    return true;
  }

  /// Opens node i's store: memory, or its disk_store (recovering it). On a
  /// refusal (foreign or corrupt directory, held LOCK) prints the store's
  /// one-line reason and returns false.
  bool open_store(int i) {
    if (opts_.data_dir.empty()) {
      if (!stores_.count(i)) // a restart keeps the memory store
        stores_[i] = std::make_shared<raft::persistence::memory_store>();
      return true;
    }
    // A restarted process: the old instance's store dies first.
    if (auto it = stores_.find(i); it != stores_.end()) {
      static_cast<raft::persistence::disk_store&>(*it->second).crash();
      stores_.erase(it);
    }
    raft::persistence::disk_options d;
    d.dir = opts_.data_dir + "/node-" + std::to_string(i);
    d.cluster_id = "raft-demo";
    d.node = raft::server_id{static_cast<std::uint32_t>(i)};
    try {
      auto store = raft::persistence::disk_store::open(d);
      auto& r = store->recovery();
      std::ostringstream what;
      what << "node " << i << " opened " << d.dir << ": ";
      if (r.created)
        what << "new data directory";
      else
        what << "log " << raft::to_string(r.first_index) << ".."
             << raft::to_string(r.last_index) << " in " << r.segments
             << " segment(s)";
      if (!r.snapshot_file.empty())
        what << ", snapshot " << r.snapshot_file;
      if (r.dropped_torn_tail)
        what << "; dropped a torn tail: " << r.torn_tail_detail;
      log_->event(what.str());
      stores_[i] = std::move(store);
      return true;
    } catch (const std::exception& e) {
      std::cerr << "raft-demo: " << e.what() << "\n";
      return false;
    }
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

  caf::actor spawn_observer() {
    auto log = log_;
    return sys_.spawn([log](caf::event_based_actor* self) -> caf::behavior {
      auto last = std::make_shared<std::map<std::uint32_t, raft::peer_status>>();
      return {
        [=](const raft::peer_status& s) {
          auto& prev = (*last)[s.id.value];
          std::string what;
          if (s.role != prev.role || s.term != prev.term) {
            what = "node " + raft::to_string(s.id) + " is "
                   + raft::to_string(s.role) + " in term "
                   + raft::to_string(s.term);
            if (s.role == raft::role::leader) {
              std::lock_guard<std::mutex> guard{log->mtx};
              log->leaders[s.term.value] = static_cast<int>(s.id.value);
              log->leader_since[s.term.value] = log->since_start();
            }
          }
          prev = s;
          if (!what.empty())
            log->event(what);
          static_cast<void>(self);
        },
      };
    });
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
    std::optional<raft::peer_status> result;
    auto it = nodes_.find(i);
    if (it == nodes_.end())
      return result;
    self_->request(it->second.peer, 1s, caf::get_atom::value,
                   raft::status_atom::value)
      .receive([&](const raft::peer_status& s) { result = s; },
               [&](caf::error&) {});
    return result;
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
    std::map<std::uint64_t, int> leaders;
    {
      std::lock_guard<std::mutex> guard{log_->mtx};
      leaders = log_->leaders;
    }
    std::cout << "  leaders:          ";
    const char* sep = "";
    for (auto& [term, id] : leaders) {
      std::cout << sep << "node " << id << " (term " << term << ")";
      sep = ", ";
    }
    std::cout << "\n";
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
    {
      demo d{sys, opts};
      rc = d.run();
    }
  }
  return rc;
}
