// The user's replicated state machine, run inside state_machine_actor.
#pragma once

#include <optional>
#include <string>

#include "messages/client_messages.hpp"
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

  /// Checked by state_machine_actor before it proposes a submitted
  /// command: anything but errc::none (e.g. too_large, bad_request) is
  /// answered at once and the command never reaches the log. apply() must
  /// still cope with any bytes (a replica with other limits, or a command
  /// from before an upgrade, may commit them). Default: everything is valid.
  virtual errc validate(const std::string& command) const {
    static_cast<void>(command);
    return errc::none;
  }

  /// Linearizable reads without the log (ReadIndex, Raft thesis §6.4):
  /// when this returns true for a submitted command, the state machine
  /// actor does not propose it; it asks its peer to confirm leadership and
  /// answers with query(command) once every entry committed before the
  /// request is applied. The command must not change the state. Default:
  /// false (every command goes through the log).
  virtual bool is_read_only(const std::string& command) const {
    static_cast<void>(command);
    return false;
  }

  /// Answers a read-only command (is_read_only) from the current state,
  /// without changing it. Returns the reply bytes, as apply() would.
  virtual std::string query(const std::string& command) {
    static_cast<void>(command);
    return {};
  }

  /// Asked after every batch of applied entries, with the index the machine
  /// has applied through: return the machine's state as bytes to let Raft
  /// drop its log through `applied` (6.5840 Snapshot(index, snapshot)), or
  /// nothing to keep the log. The bytes come back in an apply_msg with
  /// snapshot_valid when this node must restart from them (after a restart,
  /// or when the leader sent its snapshot). Runs on the state machine
  /// actor; the request to the peer is asynchronous, so this never
  /// deadlocks with the apply stream. Default: never.
  virtual std::optional<std::string> take_snapshot(index_t applied) {
    static_cast<void>(applied);
    return std::nullopt;
  }
};

} // namespace raft::actors
