// raft::kv -- the commands of the replicated key-value store, their replies,
// and the compact binary codec that turns both into the opaque bytes Raft
// replicates (log_entry::data) and the state machine actor returns
// (client_reply::result). Pure data: no CAF, no Boost, no I/O.
//
// Encoding (version 1; op 5 "open" added later without a new version,
// see below). varint = unsigned LEB128, canonical (shortest form);
// string = varint(length) + bytes. All integers are varints, so a typical
// command costs 8-12 bytes plus its key and value (kvraft bounds the log to
// 8 x max_raft_state and a tiny store's snapshot to 500 bytes).
//
//   command := version:u8 = 1
//              head:u8    bits 0-2 op (0 get, 1 put, 2 append, 3 del, 4 cas,
//                                      5 open; 6-7 invalid)
//                         bit 3    expect_absent
//                         bit 4    value present    (iff value non-empty)
//                         bit 5    expected present (iff expected non-empty)
//                         bits 6-7 zero
//              client_id:varint  seq:varint  key:string
//              [value:string]  [expected:string]
//
//   reply   := version:u8 = 1
//              error:u8   raft::errc, 0..6
//              reason:u8  kv::reason, 0..10
//              flags:u8   bit 0 found, bit 1 ok, bit 2 value present (iff
//                         value non-empty), bits 3-7 zero
//              [value:string]
//
// Decoders are strict: an unknown version, op, errc or reason, a set
// reserved bit, a present-but-empty string, a non-canonical varint, a
// truncated field or trailing bytes all yield std::nullopt. Hence each value
// has exactly one encoding: encode(decode(b)) == b whenever decode succeeds.
// Decoders never throw and never read outside their input.
//
// op 5 (open, Raft thesis §6.3 RegisterClient) was added without changing
// the version byte: the layout is unchanged, every older encoding decodes
// as before, and only the set of accepted op values grew. A new version
// byte would not help a mixed cluster either: an older replica rejects
// version 2 exactly as it rejects op 5 (malformed), and the session rules
// changed with it (a seq-1 write no longer opens a session), so all
// replicas of a cluster must run the same code anyway (like kv_limits).
// The reply's encoding is unchanged: open returns its session id in the
// reply's value, as decimal digits.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "messages/client_messages.hpp"

namespace raft::kv {

/// Current version of the command and reply encodings (first byte).
inline constexpr std::uint8_t codec_version = 1;

/// What a command does (see apply() in kv_store.hpp for the semantics).
/// open: registers a client session (Raft thesis §6.3 RegisterClient); the
/// reply's value is the new session id (decimal), the log index of the open.
enum class op : std::uint8_t {
  get = 0,
  put = 1,
  append = 2,
  del = 3,
  cas = 4,
  open = 5,
};

/// Why a command failed, in more detail than raft::errc. Carried in the
/// reply (one byte) so clients and tests can tell the cases apart.
enum class reason : std::uint8_t {
  none = 0,
  /// The command bytes do not decode (errc::bad_request).
  malformed = 1,
  /// The key is empty (errc::bad_request).
  empty_key = 2,
  /// A field the op does not use is set, e.g. a value on a get, or
  /// expect_absent together with an expected value (errc::bad_request).
  bad_fields = 3,
  /// Exactly one of client_id and seq is 0, or an open carries either
  /// (errc::bad_request).
  bad_session = 4,
  /// key.size() > max_key_bytes (errc::too_large).
  key_too_large = 5,
  /// value.size() > max_value_bytes, or an append whose result would be
  /// (errc::too_large).
  value_too_large = 6,
  /// expected.size() > max_value_bytes (errc::too_large).
  expected_too_large = 7,
  /// seq is below the session's last seq: the client has already moved on,
  /// this is an old duplicate (errc::bad_request). Nothing applied.
  stale_seq = 8,
  /// seq equals the session's last seq but the op differs: the client
  /// reused a sequence number (errc::bad_request). Nothing applied.
  seq_reused = 9,
  /// No session exists for client_id: the session was evicted (or never
  /// opened: ids come only from op::open). Earlier attempts of this request
  /// may or may not have been applied; the client must open a new session
  /// (errc::bad_request). Nothing applied now.
  session_expired = 10,
};

/// One replicated KV command, as the client submits it.
///
/// Sessions (exactly-once): a client first opens a session (an op::open
/// command, client_id = seq = 0, no key) and gets its id back; it then
/// numbers its requests seq = 1, 2, 3, ... with that client_id. It has at
/// most ONE outstanding request and retries it with the same seq until
/// answered. client_id = 0 and seq = 0 (not an open) means "no session":
/// the command is applied every time it is committed (fine for gets,
/// at-least-once for writes).
struct command {
  /// The client's session id, as an op::open returned it; 0 = no session
  /// (and always 0 on an open).
  std::uint64_t client_id = 0;
  /// Request number within the session, >= 1; 0 iff client_id == 0. Gaps
  /// are allowed; a session's first request may carry any seq >= 1.
  std::uint64_t seq = 0;
  op kind = op::get;
  /// Non-empty; at most kv_limits::max_key_bytes. Empty on an open.
  std::string key;
  /// put / append / cas: the new value (or suffix); empty otherwise. At most
  /// kv_limits::max_value_bytes.
  std::string value;
  /// cas only: the value the key must hold for the swap to happen; empty
  /// otherwise. At most kv_limits::max_value_bytes. An empty `expected`
  /// matches a present key whose value is "".
  std::string expected;
  /// cas only: succeed iff the key is ABSENT (create-if-absent); `expected`
  /// must then be empty. False for every other op.
  bool expect_absent = false;

