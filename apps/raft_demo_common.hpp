// What both raft-demo modes share: the printed timeline (with the leaders
// the observer saw), the observer actor, status queries, and opening each
// node's store (memory, or a disk_store under --data-dir).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "messages/client_messages.hpp"
#include "persistence/store.hpp"

namespace raft::demo {

using clock_type = std::chrono::steady_clock;

/// The timeline printed while the demo runs, and the leaders seen. Written
/// by actor threads (observer, state machines) and main; every member but
/// t0 is guarded by mtx.
struct timeline {
  /// When the demo started; "+1.234s" on each line is relative to it.
  const clock_type::time_point t0 = clock_type::now();
  std::mutex mtx;
  /// Every printed event line, in order.
  std::vector<std::string> lines;
  /// Terms in which some node became leader, and who.
  std::map<std::uint64_t, int> leaders;
  /// When (seconds since start) the leader of each term announced itself.
  std::map<std::uint64_t, double> leader_since;

  /// Seconds since t0.
  double since_start() const;

  /// The earliest leader announcement at or after `t`, or -1.
  double first_leader_after(double t);

  /// A copy of `leaders`.
  std::map<std::uint64_t, int> leaders_seen();

  /// Prints "  +1.234s  what" (and keeps it in `lines`).
  void event(const std::string& what);
};

/// "node 1 (term 2), node 3 (term 5)": who led which term, in term order;
/// empty when nobody led.
std::string describe_leaders(const std::map<std::uint64_t, int>& leaders);

/// An actor that receives every node's peer_status (node_options::observer)
/// and puts role and term changes on the timeline.
caf::actor spawn_observer(caf::actor_system& sys, std::shared_ptr<timeline> tl);

/// The status of `peer`, or nothing when it does not answer within 1 s.
std::optional<peer_status> status_of(caf::scoped_actor& self,
                                     const caf::actor& peer);

/// Creates --data-dir when missing and refuses a directory made for another
/// cluster size (the membership is not stored yet). Prints the reason and
/// returns false on a refusal.
bool make_data_dir(const std::string& dir, int nodes);

/// Opens node `i`'s store for a (re)start. Memory (`data_dir` empty): keeps
/// `previous` when there is one (a restart sees what the node persisted),
/// else a new memory_store. Disk: crashes `previous` (the old incarnation's
/// store dies first, as in a restarted process) and opens
/// `data_dir/node-<i>` with identity (`cluster_id`, i), recovering it; the
/// recovery goes on the timeline. On a refusal (foreign or corrupt directory,
/// held LOCK) prints the store's one-line reason and returns nullptr.
std::shared_ptr<persistence::store>
open_store(const std::string& data_dir, const std::string& cluster_id, int i,
           std::shared_ptr<persistence::store> previous, timeline& tl);

} // namespace raft::demo
