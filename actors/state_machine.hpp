// The user's replicated state machine, run inside state_machine_actor.
#pragma once

#include <string>

#include "messages/node_messages.hpp"

namespace raft::actors {

class state_machine {
public:
  virtual ~state_machine() = default;
  /// Applies one message of the apply stream (6.5840 ApplyMsg semantics:
  /// commands contiguously in index order; snapshot messages later).
  /// Returns the reply bytes for the client that submitted the command, if
  /// any. Runs on the state machine actor; must not block.
  virtual std::string apply(const apply_msg& m) = 0;
};

} // namespace raft::actors
