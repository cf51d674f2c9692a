// Noticing a node that dies on its own. The kit stops nodes with
// stop_node() (exit reason `kill`); a peer that exits with any other error
// broke a contract -- an exception from the core, or a broken invariant when
// the peer checks them (node_options::check_invariants) -- and the test
// must fail with it rather than carry on with one server fewer.
#pragma once

#include <functional>
#include <string>

#include <caf/all.hpp>

namespace raft::testing {

/// Spawns an actor that monitors `target` and calls `on_failure` once, with
/// the rendered exit reason, if `target` exits with anything but `normal`,
/// `kill`, `unreachable` (its handles were dropped) or
/// `request_receiver_down` (a peer that found its persister already gone
/// while loading: the node was stopped right after it started). It exits
/// with `target`. `on_failure` runs on a CAF worker thread (or the test
/// thread under the test_coordinator). Keep the returned handle while
/// watching: a CAF actor that nobody holds is destroyed, and a monitor
/// does not hold it.
caf::actor
watch_for_failure(caf::actor_system& sys, const caf::actor& target,
                  std::function<void(const std::string&)> on_failure);

} // namespace raft::testing
