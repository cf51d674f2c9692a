// raft-node: one Raft node of the replicated KV service per process, its
// peers and clients reached over caf::io (docs/architecture.md §7, issue 6).
// It opens its data directory (disk_store), publishes one endpoint actor on
// its own port (actors/net/endpoint_actor), dials the other members through
// a remote_transport, and runs the node (peer, timer, persister,
// kv_state_machine) until SIGTERM or SIGINT.
//
//   raft-node --id N --cluster 1=HOST:PORT,2=HOST:PORT,... --data-dir DIR
//             [--cluster-id NAME] [--election-ms MS] [--heartbeat-ms MS]
//             [--max-raft-state BYTES] [--read-index]
//             [--scheduler-policy sharing|stealing] [--scheduler-threads N]
//             [--config FILE]
//
// Exit codes: 0 stopped by SIGTERM/SIGINT; 1 the node failed while
// running; 2 bad flags; 3 data directory refused (cannot be opened, another
// node's or cluster's, locked); 4 port in use (cannot publish).
//
// stdout: one line at start ("node N listening on HOST:PORT ...") and one
// per change of role or leader ("node 2 role=leader term=5 leader=2"),
// flushed at once, so scripts can follow it.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/kv/kv_state_machine.hpp"
#include "actors/net/endpoint_actor.hpp"
#include "actors/net/io_settings.hpp"
#include "actors/net/remote_transport.hpp"
#include "actors/net/wire.hpp"
#include "actors/node_supervisor.hpp"
#include "apps/stop_signals.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"
#include "persistence/disk_store.hpp"

namespace {

using raft::server_id;

// -- flags --------------------------------------------------------------------

struct node_flags {
  server_id id;
  raft::net::cluster_map cluster;
  std::string data_dir;
  std::string cluster_id = "raft";
  int election_ms = 300;
  int heartbeat_ms = 100;
  std::int64_t max_raft_state = -1;
  bool read_index = false;
  /// CAF scheduler: "sharing" (default; the lower loopback latency on a
  /// small box, docs/architecture.md §9) or "stealing", and its thread
  /// count.
  std::string scheduler_policy = "sharing";
  int scheduler_threads = 2;
};

constexpr int tick_ms = 10;

const char* const usage =
  "usage: raft-node --id N --cluster 1=HOST:PORT,2=HOST:PORT,... "
  "--data-dir DIR\n"
  "                 [--cluster-id NAME] [--election-ms MS] "
  "[--heartbeat-ms MS]\n"
  "                 [--max-raft-state BYTES] [--read-index]\n"
  "                 [--scheduler-policy sharing|stealing] "
  "[--scheduler-threads N]\n"
  "                 [--config FILE]\n"
  "  --id N              this node's id (a member of --cluster)\n"
  "  --cluster LIST      every member: ID=HOST:PORT, comma-separated\n"
  "  --data-dir DIR      this node's data directory (created if missing)\n"
  "  --cluster-id NAME   cluster name, checked on disk and on the wire "
  "(default raft)\n"
  "  --election-ms MS    lower bound of the election timeout (default 300)\n"
  "  --heartbeat-ms MS   leader heartbeat interval (default 100)\n"
  "  --max-raft-state B  snapshot once the Raft state reaches B bytes "
  "(default: never)\n"
  "  --read-index        answer gets with ReadIndex instead of the log\n"
  "  --scheduler-policy P  CAF scheduler policy (default sharing)\n"
  "  --scheduler-threads N CAF scheduler threads (default 2)\n"
  "  --config FILE       the same settings as `key = value` lines (flag\n"
  "                      names without --); command-line flags win\n"
  "exit codes: 0 stopped by a signal, 1 node failure, 2 bad flags, 3 data "
  "directory refused, 4 port in use\n";

bool parse_int(const std::string& s, long long lo, long long hi,
               long long& out) {
  if (s.empty())
    return false;
  std::size_t pos = 0;
  try {
    out = std::stoll(s, &pos);
  } catch (...) {
    return false;
  }
  return pos == s.size() && out >= lo && out <= hi;
}

/// Reads a config file: one `key = value` per line (the flag names without
/// "--"; `read-index = true|false`), '#' starts a comment. Appends the
/// equivalent flags to `out`; false with "FILE:LINE: why" in `why`.
bool read_config(const std::string& path, std::vector<std::string>& out,
                 std::string& why) {
  std::ifstream in{path};
  if (!in) {
    why = "cannot read --config file " + path;
    return false;
  }
  auto trim = [](std::string x) {
    auto b = x.find_first_not_of(" \t\r");
    auto e = x.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string{} : x.substr(b, e - b + 1);
  };
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto hash = line.find('#');
    if (hash != std::string::npos)
      line.resize(hash);
    line = trim(line);
    if (line.empty())
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) {
      why = path + ":" + std::to_string(n) + ": expected key = value";
      return false;
    }
    auto key = trim(line.substr(0, eq));
    auto value = trim(line.substr(eq + 1));
    if (key == "config") {
      why = path + ":" + std::to_string(n) + ": config files do not nest";
      return false;
    }
    if (key == "read-index") {
      if (value == "true")
        out.push_back("--read-index");
      else if (value != "false") {
        why = path + ":" + std::to_string(n) + ": read-index is true or false";
        return false;
      }
      continue;
    }
    out.push_back("--" + key + "=" + value);
  }
  return true;
}

