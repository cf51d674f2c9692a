#include "actors/election_timer_actor.hpp"

#include <iostream>
#include <string>

#include "messages/type_ids.hpp"

namespace raft::actors {

caf::behavior election_timer_actor(election_timer_actor_type* self,
                                   caf::actor peer,
                                   std::chrono::milliseconds interval) {
  if (!peer || interval.count() <= 0) {
    std::cerr << "election timer: fatal: needs a peer and an interval > 0\n";
    self->quit(caf::make_error(caf::sec::invalid_argument,
                               "election timer: bad arguments"));
    return {};
  }
  self->state.peer = std::move(peer);
  self->state.interval = interval;
  // Without its peer the metronome has no purpose (and would keep itself
  // alive forever through its delayed message).
  self->monitor(self->state.peer);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.peer.address())
      self->quit();
  });
  self->delayed_send(self, interval, tick_atom::value);
  return {
    [self](tick_atom) {
      auto& st = self->state;
      self->send(st.peer, tick_atom::value);
      self->delayed_send(self, st.interval, tick_atom::value);
    },
  };
}

} // namespace raft::actors
