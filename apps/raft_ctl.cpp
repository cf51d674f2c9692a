// raft-ctl: talks to a cluster of raft-node processes (issue 6).
//
//   raft-ctl --cluster HOST:PORT,... [--json] [--timeout-ms MS] COMMAND
//     put K V | get K | append K V | delete K | cas K OLD NEW
//     status | leader
//     workload [--clients C] [--seconds T] [--seed S] [--history FILE]
//       (apps/raft_ctl_workload.hpp: concurrent clients until T seconds or
//       SIGTERM, then a linearizability check; exit 1 if not linearizable)
//     ping [--count N]  (N timed status round trips to the first endpoint)
//
// --cluster may name any subset of the nodes. raft-ctl connects to each
// endpoint (non-blocking connect with a timeout), learns its server id from
// its status, and runs KV commands through kv::client_actor over those
// endpoints, which follows leader hints and retries until --timeout-ms.
//
// Output: human by default; --json prints one JSON value. `get K` prints
// the value alone (plus a newline). `leader` prints the leader's id
// (--json: {"id": N}).
//
// Exit codes: 0 ok; 1 not found (get or delete of an absent key) or a cas
// whose condition did not hold; 2 bad usage (or a request the service
// refuses as malformed / too large); 3 unavailable (no endpoint reachable,
// or no leader / no answer within --timeout-ms).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/kv/kv_command.hpp"
#include "actors/kv_client/blocking_client.hpp"
#include "actors/net/io_settings.hpp"
#include "actors/net/wire.hpp"
#include "apps/raft_ctl_workload.hpp"
#include "apps/stop_signals.hpp"
#include "messages/client_messages.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"
#include "util/json_string.hpp"
#include "util/percentile.hpp"