/// Parses the flags (after any --config file's); false with a one-line
/// reason in `why`.
bool parse_flags(const std::vector<std::string>& args, node_flags& f,
                 std::string& why, bool& help) {
  bool have_id = false;
  bool have_cluster = false;
  const auto argc = static_cast<int>(args.size());
  for (int i = 0; i < argc; ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      return true;
    }
    if (arg == "--read-index") {
      f.read_index = true;
      continue;
    }
    std::string name = arg;
    std::string value;
    auto eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (arg.rfind("--", 0) == 0) {
      if (i + 1 >= argc) {
        why = "missing value for " + arg;
        return false;
      }
      value = args[++i];
    } else {
      why = "unexpected argument '" + arg + "'";
      return false;
    }
    long long n = 0;
    if (name == "--id") {
      if (!parse_int(value, 1, 0xFFFFFFFFll, n)) {
        why = "--id must be a number >= 1, got '" + value + "'";
        return false;
      }
      f.id = server_id{static_cast<std::uint32_t>(n)};
      have_id = true;
    } else if (name == "--cluster") {
      if (!raft::net::parse_cluster_map(value, f.cluster, why))
        return false;
      have_cluster = true;
    } else if (name == "--data-dir") {
      f.data_dir = value;
    } else if (name == "--cluster-id") {
      f.cluster_id = value;
    } else if (name == "--election-ms") {
      if (!parse_int(value, 2 * tick_ms, 600000, n)) {
        why = "--election-ms must be in 20..600000, got '" + value + "'";
        return false;
      }
      f.election_ms = static_cast<int>(n);
    } else if (name == "--heartbeat-ms") {
      if (!parse_int(value, tick_ms, 600000, n)) {
        why = "--heartbeat-ms must be in 10..600000, got '" + value + "'";
        return false;
      }
      f.heartbeat_ms = static_cast<int>(n);
    } else if (name == "--max-raft-state") {
      if (!parse_int(value, -1, 1ll << 50, n)) {
        why = "--max-raft-state must be a byte count, got '" + value + "'";
        return false;
      }
      f.max_raft_state = n;
    } else if (name == "--scheduler-policy") {
      if (value != "sharing" && value != "stealing") {
        why = "--scheduler-policy must be sharing or stealing, got '" + value
              + "'";
        return false;
      }
      f.scheduler_policy = value;
    } else if (name == "--scheduler-threads") {
      if (!parse_int(value, 1, 64, n)) {
        why = "--scheduler-threads must be in 1..64, got '" + value + "'";
        return false;
      }
      f.scheduler_threads = static_cast<int>(n);
    } else {
      why = "unknown flag " + name;
      return false;
    }
  }
  if (!have_id || !have_cluster || f.data_dir.empty()) {
    why = "--id, --cluster and --data-dir are required";
    return false;
  }
  if (f.cluster.count(f.id) == 0) {
    why = "--id " + std::to_string(f.id.value) + " is not in --cluster";
    return false;
  }
  if (f.heartbeat_ms >= f.election_ms) {
    why = "--heartbeat-ms must be smaller than --election-ms";
    return false;
  }
  return true;
}

// -- role log -----------------------------------------------------------------

struct observer_state {
  bool printed = false;
  raft::role role = raft::role::follower;
  server_id leader;
};

/// Prints one line per change of role or leader (node_options::observer).
caf::behavior role_logger(caf::stateful_actor<observer_state>* self) {
  return {
    [self](const raft::peer_status& s) {
      auto& st = self->state;
      if (st.printed && st.role == s.role && st.leader == s.leader)
        return;
      st.printed = true;
      st.role = s.role;
      st.leader = s.leader;
      std::cout << "node " << s.id << " role=" << raft::to_string(s.role)
                << " term=" << s.term << " leader=" << s.leader << std::endl;
    },
  };
}

// -- main ---------------------------------------------------------------------

struct node_config : caf::actor_system_config {
  explicit node_config(const node_flags& f) {
    load<caf::io::middleman>();
    raft::register_types(*this);
    // Hung peers detected within about a second; the scheduler chosen.
    raft::net::use_node_io_settings(*this, f.scheduler_policy,
                                    f.scheduler_threads);
  }
};

