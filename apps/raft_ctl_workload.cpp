#include "apps/raft_ctl_workload.hpp"

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>

#include "actors/net/endpoint_relay.hpp"
#include "apps/raft_demo_kv_workload.hpp"
#include "apps/stop_signals.hpp"
#include "tests/kit/linearizability/checker.hpp"
#include "tests/kit/linearizability/html.hpp"

namespace raft::ctl {

namespace {

bool parse_number(const std::string& s, std::uint64_t lo, std::uint64_t hi,
                  std::uint64_t& out) {
  if (s.empty() || s.size() > 19)
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  out = std::stoull(s);
  return out >= lo && out <= hi;
}

} // namespace

int run_workload(caf::actor_system& sys,
                 const std::vector<std::pair<server_id, net::member_address>>&
                   servers,
                 const std::vector<std::string>& args) {
  demo::demo_options o;
  o.clients = 4;
  o.seed = 1;
  std::uint64_t seconds = 10;
  std::string history;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (i + 1 >= args.size()) {
      std::cerr << "raft-ctl: workload: bad or incomplete option " << a
                << std::endl;
      return 2;
    }
    const auto& v = args[++i];
    std::uint64_t n = 0;
    if (a == "--clients" && parse_number(v, 1, 64, n))
      o.clients = static_cast<int>(n);
    else if (a == "--seconds" && parse_number(v, 1, 3600, n))
      seconds = n;
    else if (a == "--seed" && parse_number(v, 1, 1ull << 40, n))
      o.seed = n;
    else if (a == "--history")
      history = v;
    else {
      std::cerr << "raft-ctl: workload: bad option " << a << " " << v
                << std::endl;
      return 2;
    }
  }
  std::vector<demo::kv_workload::server> relays;
  for (auto& [id, addr] : servers)
    relays.emplace_back(id, sys.spawn(net::endpoint_relay, addr));
  auto tl = std::make_shared<demo::timeline>();
  int rc = 0;
  {
    demo::kv_workload load{sys, o, tl, relays};
    if (!load.reset_keys()) {
      std::cerr << "raft-ctl: workload: could not reset the keys "
                   "(no leader?)"
                << std::endl;
      rc = 3;
    } else {
      load.set_phase(0);
      auto start = demo::clock_type::now();
      load.start();
      auto until = start + std::chrono::seconds{seconds};
      while (demo::clock_type::now() < until
             && apps::poll_stop_signal() <= 0) {
      }
      caf::scoped_actor self{sys};
      auto retries = load.retries(self); // while the clients still run
      load.stop();
      double secs = std::chrono::duration<double>(demo::clock_type::now()
                                                  - start)
                      .count();
      auto st = load.close_phase(0, secs, retries);
      auto finals = load.final_reads();
      auto ops = load.operations();
      auto res = testing::lin::check(ops, std::chrono::seconds{10});
      std::cout << "workload: " << o.clients << " clients, "
                << demo::line_of(st) << std::endl;
      std::cout << "final reads:";
      for (auto& [k, v] : finals)
        std::cout << " " << k << "=" << (v ? "'" + *v + "'" : "(no answer)");
      std::cout << std::endl;
      std::cout << "linearizability: " << testing::lin::describe(res);
      if (res.v == testing::lin::verdict::unknown)
        std::cout << " -- check timed out, not verified";
      std::cout << std::endl;
      if (!history.empty()) {
        try {
          testing::lin::write_html(history, ops, res);
          std::cout << "history: " << history << std::endl;
        } catch (const std::exception& e) {
          std::cerr << "raft-ctl: " << e.what() << std::endl;
        }
      }
      rc = res.v == testing::lin::verdict::illegal ? 1 : 0;
    }
  }
  for (auto& r : relays)
    caf::anon_send_exit(r.second, caf::exit_reason::user_shutdown);
  return rc;
}

} // namespace raft::ctl
