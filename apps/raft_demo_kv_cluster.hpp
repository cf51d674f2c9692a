// raft-demo --mode kv: the in-process cluster of KV nodes. Each node keeps
// its store across restarts (memory, or a disk_store under --data-dir); each
// incarnation runs a KV state machine that main can read (the convergence
// check); clients reach a node through an endpoint actor of the node, which
// forwards to its current state machine actor, so a restarted node keeps
// its address, like a server's address across a restart.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/node_supervisor.hpp"
#include "apps/raft_demo_cli.hpp"
#include "apps/raft_demo_common.hpp"
#include "apps/raft_demo_kv_workload.hpp"
#include "persistence/store.hpp"

namespace raft::demo {

/// One node incarnation's KV state machine, shared by its state machine
/// actor and main (raft_demo_kv_cluster.cpp).
struct replica;

/// The nodes 1..--nodes of the KV demo, their transport and observer.
/// Used from the main thread only.
class kv_cluster {
public:
  /// A cluster of opts.nodes nodes, none started yet; role changes,
  /// recoveries and snapshot installs go on `tl`.
  kv_cluster(caf::actor_system& sys, const demo_options& opts,
             std::shared_ptr<timeline> tl);

  /// Stops the running nodes and the cluster's actors.
  ~kv_cluster();

  kv_cluster(const kv_cluster&) = delete;
  kv_cluster& operator=(const kv_cluster&) = delete;

  /// (Re)starts node i from its store; false on a refused data directory
  /// (the reason is printed).
  bool start(int i);

  /// Kills node i; its store keeps what it persisted.
  void stop(int i);

  /// Every started node's id and the endpoint its clients talk to.
  std::vector<kv_workload::server> servers() const;

  /// Waits until a running node other than `not_this` leads; returns that
  /// node, or 0 when none did within 10 s.
  int wait_for_leader(std::optional<int> not_this);

  /// Node i's status, or nothing when it does not answer within 1 s.
  std::optional<peer_status> status(int i);

  /// Waits up to 10 s until every running node holds the same keys and
  /// values (and applied the same last command) and they match `finals`.
  /// `outcome` says what was found, which also goes on the timeline.
  bool converge(const final_values& finals, std::string& outcome);

  /// Snapshots taken by all incarnations of all nodes, and snapshots
  /// installed by the current incarnations.
  std::pair<std::uint64_t, std::uint64_t> snapshot_counts();

private:
  /// One node: its store outlives its incarnations.
  struct node {
    /// What the node persists (memory or disk), kept across restarts.
    std::shared_ptr<persistence::store> store;
    /// The current incarnation's actors.
    actors::node_handles handles;
    /// False while the node is stopped (killed leader).
    bool running = false;
    /// How many times the node was started (1 for the first start).
    int incarnation = 0;
    /// The current incarnation's KV machine.
    std::shared_ptr<replica> rep;
    /// Snapshots taken by earlier incarnations.
    std::uint64_t snapshots_before = 0;
    /// What clients talk to (client_endpoint in the .cpp).
    caf::actor endpoint;
  };

  caf::actor_system& sys_;
  demo_options opts_;
  /// The printed timeline, shared with the observer and the state machines.
  std::shared_ptr<timeline> tl_;
  /// The main thread's actor for status queries.
  caf::scoped_actor self_;
  /// Carries the nodes' messages to each other (direct, in process).
  caf::actor transport_;
  /// Puts the nodes' role and term changes on the timeline.
  caf::actor observer_;
  /// Every node's id: 1..opts_.nodes.
  std::vector<server_id> members_;
  /// By node number (1..opts_.nodes).
  std::map<int, node> nodes_;
};

} // namespace raft::demo
