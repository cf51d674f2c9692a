// The actor system settings of a process that talks to raft-node processes
// over caf::io: raft-node itself, raft-ctl, and net-bench's "raft-node"
// configuration (so that the benchmark measures what the node runs with).
#pragma once

#include <chrono>
#include <string>

#include <caf/all.hpp>

namespace raft::net {

/// Sets in `cfg`:
///  - the middleman's heartbeat (every 100 ms) and connection timeout
///    (1 s), so that a hung peer is detected: its down_msg arrives about
///    0.7-1.1 s after it stops answering;
///  - the scheduler, with `threads` threads: CAF's work-sharing one
///    (the default), or its work-stealing one when `policy` is "stealing"
///    (it adds about 200 us to a loopback round trip on a two-core
///    machine).
/// The caller still loads the middleman and registers the message types.
inline void use_node_io_settings(caf::actor_system_config& cfg,
                                 const std::string& policy = "sharing",
                                 int threads = 2) {
  using namespace std::chrono_literals;
  cfg.set("middleman.heartbeat-interval", caf::timespan{100ms});
  cfg.set("middleman.connection-timeout", caf::timespan{1000ms});
  cfg.set("scheduler.policy", policy == "stealing" ? caf::atom("stealing")
                                                   : caf::atom("sharing"));
  cfg.set("scheduler.max-threads", threads);
}

} // namespace raft::net
