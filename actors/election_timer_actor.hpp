// election_timer_actor -- the metronome of one peer (docs/architecture.md
// §2.2): every `interval` it sends (tick_atom) to its peer. The core counts
// ticks and draws its randomized election timeout itself, so there is no
// one-shot timer to cancel (CAF 0.17 has no cancel handle,
// docs/architecture.md §9).
//
// Implementation: a self-addressed delayed_send(self, interval, tick_atom)
// re-armed on every tick. It runs on the real clock and on the
// test_coordinator's virtual clock alike: sched.advance_time(interval) fires
// exactly one tick, and sched.run() then delivers it to the peer.
//
// The timer keeps itself alive through its pending delayed message, so it
// must be stopped explicitly (the node supervisor kills it), or it stops on
// its own when its peer goes down (it monitors the peer).
#pragma once

#include <chrono>

#include <caf/all.hpp>

namespace raft::actors {

struct election_timer_state {
  /// Actor name (CAF uses it in error messages).
  static inline const char* name = "raft.election_timer";
  /// Receives one (tick_atom) per interval. Set at spawn, never changed.
  caf::actor peer;
  /// Time between two ticks. Set at spawn; > 0.
  std::chrono::milliseconds interval{10};
};

using election_timer_actor_type = caf::stateful_actor<election_timer_state>;

/// Spawn with `sys.spawn(election_timer_actor, peer, interval)`. The first
/// tick reaches the peer one interval after spawning. Handles only its own
/// (tick_atom).
caf::behavior election_timer_actor(election_timer_actor_type* self,
                                   caf::actor peer,
                                   std::chrono::milliseconds interval);

} // namespace raft::actors