namespace {

using namespace std::chrono_literals;
using raft::server_id;
using raft::util::json_string;

const char* const usage =
  "usage: raft-ctl --cluster HOST:PORT,... [--json] [--timeout-ms MS] "
  "COMMAND\n"
  "commands: put K V | get K | append K V | delete K | cas K OLD NEW |\n"
  "          status | leader |\n"
  "          workload [--clients C] [--seconds T] [--seed S] [--history F] |\n"
  "          ping [--count N]   (timed status round trips to one node)\n"
  "exit codes: 0 ok, 1 not found / cas condition false, 2 bad usage,\n"
  "            3 unavailable (no leader or no answer within --timeout-ms,\n"
  "            default 10000)\n";

struct ctl_flags {
  std::vector<raft::net::member_address> endpoints;
  bool json = false;
  std::chrono::milliseconds timeout{10000};
  std::vector<std::string> command;
};

int bad_usage(const std::string& why) {
  std::cerr << "raft-ctl: " << why << " (--help for usage)" << std::endl;
  return 2;
}

struct ctl_config : caf::actor_system_config {
  ctl_config() {
    load<caf::io::middleman>();
    raft::register_types(*this);
    // As raft-node's: a hung node detected within about a second.
    raft::net::use_node_io_settings(*this);
  }
};

/// One endpoint given in --cluster.
struct endpoint {
  raft::net::member_address addr;
  caf::actor handle; // invalid when unreachable
  std::optional<raft::peer_status> status;
  std::uint64_t refused = 0;
};

/// Runs fn(ep) for every endpoint, each in its own thread, so a slow
/// (hung) node costs one timeout per round, not one per node.
template <class F>
void for_each_parallel(std::vector<endpoint>& eps, F fn) {
  std::vector<std::thread> threads;
  for (auto& ep : eps)
    threads.emplace_back([&fn, &ep] { fn(ep); });
  for (auto& t : threads)
    t.join();
}

/// Connects to every endpoint not connected yet (each attempt bounded by
/// 2 s; a refused connection fails at once).
void connect_all(caf::actor_system& sys, std::vector<endpoint>& eps) {
  auto mm = sys.middleman().actor_handle();
  for_each_parallel(eps, [&](endpoint& ep) {
    if (ep.handle)
      return;
    caf::scoped_actor self{sys};
    self
      ->request(mm, 2s, caf::connect_atom::value, ep.addr.host, ep.addr.port)
      .receive(
        [&](const caf::node_id&, caf::strong_actor_ptr& p,
            const std::set<std::string>&) {
          ep.handle = caf::actor_cast<caf::actor>(std::move(p));
        },
        [&](caf::error&) {});
  });
}

/// Refreshes each connected endpoint's status (each query bounded by 1 s).
/// An endpoint that does not answer is dropped (dialled again by the next
/// connect_all: the node may have been restarted).
void query_all(caf::actor_system& sys, std::vector<endpoint>& eps) {
  for_each_parallel(eps, [&](endpoint& ep) {
    ep.status.reset();
    if (!ep.handle)
      return;
    caf::scoped_actor self{sys};
    self->request(ep.handle, 1s, caf::get_atom::value, raft::status_atom::value)
      .receive([&](raft::peer_status& s) { ep.status = s; },
               [&](caf::error&) { ep.handle = nullptr; });
    if (!ep.status)
      return;
    self
      ->request(ep.handle, 1s, caf::get_atom::value,
                raft::net::refused_atom::value)
      .receive([&](std::uint64_t n) { ep.refused = n; },
               [&](caf::error&) {});
  });
}

std::string address(const endpoint& ep) {
  return ep.addr.host + ":" + std::to_string(ep.addr.port);
}

int cmd_status(caf::actor_system& sys, std::vector<endpoint>& eps,
               const ctl_flags& f) {
  query_all(sys, eps);
  bool any = false;
  if (f.json)
    std::cout << "[";
  bool first = true;
  for (auto& ep : eps) {
    if (f.json) {
      std::cout << (first ? "" : ",") << "{\"address\":"
                << json_string(address(ep))
                << ",\"reachable\":" << (ep.status ? "true" : "false");
      first = false;
    }
    if (!ep.status) {
      if (!f.json)
        std::cout << address(ep) << " unreachable\n";
      else
        std::cout << "}";
      continue;
    }
    any = true;
    const auto& s = *ep.status;
    if (f.json)
      std::cout << ",\"id\":" << s.id << ",\"role\":\""
                << raft::to_string(s.role) << "\",\"term\":" << s.term
                << ",\"leader\":" << s.leader
                << ",\"commit\":" << s.commit_index
                << ",\"applied\":" << s.last_applied
                << ",\"first_index\":" << s.first_index
                << ",\"last_index\":" << s.last_index
                << ",\"durable\":" << s.durable_index
                << ",\"snapshot_index\":" << s.snapshot.index
                << ",\"snapshot_term\":" << s.snapshot.term
                << ",\"refused\":" << ep.refused << "}";
    else
      std::cout << address(ep) << " id=" << s.id << " role="
                << raft::to_string(s.role) << " term=" << s.term
                << " leader=" << s.leader << " commit=" << s.commit_index
                << " applied=" << s.last_applied << " log="
                << s.first_index << ".." << s.last_index
                << " snapshot=" << raft::to_string(s.snapshot) // term/index
                << " durable=" << s.durable_index
                << " refused=" << ep.refused << "\n";
  }
  if (f.json)
    std::cout << "]\n";
  std::cout << std::flush;
  return any ? 0 : 3;
}

int cmd_leader(caf::actor_system& sys, std::vector<endpoint>& eps,
               const ctl_flags& f) {
  auto deadline = std::chrono::steady_clock::now() + f.timeout;
  for (;;) {
    connect_all(sys, eps); // nodes may still be starting
    query_all(sys, eps);
    std::optional<raft::peer_status> best;
    for (auto& ep : eps)
      if (ep.status && ep.status->role == raft::role::leader
          && (!best || best->term < ep.status->term))
        best = ep.status;
    if (best) {
      if (f.json)
        std::cout << "{\"id\": " << best->id << ", \"term\": " << best->term
                  << "}" << std::endl;
      else
        std::cout << best->id << std::endl;
      return 0;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(50ms);
  }
  std::cerr << "raft-ctl: no leader among the reachable endpoints" << std::endl;
  return 3;
}

/// Learns the endpoints' ids (their status). The client can only follow a
/// leader hint to an endpoint whose id it knows, so a node whose status
/// query failed (still starting, or slow under load) is asked again: go on
/// once every endpoint answered, or once some did and one of them leads, or
/// after 2 s with at least one answer; give up at the timeout.
/// Returns the deadline (now + the timeout at the call).
std::chrono::steady_clock::time_point
wait_for_ids(caf::actor_system& sys, std::vector<endpoint>& eps,
             const ctl_flags& f) {
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + f.timeout;
  for (;;) {
    connect_all(sys, eps);
    query_all(sys, eps);
    std::size_t answered = 0;
    bool leader = false;
    for (auto& ep : eps)
      if (ep.status) {
        ++answered;
        leader = leader || ep.status->role == raft::role::leader;
      }
    auto now = std::chrono::steady_clock::now();
    if (answered == eps.size() || now >= deadline
        || (answered > 0 && (leader || now - start >= 2s)))
      return deadline;
    std::this_thread::sleep_for(100ms);
  }
}

int cmd_kv(caf::actor_system& sys, std::vector<endpoint>& eps,
           const ctl_flags& f) {
  const auto& c = f.command;
  const auto& verb = c[0];
  raft::kv::command cmd;
  std::size_t want = 0;
  if (verb == "put") {
    cmd.kind = raft::kv::op::put, want = 3;
  } else if (verb == "get") {
    cmd.kind = raft::kv::op::get, want = 2;
  } else if (verb == "append") {
    cmd.kind = raft::kv::op::append, want = 3;
  } else if (verb == "delete") {
    cmd.kind = raft::kv::op::del, want = 2;
  } else if (verb == "cas") {
    cmd.kind = raft::kv::op::cas, want = 4;
  } else {
    return bad_usage("unknown command '" + verb + "'");
  }
  if (c.size() != want)
    return bad_usage(verb + " takes " + std::to_string(want - 1)
                     + " argument(s)");
  cmd.key = c[1];
  if (verb == "cas") {
    cmd.expected = c[2];
    cmd.value = c[3];
  } else if (want == 3) {
    cmd.value = c[2];
  }
  auto deadline = wait_for_ids(sys, eps, f);
  raft::kv::client_options o;
  for (auto& ep : eps)
    if (ep.status)
      o.servers.emplace_back(ep.status->id, ep.handle);
  if (o.servers.empty()) {
    std::cerr << "raft-ctl: no endpoint reachable" << std::endl;
    return 3;
  }
  o.request_timeout = 1000ms;
  // The rest of the timeout (at least 1 s) for the call itself.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - std::chrono::steady_clock::now());
  o.deadline = std::max(left, std::chrono::milliseconds{1000});
  raft::kv::reply r;
  std::uint64_t retries = 0;
  {
    raft::kv::blocking_client client{sys, o};
    r = client.call(cmd);
    caf::scoped_actor self{sys};
    self->request(client.actor(), 1s, caf::get_atom::value,
                  raft::status_atom::value)
      .receive([&](std::uint64_t, std::uint64_t,
                   std::uint64_t n) { retries = n; },
               [&](caf::error&) {});
  }
  if (r.error == raft::errc::too_large || r.error == raft::errc::bad_request) {
    std::cerr << "raft-ctl: refused: " << to_string(r.why) << std::endl;
    return 2;
  }
  if (r.error != raft::errc::none) {
    std::cerr << "raft-ctl: unavailable: no answer within "
              << f.timeout.count() << " ms (the command may or may not have "
              << "been applied; " << retries << " retries)" << std::endl;
    query_all(sys, eps);
    for (auto& ep : eps)
      if (ep.status)
        std::cerr << "raft-ctl:   " << address(ep) << " id=" << ep.status->id
                  << " role=" << raft::to_string(ep.status->role)
                  << " term=" << ep.status->term
                  << " leader=" << ep.status->leader << std::endl;
      else
        std::cerr << "raft-ctl:   " << address(ep) << " unreachable"
                  << std::endl;
    return 3;
  }
  int rc = 0;
  if (cmd.kind == raft::kv::op::get) {
    rc = r.found ? 0 : 1;
    if (f.json)
      std::cout << "{\"found\": " << (r.found ? "true" : "false")
                << ", \"value\": " << json_string(r.value) << "}\n";
    else if (r.found)
      std::cout << r.value << "\n";
    else
      std::cerr << "raft-ctl: not found: " << cmd.key << "\n";
  } else {
    if ((cmd.kind == raft::kv::op::del || cmd.kind == raft::kv::op::cas)
        && !r.ok)
      rc = 1;
    if (f.json)
      std::cout << "{\"ok\": " << (r.ok ? "true" : "false")
                << ", \"found\": " << (r.found ? "true" : "false") << "}\n";
    else if (rc == 0)
      std::cout << "OK\n";
    else
      std::cout << (cmd.kind == raft::kv::op::del ? "not found\n"
                                                  : "cas failed\n");
  }
  std::cout << std::flush;
  return rc;
}

/// `ping [--count N]`: N sequential status round trips to the first
/// reachable endpoint (raft-ctl -> endpoint -> peer -> raft-ctl: one
/// network round trip plus one local hop on the node), timed; prints the
/// rate and the nearest-rank median and p99 (util/percentile.hpp).
int cmd_ping(caf::actor_system& sys, std::vector<endpoint>& eps,
             const ctl_flags& f) {
  long count = 10000;
  const auto& c = f.command;
  if (c.size() == 3 && c[1] == "--count") {
    try {
      count = std::stol(c[2]);
    } catch (...) {
      count = 0;
    }
    if (count < 1)
      return bad_usage("bad --count '" + c[2] + "'");
  } else if (c.size() != 1) {
    return bad_usage("ping takes [--count N]");
  }
  wait_for_ids(sys, eps, f);
  const endpoint* target = nullptr;
  for (auto& ep : eps)
    if (ep.status && !target)
      target = &ep;
  if (!target) {
    std::cerr << "raft-ctl: no endpoint reachable" << std::endl;
    return 3;
  }
  caf::scoped_actor self{sys};
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(count));
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    bool ok = false;
    self->request(target->handle, 1s, caf::get_atom::value,
                  raft::status_atom::value)
      .receive([&](raft::peer_status&) { ok = true; }, [&](caf::error&) {});
    if (!ok) {
      std::cerr << "raft-ctl: ping: no answer after " << i << " round trips"
                << std::endl;
      return 3;
    }
    us.push_back(std::chrono::duration<double, std::micro>(
                   std::chrono::steady_clock::now() - t0)
                   .count());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                              - start)
                  .count();
  std::sort(us.begin(), us.end());
  auto pct = [&](unsigned percent) {
    return raft::util::percentile(us, percent);
  };
  std::cout << count << " round trips to " << address(*target) << " (id "
            << target->status->id << ") in " << secs << " s: "
            << static_cast<long>(static_cast<double>(count) / secs)
            << " rt/s, median " << static_cast<long>(pct(50)) << " us, p99 "
            << static_cast<long>(pct(99)) << " us" << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  ctl_flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!f.command.empty()) {
      f.command.push_back(arg); // everything after the command is its args
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    } else if (arg == "--json") {
      f.json = true;
    } else if (arg == "--cluster" || arg == "--timeout-ms") {
      if (i + 1 >= argc)
        return bad_usage("missing value for " + arg);
      std::string value = argv[++i];
      if (arg == "--timeout-ms") {
        try {
          std::size_t pos = 0;
          auto ms = std::stol(value, &pos);
          if (pos != value.size() || ms < 1)
            throw std::invalid_argument(value);
          f.timeout = std::chrono::milliseconds{ms};
        } catch (...) {
          return bad_usage("bad --timeout-ms '" + value + "'");
        }
        continue;
      }
      std::istringstream in{value};
      std::string item;
      while (std::getline(in, item, ',')) {
        raft::net::member_address a;
        if (!raft::net::parse_host_port(item, a))
          return bad_usage("bad --cluster entry '" + item
                           + "' (expected HOST:PORT)");
        f.endpoints.push_back(a);
      }
    } else if (arg.rfind("--", 0) == 0) {
      return bad_usage("unknown flag " + arg);
    } else {
      f.command.push_back(arg);
    }
  }
  if (f.endpoints.empty())
    return bad_usage("--cluster is required");
  if (f.command.empty())
    return bad_usage("no command given");
  const auto& verb = f.command[0];
  if ((verb == "status" || verb == "leader") && f.command.size() != 1)
    return bad_usage(verb + " takes no arguments");

  if (verb != "status" && verb != "leader" && verb != "put" && verb != "get"
      && verb != "append" && verb != "delete" && verb != "cas"
      && verb != "workload" && verb != "ping")
    return bad_usage("unknown command '" + verb + "'");
  if (verb == "workload")
    raft::apps::block_stop_signals(); // the workload waits for them
  ctl_config cfg;
  caf::actor_system sys{cfg};
  std::vector<endpoint> eps;
  for (auto& a : f.endpoints)
    eps.push_back(endpoint{a, {}, {}, 0});
  if (verb == "status") {
    connect_all(sys, eps);
    return cmd_status(sys, eps, f);
  }
  if (verb == "leader")
    return cmd_leader(sys, eps, f);
  if (verb == "ping")
    return cmd_ping(sys, eps, f);
  if (verb == "workload") {
    wait_for_ids(sys, eps, f);
    std::vector<std::pair<server_id, raft::net::member_address>> servers;
    for (auto& ep : eps)
      if (ep.status)
        servers.emplace_back(ep.status->id, ep.addr);
    if (servers.empty()) {
      std::cerr << "raft-ctl: no endpoint reachable" << std::endl;
      return 3;
    }
    return raft::ctl::run_workload(
      sys, servers, {f.command.begin() + 1, f.command.end()});
  }
  return cmd_kv(sys, eps, f);
}
