// Snapshots through the actors: the state machine actor offers snapshots
// (state_machine::take_snapshot), the peer compacts and persists them, a
// follower whose log was wiped catches up through chunked InstallSnapshot,
// and a node restarted from its store starts its machine from the snapshot
// (6.5840 2D, on virtual time).
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "actors/node_supervisor.hpp"
#include "actors/transport.hpp"
#include "tests/actors/caf_fixture.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

/// What one node's machine did, shared with the test.
struct list_log {
  /// The machine's state: every command applied so far, in order.
  std::vector<std::string> state;
  /// Snapshots the machine was restored from (their indexes).
  std::vector<index_t> restored_from;
  /// Snapshots the machine offered (their indexes).
  std::vector<index_t> offered;
};

/// A list of commands; offers a snapshot every `every` applied indexes.
class list_machine : public actors::state_machine {
public:
  list_machine(std::shared_ptr<list_log> log, std::uint64_t every)
    : log_(std::move(log)), every_(every) {
  }

  std::string apply(const apply_msg& m) override {
    if (m.snapshot_valid) {
      log_->state.clear();
      std::istringstream in{m.snapshot};
      for (std::string line; std::getline(in, line);)
        log_->state.push_back(line);
      log_->restored_from.push_back(m.snapshot_index);
      return {};
    }
    log_->state.push_back(m.command);
    return "ok";
  }

  std::optional<std::string> take_snapshot(index_t applied) override {
    if (applied.value == 0 || applied.value % every_ != 0
        || (!log_->offered.empty() && log_->offered.back() == applied))
      return std::nullopt;
    log_->offered.push_back(applied);
    std::string bytes;
    for (auto& c : log_->state)
      bytes += c + "\n";
    return bytes;
  }

private:
  std::shared_ptr<list_log> log_;
  std::uint64_t every_;
};

struct snap_cluster {
  caf::actor_system& sys;
  caf::actor transport;
  std::vector<actors::node_handles> nodes;
  std::vector<std::shared_ptr<persistence::memory_store>> stores;
  std::vector<std::shared_ptr<list_log>> logs;

  explicit snap_cluster(caf::actor_system& s) : sys(s) {
    transport = sys.spawn(actors::transport_actor);
    for (std::uint32_t id = 1; id <= 3; ++id) {
      stores.push_back(std::make_shared<persistence::memory_store>());
      logs.push_back(nullptr);
      nodes.emplace_back();
      start(id);
    }
  }

  /// Starts node `id` on stores[id-1] with a fresh machine.
  void start(std::uint32_t id) {
    actors::node_options opts;
    opts.raft = make_config(id, 3);
    opts.raft.snapshot_chunk_bytes = 16; // many chunks per snapshot
    opts.tick_interval = 10ms;
    opts.store = stores[id - 1];
    opts.transport = transport;
    auto log = std::make_shared<list_log>();
    logs[id - 1] = log;
    opts.make_state_machine = [log] {
      return std::make_unique<list_machine>(log, 5);
    };
    nodes[id - 1] = actors::spawn_node(sys, std::move(opts));
    caf::anon_send(transport, register_atom::value, server_id{id},
                   nodes[id - 1].peer);
  }

  void stop(std::uint32_t id) {
    actors::stop_node(nodes[id - 1]);
    nodes[id - 1] = actors::node_handles{};
  }

  void stop_all() {
    for (auto& h : nodes)
      if (h.supervisor)
        actors::stop_node(h);
    nodes.clear();
    transport = caf::actor{};
  }
};

std::vector<std::string> commands(int n) {
  std::vector<std::string> result;
  for (int i = 1; i <= n; ++i)
    result.push_back("cmd" + std::to_string(i));
  return result;
}

} // namespace

TEST_CASE_METHOD(caf_fixture,
                 "snapshots: a wiped follower catches up by InstallSnapshot, "
                 "a restart starts from the snapshot",
                 "[cluster][paper-7]") {
  snap_cluster c{sys};
  // Find the leader among nodes 1 and 2 (node 3 will be wiped).
  server_id leader;
  REQUIRE(run_until(
    [&] {
      for (auto& h : c.nodes) {
        self->send(h.peer, caf::get_atom::value, status_atom::value);
        sched.run();
        auto s = receive_now<peer_status>();
        if (s.role == role::leader)
          leader = s.id;
      }
      return leader != no_server;
    },
    5000ms));
  // Node 3 goes away and loses its disk. If it was the leader, wait for
  // another one.
  c.stop(3);
  c.stores[2] = std::make_shared<persistence::memory_store>();
  std::uint32_t lid = 0;
  REQUIRE(run_until(
    [&] {
      for (std::uint32_t id = 1; id <= 2; ++id) {
        self->send(c.nodes[id - 1].peer, caf::get_atom::value,
                   status_atom::value);
        sched.run();
        if (receive_now<peer_status>().role == role::leader)
          lid = id;
      }
      return lid != 0;
    },
    5000ms));
  // 23 commands through the leader: nodes 1 and 2 snapshot at 5, 10, ...
  auto want = commands(23);
  for (auto& cmd : want) {
    self->send(c.nodes[lid - 1].state_machine, submit_atom::value, cmd);
    REQUIRE(run_until([&] { return !self_mailbox_empty(); }, 2000ms));
    CHECK(receive_now<client_reply>().error == errc::none);
  }
  // A follower learns the last commit with the next AppendEntries.
  REQUIRE(run_until(
    [&] { return c.logs[0]->state == want && c.logs[1]->state == want; },
    2000ms));
  for (std::uint32_t id = 1; id <= 2; ++id) {
    INFO("node " << id);
    CHECK(!c.logs[id - 1]->offered.empty());
    // The store was compacted: its base is the latest snapshot point.
    auto base = c.stores[id - 1]->durable_base();
    CHECK(base.index.value >= 15);
    CHECK(c.stores[id - 1]->snapshot_size() > 0);
    CHECK(c.stores[id - 1]->load().entries.size() < want.size());
  }
  // Node 3 returns with an empty store: the leader no longer has the entries
  // it needs, so it sends its snapshot (in 16-byte chunks), then the rest.
  c.start(3);
  REQUIRE(run_until([&] { return c.logs[2]->state == want; }, 5000ms));
  CHECK(!c.logs[2]->restored_from.empty());
  CHECK(c.stores[2]->durable_base().index.value >= 15);
  // Node 1 restarts from its store: its fresh machine starts from the
  // snapshot, then replays the entries after it once they are committed.
  c.stop(1);
  sched.run();
  c.start(1);
  REQUIRE(run_until([&] { return c.logs[0]->state == want; }, 5000ms));
  REQUIRE(!c.logs[0]->restored_from.empty());
  CHECK(c.logs[0]->restored_from.front()
        == c.stores[0]->durable_base().index);
  c.stop_all();
  sched.run();
}
