// embedded-counter: a replicated counter on a 3-node caf-raft cluster that
// lives inside this program's own actor system. Exit 0 when all three
// replicas reached the same value.
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include <caf/all.hpp>

#include "actors/node_supervisor.hpp"
#include "actors/state_machine.hpp"
#include "actors/transport.hpp"
#include "messages/type_ids.hpp"
#include "persistence/memory_store.hpp"

using namespace std::chrono_literals;

namespace {

/// The replicated state: every command adds its length to the counter.
class counter : public raft::actors::state_machine {
public:
  explicit counter(std::atomic<long>& value) : value_(value) {
  }
  std::string apply(const raft::apply_msg& m) override {
    if (!m.command_valid)
      return {};
    value_ += static_cast<long>(m.command.size());
    return std::to_string(value_.load());
  }

private:
  std::atomic<long>& value_;
};

} // namespace

int main() {
  // Declared before the actor system: the state machines write into it
  // until ~actor_system has joined them.
  std::map<std::uint32_t, std::atomic<long>> values;
  caf::actor_system_config cfg;
  raft::register_types(cfg);
  caf::actor_system sys{cfg};
  std::map<std::uint32_t, raft::actors::node_handles> nodes;
  auto transport = raft::actors::spawn_direct_transport(sys);
  for (std::uint32_t id = 1; id <= 3; ++id) {
    raft::actors::node_options o;
    o.raft.id = raft::server_id{id};
    o.raft.members = {raft::server_id{1}, raft::server_id{2},
                      raft::server_id{3}};
    o.raft.rng_seed = id;
    o.store = std::make_shared<raft::persistence::memory_store>();
    o.transport = transport;
    auto& value = values[id];
    o.make_state_machine = [&value] { return std::make_unique<counter>(value); };
    nodes[id] = raft::actors::spawn_node(sys, o);
    caf::anon_send(transport, raft::register_atom::value, raft::server_id{id},
                   nodes[id].peer);
  }
  // Submit five commands, following not_leader hints.
  caf::scoped_actor self{sys};
  std::uint32_t target = 1;
  int done = 0;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (done < 5 && std::chrono::steady_clock::now() < deadline) {
    self->request(nodes[target].state_machine, 2s, raft::submit_atom::value,
                  std::string("+++"))
      .receive(
        [&](const raft::client_reply& r) {
          if (r.error == raft::errc::none)
            ++done;
          else if (r.leader_hint != raft::no_server)
            target = r.leader_hint.value;
          else
            std::this_thread::sleep_for(50ms); // no leader yet
        },
        [&](caf::error&) { target = target % 3 + 1; });
  }
  // Wait until every replica applied all five commands.
  bool same = false;
  while (!same && std::chrono::steady_clock::now() < deadline) {
    same = true;
    for (auto& [id, v] : values)
      same = same && v.load() == 15;
    if (!same)
      std::this_thread::sleep_for(20ms);
  }
  for (auto& [id, v] : values)
    std::cout << "node " << id << ": counter = " << v.load() << "\n";
  for (auto& [id, h] : nodes)
    raft::actors::stop_node(h);
  caf::anon_send_exit(transport, caf::exit_reason::user_shutdown);
  std::cout << (same ? "OK" : "FAILED: replicas differ") << std::endl;
  return same ? 0 : 1;
}