  friend bool operator==(const command& a, const command& b) {
    return a.client_id == b.client_id && a.seq == b.seq && a.kind == b.kind
           && a.key == b.key && a.value == b.value && a.expected == b.expected
           && a.expect_absent == b.expect_absent;
  }
  friend bool operator!=(const command& a, const command& b) {
    return !(a == b);
  }
};

/// The state machine's answer to one command.
struct reply {
  /// none on success (a failed cas is a success with ok = false); otherwise
  /// too_large or bad_request, and nothing was changed by this command.
  raft::errc error = raft::errc::none;
  /// Detail of `error`; none iff error == none.
  kv::reason why = kv::reason::none;
  /// The key existed before the command (for every op, when error == none).
  bool found = false;
  /// put/append: true. del: the key existed and was erased. cas: the swap
  /// happened. get: same as found.
  bool ok = false;
  /// get: the value (empty when not found). open: the new session id in
  /// decimal (session_id_of() reads it). Empty for every other op, so
  /// cached replies in the session table stay tiny.
  std::string value;

  friend bool operator==(const reply& a, const reply& b) {
    return a.error == b.error && a.why == b.why && a.found == b.found
           && a.ok == b.ok && a.value == b.value;
  }
  friend bool operator!=(const reply& a, const reply& b) { return !(a == b); }
};

/// The errc a reason belongs to (none for reason::none).
raft::errc error_of(reason r);

/// A failed reply: error_of(r), reason r, everything else empty.
reply failure(reason r);

/// The command that opens a session (op::open, everything else empty).
command open_command();

/// The session id in a successful open's reply; 0 when `r` is not one
/// (an error, or a value that is not a canonical decimal id >= 1).
std::uint64_t session_id_of(const reply& r);

// -- codec ---------------------------------------------------------------------

/// Encodes a command (any field values, valid or not: validation is
/// separate, and the round trip is exact).
std::string encode(const command& c);

/// Decodes a command; std::nullopt on malformed input. Never throws.
std::optional<command> decode_command(std::string_view bytes) noexcept;

/// Encodes a reply.
std::string encode(const reply& r);

/// Decodes a reply; std::nullopt on malformed input. Never throws.
std::optional<reply> decode_reply(std::string_view bytes) noexcept;

// -- printing ------------------------------------------------------------------

std::string to_string(op x);
std::string to_string(reason x);
/// "cas c=7 s=3 k=\"x\" v=5B e=1B" (values by size only: they may be big).
std::string to_string(const command& c);
std::string to_string(const reply& r);
/// CAF-style inspection (the client actor's messages; no CAF needed here).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command& x) {
  return f(x.client_id, x.seq, x.kind, x.key, x.value, x.expected,
           x.expect_absent);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply& x) {
  return f(x.error, x.why, x.found, x.ok, x.value);
}

std::ostream& operator<<(std::ostream& os, op x);
std::ostream& operator<<(std::ostream& os, reason x);
std::ostream& operator<<(std::ostream& os, const command& c);
std::ostream& operator<<(std::ostream& os, const reply& r);

} // namespace raft::kv