int run(const node_flags& f) {
  // Open the data directory first: a refused one must not touch the port.
  std::shared_ptr<raft::persistence::disk_store> store;
  try {
    raft::persistence::disk_options d;
    d.dir = f.data_dir;
    d.cluster_id = f.cluster_id;
    d.node = f.id;
    store = raft::persistence::disk_store::open(d);
  } catch (const std::exception& e) {
    std::cerr << "raft-node: data directory refused: " << e.what()
              << std::endl;
    return 3;
  }
  // Before the actor system starts its threads: they inherit the mask.
  raft::apps::block_stop_signals();

  node_config cfg{f};
  caf::actor_system sys{cfg};
  const auto& me = f.cluster.at(f.id);
  std::set<server_id> members;
  for (auto& kv : f.cluster)
    members.insert(kv.first);

  auto endpoint = sys.spawn(raft::net::endpoint_actor,
                            raft::net::endpoint_config{f.cluster_id, f.id,
                                                       members});
  auto published = sys.middleman().publish(endpoint, me.port, me.host.c_str(),
                                           true);
  if (!published) {
    std::cerr << "raft-node: cannot listen on " << me.host << ":" << me.port
              << ": " << sys.render(published.error()) << std::endl;
    caf::anon_send_exit(endpoint, caf::exit_reason::user_shutdown);
    return 4;
  }

  raft::net::remote_transport_config tc;
  tc.members = f.cluster;
  tc.self = f.id;
  tc.cluster_id = f.cluster_id;
  auto transport = sys.spawn(raft::net::remote_transport, tc);
  auto logger = sys.spawn(role_logger);

  raft::kv::kv_options kvo;
  kvo.max_raft_state = f.max_raft_state;
  kvo.read_index = f.read_index;
  kvo.raft_state_bytes = [store] {
    return static_cast<std::uint64_t>(store->raft_state_size());
  };
  raft::actors::node_options o;
  o.raft.id = f.id;
  for (auto id : members)
    o.raft.members.push_back(id);
  o.raft.election_ticks = f.election_ms / tick_ms;
  o.raft.heartbeat_ticks = f.heartbeat_ms / tick_ms;
  o.raft.noop_on_election = true;
  o.raft.rng_seed = std::random_device{}();
  o.tick_interval = std::chrono::milliseconds{tick_ms};
  o.store = store;
  o.transport = transport;
  o.make_state_machine = [kvo] {
    return std::make_unique<raft::kv::kv_state_machine>(kvo);
  };
  o.observer = logger;
  auto h = raft::actors::spawn_node(sys, std::move(o));
  caf::anon_send(endpoint, raft::register_atom::value, h.peer,
                 h.state_machine);
  std::cout << "node " << f.id << " listening on " << me.host << ":"
            << *published << " cluster=" << f.cluster_id << " members="
            << members.size() << " data-dir=" << f.data_dir << std::endl;

  caf::scoped_actor self{sys};
  self->monitor(h.supervisor);
  bool node_failed = false;
  int signal_number = 0;
  while (signal_number <= 0 && !node_failed) {
    signal_number = raft::apps::poll_stop_signal();
    self->receive([&](caf::down_msg&) { node_failed = true; },
                  caf::after(std::chrono::milliseconds{0}) >> [] {});
  }
  if (node_failed) {
    std::cerr << "raft-node: node " << f.id << " failed; see the line above"
              << std::endl;
  } else {
    std::cout << "node " << f.id << " stopping (signal " << signal_number
              << ")" << std::endl;
    raft::actors::stop_node(h);
    self->receive([](caf::down_msg&) {},
                  caf::after(std::chrono::seconds{5}) >> [&] {
                    std::cerr << "raft-node: node did not stop within 5 s"
                              << std::endl;
                  });
  }
  sys.middleman().unpublish(endpoint, *published);
  for (auto& a : {endpoint, transport, logger})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  h = raft::actors::node_handles{};
  if (!node_failed)
    std::cout << "node " << f.id << " stopped" << std::endl;
  return node_failed ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
  node_flags f;
  std::string why;
  bool help = false;
  // --config FILE first, so that flags on the command line override it.
  std::vector<std::string> args;
  std::vector<std::string> rest;
  bool config_ok = true;
  for (int i = 1; i < argc && config_ok; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc)
      config_ok = read_config(argv[++i], args, why);
    else if (arg.rfind("--config=", 0) == 0)
      config_ok = read_config(arg.substr(9), args, why);
    else
      rest.push_back(arg);
  }
  args.insert(args.end(), rest.begin(), rest.end());
  if (!config_ok || !parse_flags(args, f, why, help)) {
    std::cerr << "raft-node: " << why << " (--help for usage)" << std::endl;
    return 2;
  }
  if (help) {
    std::cout << usage;
    return 0;
  }
  return run(f);
}
