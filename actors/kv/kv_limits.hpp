// raft::kv -- size limits of the KV store and the validation every command
// passes twice: in the state machine actor before it is proposed (so an
// oversized request never reaches the log), and again inside apply() (so a
// command that was committed anyway -- by an older or misconfigured
// proposer -- is rejected identically on every replica and changes nothing).
//
// The limits are part of the replicated transition function: every replica
// of a cluster MUST use the same kv_limits, or their states diverge.
#pragma once

#include <cstddef>
#include <cstdint>

#include "actors/kv/kv_command.hpp"
#include "messages/client_messages.hpp"

namespace raft::kv {

/// Size limits. Defaults and why:
/// - Keys live in memory in a std::map, are compared on every lookup and are
///   repeated in every snapshot: 1 KiB is ample for names and paths.
/// - Values: 1 MiB. The largest command, a cas, carries value + expected:
///   max_command_bytes() = 2 MiB + 1 KiB + 30 bytes of framing, far below
///   the disk log's 64 MiB record limit (persistence::format::
///   max_record_bytes) and small enough that one entry fits one
///   AppendEntries (core::config::max_bytes_per_append = 1 MiB is a soft
///   limit: at least one entry is always sent). An append whose RESULT would
///   exceed the limit is rejected too, so no stored value ever exceeds it.
/// - Sessions: 4096 clients at ~20 bytes each keep the session table (and
///   its share of every snapshot) below ~100 KiB.
struct kv_limits {
  /// Most bytes in a key. Keys must also be non-empty. >= 1.
  std::size_t max_key_bytes = 1024;
  /// Most bytes in a value, in cas's `expected`, and in a stored value after
  /// an append. >= 1.
  std::size_t max_value_bytes = 1024 * 1024;
  /// Most client sessions kept; beyond it the least recently used session
  /// (by log index of its last command) is evicted. >= 1.
  std::size_t max_sessions = 4096;
};

/// The result of validating one command: error == errc::none iff why ==
/// reason::none.
struct validation {
  raft::errc error = raft::errc::none;
  kv::reason why = kv::reason::none;
  explicit operator bool() const { return error == raft::errc::none; }
};

/// Checks a command against the limits and the field rules, in this order:
/// 1. session fields: open: client_id == seq == 0; any other op:
///    client_id == 0 iff seq == 0 (a session command has client_id != 0
///    and seq >= 1; a command without one, 0 and 0)  else bad_session
/// 2. fields the op does not use are empty / false:
///    get, del: value, expected, expect_absent; put, append: expected,
///    expect_absent; cas: expected empty when expect_absent; open: key,
///    value, expected, expect_absent                     else bad_fields
/// 3. key non-empty (except open, which has none)        else empty_key
/// 4. key.size() <= max_key_bytes                        else key_too_large
/// 5. value.size() <= max_value_bytes                    else value_too_large
/// 6. expected.size() <= max_value_bytes              else expected_too_large
/// The size checks (too_large) come after the shape checks (bad_request).
/// Pure and deterministic.
validation check(const command& c, const kv_limits& limits);

/// check(c, limits).error.
raft::errc validate(const command& c, const kv_limits& limits);

/// The largest encoding of a command that passes check(): what the Raft
/// entry limit must accommodate.
std::size_t max_command_bytes(const kv_limits& limits);

/// True when every limit is >= 1 (kv_state_machine refuses others).
bool valid(const kv_limits& limits);

} // namespace raft::kv
