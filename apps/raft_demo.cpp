// raft-demo: the main job. A cluster of Raft nodes in one process (five by
// default), no configuration needed. It elects a leader, submits commands,
// kills the leader, shows the new election, restarts the old leader, waits
// for every log to converge, and prints a timeline and a summary.
//
// Exit status: 0 when every node applied the same commands in the same order,
// 1 otherwise, 2 on bad usage.
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
#include "persistence/memory_store.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// -- command line ---------------------------------------------------------------

struct demo_options {
  int nodes = 5;
  std::uint64_t seed = 0;
  int commands = 20; // per phase
};

void print_help() {
  std::cout
    << "usage: raft-demo [--nodes N] [--seed S] [--commands C]\n"
       "\n"
       "Runs a Raft cluster of N nodes (default 5, 1..9) in one process:\n"
       "elects a leader, submits C commands (default 20), kills the leader,\n"
       "waits for a new election, submits C more, restarts the old leader\n"
       "from its persisted state and waits until every node has applied the\n"
       "same commands. Prints a timeline and a summary.\n"
       "\n"
       "  --nodes N     cluster size (1..9, default 5)\n"
       "  --seed S      seed of the election timeouts (default: random)\n"
       "  --commands C  commands per phase (1..10000, default 20)\n"
       "  --help        this text\n"
       "\n"
       "Exit status: 0 when all nodes applied the same commands, 1 when not,\n"
       "2 on bad usage.\n";
}

std::optional<long long> parse_int(const std::string& s) {
  try {
    std::size_t used = 0;
    auto v = std::stoll(s, &used);
    if (used != s.size())
      return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

/// Returns the options, or an exit code when the program should stop.
std::variant<demo_options, int> parse_args(int argc, char** argv) {
  demo_options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> std::optional<long long> {
      std::string v;
      auto eq = arg.find('=');
      if (eq != std::string::npos) {
        v = arg.substr(eq + 1);
      } else if (i + 1 < argc) {
        v = argv[++i];
      } else {
        std::cerr << "raft-demo: " << name
                  << " needs a value (see raft-demo --help)\n";
        return std::nullopt;
      }
      auto n = parse_int(v);
      if (!n)
        std::cerr << "raft-demo: " << name << " takes a whole number, got '"
                  << v << "' (see raft-demo --help)\n";
      return n;
    };
    auto is = [&](const char* name) {
      return arg == name || arg.rfind(std::string(name) + "=", 0) == 0;
    };
    if (arg == "--help" || arg == "-h") {
      print_help();
      return 0;
    } else if (is("--nodes")) {
      auto n = value("--nodes");
      if (!n)
        return 2;
      if (*n < 1 || *n > 9) {
        std::cerr << "raft-demo: --nodes must be between 1 and 9, got " << *n
                  << "\n";
        return 2;
      }
      opts.nodes = static_cast<int>(*n);
    } else if (is("--seed")) {
      auto n = value("--seed");
      if (!n)
        return 2;
      opts.seed = static_cast<std::uint64_t>(*n);
    } else if (is("--commands")) {
      auto n = value("--commands");
      if (!n)
        return 2;
      if (*n < 1 || *n > 10000) {
        std::cerr << "raft-demo: --commands must be between 1 and 10000\n";
        return 2;
      }
      opts.commands = static_cast<int>(*n);
    } else {
      std::cerr << "raft-demo: unknown argument '" << arg
                << "' (see raft-demo --help)\n";
      return 2;
    }
  }
  if (opts.seed == 0)
    opts.seed = std::random_device{}() | 1u;
  return opts;
}

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
  recording_machine(std::shared_ptr<demo_log> log, int node, int incarnation)
    : log_(std::move(log)), node_(node), incarnation_(incarnation) {
  }

  std::string apply(const raft::apply_msg& m) override {
    if (!m.command_valid)
      return {};
    std::lock_guard<std::mutex> guard{log_->mtx};
    if (log_->incarnation[node_] == incarnation_)
      log_->applied[node_].push_back(m.command);
    return "applied at " + raft::to_string(m.command_index);
  }

private:
  std::shared_ptr<demo_log> log_;
  int node_;
  int incarnation_;
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
    for (int i = 1; i <= opts_.nodes; ++i) {
      stores_[i] = std::make_shared<raft::persistence::memory_store>();
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
      start(old);
    }
    return converge();
  }

private:
  struct summary {
    double first_election = -1;
    double failover = -1;
    int submitted = 0;
  };

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
    o.make_state_machine = [log, i, inc] {
      return std::make_unique<recording_machine>(log, i, inc);
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
      auto cmd = tag + std::to_string(k);
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
    }
    log_->event("committed " + std::to_string(opts_.commands)
                + " commands through leader node " + std::to_string(leader_)
                + " in "
                + std::to_string(static_cast<int>(
                  (log_->since_start() - t_begin) * 1000))
                + " ms");
    return true;
  }

  int converge() {
    auto deadline = clock_type::now() + 10s;
    bool same = false;
    std::map<int, std::vector<std::string>> applied;
    while (clock_type::now() < deadline) {
      {
        std::lock_guard<std::mutex> guard{log_->mtx};
        applied = log_->applied;
      }
      same = !applied.empty()
             && std::all_of(applied.begin(), applied.end(), [&](auto& kv) {
                  return kv.second == applied.begin()->second
                         && static_cast<int>(kv.second.size())
                              == summary_.submitted;
                });
      if (same)
        break;
      std::this_thread::sleep_for(20ms);
    }
    if (same)
      log_->event("all " + std::to_string(applied.size())
                  + " nodes applied the same "
                  + std::to_string(summary_.submitted) + " commands");
    print_summary(applied, same);
    return same ? 0 : 1;
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
  std::map<int, std::shared_ptr<raft::persistence::memory_store>> stores_;
  std::map<int, raft::actors::node_handles> nodes_;
  int leader_ = 0;
  summary summary_;
};

} // namespace

int main(int argc, char** argv) {
  auto parsed = parse_args(argc, argv);
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
