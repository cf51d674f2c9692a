// raft::kv::kv_state_machine -- the replicated KV store as the user state
// machine that state_machine_actor runs (actors/state_machine.hpp). It owns
// one kv_state and feeds it through the pure apply() of kv_store.hpp; it
// adds the apply_msg plumbing and the snapshot policy. No CAF: the class
// only implements the plain state_machine interface.
//
// Snapshot policy (kvraft's maxraftstate): snapshot once the persisted Raft
// state (hard state + log) has grown to max_raft_state bytes, so the log
// stays bounded. Raft's state size is not known to the machine; whoever
// knows it (the integration with the peer / persister) reports it through
// observe_raft_state(), and take_snapshot() then answers with a snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "actors/kv/kv_command.hpp"
#include "actors/kv/kv_limits.hpp"
#include "actors/kv/kv_snapshot.hpp"
#include "actors/kv/kv_store.hpp"
#include "actors/state_machine.hpp"
#include "messages/node_messages.hpp"

namespace raft::kv {

/// Configuration of one replica. `limits` must be the same on every replica
/// (they are part of the transition); max_raft_state may differ.
struct kv_options {
  /// Snapshot once the persisted Raft state reaches this many bytes.
  /// -1 (or any value <= 0) = never snapshot (kvraft: "when positive").
  std::int64_t max_raft_state = -1;
  /// Key / value / session limits (kv_limits.hpp for the defaults).
  kv_limits limits;
  /// Optional: reports the persisted Raft state's size now (e.g.
  /// [store] { return store->raft_state_size(); } -- the stores are
  /// thread-safe). take_snapshot() asks it first, so the policy works
  /// without anyone calling observe_raft_state().
  std::function<std::uint64_t()> raft_state_bytes;
  /// How gets are linearized: false -- through the log like every command
  /// (the default); true -- with ReadIndex (Raft thesis §6.4): a get
  /// without a session is answered from the state once the leader has
  /// confirmed its leadership and applied its commit index, without a log
  /// entry (needs config::noop_on_election on the nodes).
  bool read_index = false;
};

class kv_state_machine : public raft::actors::state_machine {
public:
  // -- construction --------------------------------------------------------

  /// Throws std::invalid_argument when a limit is 0 (see kv::valid()).
  explicit kv_state_machine(kv_options opts = {});

  // -- state_machine interface ---------------------------------------------

  /// command_valid: decodes the command, applies it at command_index and
  /// returns the encoded reply (decode_reply() reads it). Undecodable bytes
  /// give an encoded bad_request/malformed reply and change nothing (except
  /// the state's last_index).
  /// snapshot_valid: replaces the whole state with the decoded snapshot and
  /// returns ""; throws std::runtime_error if the bytes do not decode (the
  /// state is then unchanged, and the actor stops loudly).
  /// Neither flag set: returns "" and changes nothing.
  std::string apply(const apply_msg& m) override;

  /// snapshot() if should_snapshot(last observed Raft state size), else
  /// nothing. After answering with a snapshot, the observation is reset to
  /// 0: the next observe_raft_state() (of the now smaller state) decides
  /// again. `applied` may exceed state().last_index (no-op entries do not
  /// reach the machine); the snapshot is valid through `applied` either way.
  std::optional<std::string> take_snapshot(index_t applied) override;

  /// Checked before a command is proposed (state_machine_actor): an
  /// undecodable command is bad_request, an oversized one too_large (the
  /// same check apply() makes, so nothing reaches the log in vain).
  raft::errc validate(const std::string& command) const override;

  /// With kv_options::read_index: a get without a session (client_id 0,
  /// as kv::client_actor sends gets). Sessions' gets go through the log.
  bool is_read_only(const std::string& command) const override;

  /// Answers a read-only get from the current state (no session, nothing
  /// changes); the encoded reply, like apply().
  std::string query(const std::string& command) override;

  // -- snapshot policy -------------------------------------------------------

  /// True iff max_raft_state > 0 and raft_state_bytes >= max_raft_state.
  bool should_snapshot(std::uint64_t raft_state_bytes) const;

  /// Records the size of the persisted Raft state (hard state + log), as
  /// the persister last reported it. Not persisted; starts at 0.
  void observe_raft_state(std::uint64_t bytes) { observed_bytes_ = bytes; }

  /// The whole state as snapshot bytes (encode_snapshot).
  std::string snapshot() const { return encode_snapshot(state_); }

  // -- observers ---------------------------------------------------------------

  const kv_state& state() const { return state_; }
  const kv_options& options() const { return opts_; }
  /// Number of keys stored.
  std::size_t size() const { return state_.data.size(); }
  /// Number of client sessions kept.
  std::size_t session_count() const { return state_.sessions.size(); }
  /// Last Raft state size passed to observe_raft_state() (0 after a
  /// snapshot was taken).
  std::uint64_t observed_raft_state() const { return observed_bytes_; }
  /// Snapshots installed through apply() (restart or InstallSnapshot).
  std::uint64_t snapshots_installed() const { return installed_; }

private:
  /// Immutable after construction.
  kv_options opts_;
  /// The replicated state: changed only by apply(). Reaches disk only
  /// through snapshots.
  kv_state state_;
  /// Last observe_raft_state() value; volatile.
  std::uint64_t observed_bytes_ = 0;
  /// Volatile counter.
  std::uint64_t installed_ = 0;
};

} // namespace raft::kv
