#include "apps/raft_ctl_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "actors/kv/kv_command.hpp"
#include "actors/kv_client/blocking_client.hpp"
#include "apps/raft_ctl_workload.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"
#include "apps/json_string.hpp"
#include "bench/stats.hpp"

namespace raft::ctl {

using namespace std::chrono_literals;
using apps::json_string;

int cmd_status(caf::actor_system& sys, std::vector<endpoint>& eps,
               const ctl_flags& f) {
  connect_all(sys, eps);
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
                << to_string(s.role) << "\",\"term\":" << s.term
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
                << to_string(s.role) << " term=" << s.term
                << " leader=" << s.leader << " commit=" << s.commit_index
                << " applied=" << s.last_applied << " log="
                << s.first_index << ".." << s.last_index
                << " snapshot=" << to_string(s.snapshot) // term/index
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
    std::optional<peer_status> best;
    for (auto& ep : eps)
      if (ep.status && ep.status->role == role::leader
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

int cmd_kv(caf::actor_system& sys, std::vector<endpoint>& eps,
           const ctl_flags& f) {
  const auto& c = f.command;
  const auto& verb = c[0];
  kv::command cmd;
  std::size_t want = 0;
  if (verb == "put") {
    cmd.kind = kv::op::put, want = 3;
  } else if (verb == "get") {
    cmd.kind = kv::op::get, want = 2;
  } else if (verb == "append") {
    cmd.kind = kv::op::append, want = 3;
  } else if (verb == "delete") {
    cmd.kind = kv::op::del, want = 2;
  } else if (verb == "cas") {
    cmd.kind = kv::op::cas, want = 4;
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
  auto deadline = wait_for_ids(sys, eps, f.timeout);
  kv::client_options o;
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
  kv::reply r;
  std::uint64_t retries = 0;
  {
    kv::blocking_client client{sys, o};
    r = client.call(cmd);
    caf::scoped_actor self{sys};
    self->request(client.actor(), 1s, caf::get_atom::value,
                  status_atom::value)
      .receive([&](std::uint64_t, std::uint64_t,
                   std::uint64_t n) { retries = n; },
               [&](caf::error&) {});
  }
  if (r.error == errc::too_large || r.error == errc::bad_request) {
    std::cerr << "raft-ctl: refused: " << to_string(r.why) << std::endl;
    return 2;
  }
  if (r.error != errc::none) {
    std::cerr << "raft-ctl: unavailable: no answer within "
              << f.timeout.count() << " ms (the command may or may not have "
              << "been applied; " << retries << " retries)" << std::endl;
    query_all(sys, eps);
    for (auto& ep : eps)
      if (ep.status)
        std::cerr << "raft-ctl:   " << address(ep) << " id=" << ep.status->id
                  << " role=" << to_string(ep.status->role)
                  << " term=" << ep.status->term
                  << " leader=" << ep.status->leader << std::endl;
      else
        std::cerr << "raft-ctl:   " << address(ep) << " unreachable"
                  << std::endl;
    return 3;
  }
  int rc = 0;
  if (cmd.kind == kv::op::get) {
    rc = r.found ? 0 : 1;
    if (f.json)
      std::cout << "{\"found\": " << (r.found ? "true" : "false")
                << ", \"value\": " << json_string(r.value) << "}\n";
    else if (r.found)
      std::cout << r.value << "\n";
    else
      std::cerr << "raft-ctl: not found: " << cmd.key << "\n";
  } else {
    if ((cmd.kind == kv::op::del || cmd.kind == kv::op::cas)
        && !r.ok)
      rc = 1;
    if (f.json)
      std::cout << "{\"ok\": " << (r.ok ? "true" : "false")
                << ", \"found\": " << (r.found ? "true" : "false") << "}\n";
    else if (rc == 0)
      std::cout << "OK\n";
    else
      std::cout << (cmd.kind == kv::op::del ? "not found\n"
                                                  : "cas failed\n");
  }
  std::cout << std::flush;
  return rc;
}

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
  wait_for_ids(sys, eps, f.timeout);
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
                  status_atom::value)
      .receive([&](peer_status&) { ok = true; }, [&](caf::error&) {});
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
    return bench::percentile(us, percent);
  };
  std::cout << count << " round trips to " << address(*target) << " (id "
            << target->status->id << ") in " << secs << " s: "
            << static_cast<long>(static_cast<double>(count) / secs)
            << " rt/s, median " << static_cast<long>(pct(50)) << " us, p99 "
            << static_cast<long>(pct(99)) << " us" << std::endl;
  return 0;
}

int cmd_workload(caf::actor_system& sys, std::vector<endpoint>& eps,
                 const ctl_flags& f) {
  wait_for_ids(sys, eps, f.timeout);
  std::vector<std::pair<server_id, net::member_address>> servers;
  for (auto& ep : eps)
    if (ep.status)
      servers.emplace_back(ep.status->id, ep.addr);
  if (servers.empty()) {
    std::cerr << "raft-ctl: no endpoint reachable" << std::endl;
    return 3;
  }
  return run_workload(sys, servers, {f.command.begin() + 1, f.command.end()});
}

} // namespace raft::ctl
