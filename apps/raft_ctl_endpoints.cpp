#include "apps/raft_ctl_endpoints.hpp"

#include <set>
#include <thread>

#include "actors/net/io_settings.hpp"
#include "messages/type_ids.hpp"

namespace raft::ctl {

using namespace std::chrono_literals;

ctl_config::ctl_config() {
  load<caf::io::middleman>();
  register_types(*this);
  // As raft-node's: a hung node detected within about a second.
  net::use_node_io_settings(*this);
}

namespace {

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

} // namespace

std::string address(const endpoint& ep) {
  return ep.addr.host + ":" + std::to_string(ep.addr.port);
}

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

void query_all(caf::actor_system& sys, std::vector<endpoint>& eps) {
  for_each_parallel(eps, [&](endpoint& ep) {
    ep.status.reset();
    if (!ep.handle)
      return;
    caf::scoped_actor self{sys};
    self->request(ep.handle, 1s, caf::get_atom::value, status_atom::value)
      .receive([&](peer_status& s) { ep.status = s; },
               [&](caf::error&) { ep.handle = nullptr; });
    if (!ep.status)
      return;
    self
      ->request(ep.handle, 1s, caf::get_atom::value,
                net::refused_atom::value)
      .receive([&](std::uint64_t n) { ep.refused = n; },
               [&](caf::error&) {});
  });
}

std::chrono::steady_clock::time_point
wait_for_ids(caf::actor_system& sys, std::vector<endpoint>& eps,
             std::chrono::milliseconds timeout) {
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + timeout;
  for (;;) {
    connect_all(sys, eps);
    query_all(sys, eps);
    std::size_t answered = 0;
    bool leader = false;
    for (auto& ep : eps)
      if (ep.status) {
        ++answered;
        leader = leader || ep.status->role == role::leader;
      }
    auto now = std::chrono::steady_clock::now();
    if (answered == eps.size() || now >= deadline
        || (answered > 0 && (leader || now - start >= 2s)))
      return deadline;
    std::this_thread::sleep_for(100ms);
  }
}

} // namespace raft::ctl
