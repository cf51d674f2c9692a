// raft::kv -- the replicated key-value store as a pure, deterministic
// transition (docs/architecture.md §2.4): apply(state, command, index) ->
// reply, where the state is mutated in place. Same state + same command +
// same index + same limits = same new state and same reply, on every
// replica. No clock, no randomness, no I/O, no unordered containers.
//
// Semantics (error == none unless stated):
//   get k            found = ok = k present; value = its value (or "").
//   put k v          sets k = v; found = k was present; ok = true.
//   append k v       k = old + v, old = "" when absent; found = k was
//                    present; ok = true. If old.size() + v.size() exceeds
//                    max_value_bytes: too_large/value_too_large, unchanged.
//   del k            erases k; found = ok = k was present.
//   cas k e v        if k is present and its value == e: k = v, ok = true;
//                    else ok = false and nothing changes. A cas on an ABSENT
//                    key fails (even with e == ""). found = k was present.
//   cas k v +expect_absent
//                    if k is absent: k = v, ok = true (create-if-absent);
//                    else ok = false, unchanged.
//   Any command failing check() (kv_limits.hpp) gets that error and changes
//   nothing but, for a valid session, the session record (below).
//
//   open             (client_id = seq = 0, no key) registers a session: see
//                    below. ok = true; value = the new session id, decimal.
//   Any command failing check() (kv_limits.hpp) gets that error and changes
//   nothing but, for a valid session, the session record (below).
//
// Client sessions (exactly-once, Raft thesis §6.3 RegisterClient). A
// client first sends an open; applied at log index i, it creates the
// session with id i (last_seq 0) and answers i. Log indexes are unique, so
// an id is never handed out twice: a retried or duplicated open merely
// creates another, unused session, which LRU eviction removes later. A
// command with client_id != 0 belongs to that session; the client numbers
// its requests seq = 1, 2, ... and has at most one outstanding request,
// which it retries with the same seq until answered. For a session command:
//   - no session for client_id: bad_request/session_expired and nothing
//     runs, whatever the seq (the session was evicted, see below, or never
//     opened). Only an open creates a session, so an evicted session never
//     comes back and a retry of an applied write is never applied again.
//   - seq <  last_seq: bad_request/stale_seq (an old duplicate delayed in the
//     network; the client has moved on). Nothing runs, nothing is recorded.
//   - seq == last_seq: a retry. A different op gets bad_request/seq_reused.
//     A write gets the cached reply and is NOT run again. A get runs again
//     against the current state: reads change nothing, and answering at the
//     retry's (later) log position is still linearizable, because the retry
//     is inside the client's request interval. So no value is ever cached.
//   - seq >  last_seq: runs (gaps allowed); the session records seq, op and
//     the reply (without value), success or failure.
// Every session command that reaches a session (including retries) updates
// its last-use index. Commands without a session (client_id = seq = 0, not
// an open) run every time they are committed: right for gets,
// at-least-once for writes.
//
// Session expiry is deterministic: after an open creates a session, while
// more than max_sessions exist, the session with the smallest last-use log
// index (other than the new one) is evicted. All replicas apply the same
// commands at the same indexes, so they evict the same sessions (LogCabin
// instead expires sessions by replicated cluster time; LRU by log index
// needs no clock but bounds the table by count, not age). A client whose
// session was evicted -- more than max_sessions other sessions were opened
// or used since its last command -- gets session_expired on its next
// request instead of a silent double apply; the outcome of its outstanding
// request is then unknown, and it opens a new session for the next one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "actors/kv/kv_command.hpp"
#include "actors/kv/kv_limits.hpp"
#include "messages/ids.hpp"

namespace raft::kv {

/// What the store remembers about one client. Persisted in snapshots.
struct session {
  /// seq of the last command run in this session; 0 while none has run
  /// since the open. Only grows.
  std::uint64_t last_seq = 0;
  /// Log index of the last command that reached this session (run, retried
  /// or read again): the LRU key for eviction. Only grows (commands arrive
  /// in index order). Invariant: <= kv_state::last_index.
  index_t last_index;
  /// Op of the command with last_seq; a retry must have the same op.
  /// op::open iff last_seq == 0.
  op kind = op::get;
  /// Reply of the command with last_seq, returned to a retried write (for
  /// last_seq 0: the open's, ok = true). Invariant: value is empty (gets
  /// are re-run, never cached; an open's id is the session's key).
  reply last_reply;

  friend bool operator==(const session& a, const session& b) {
    return a.last_seq == b.last_seq && a.last_index == b.last_index
           && a.kind == b.kind && a.last_reply == b.last_reply;
  }
};

/// The whole replicated state of the store. Everything here is persisted
/// in snapshots (kv_snapshot.hpp); nothing else is.
struct kv_state {
  /// The keys and their values, ordered (deterministic iteration and
  /// snapshots). Invariant: keys non-empty; sizes within the kv_limits in
  /// force when they were written.
  std::map<std::string, std::string> data;
  /// Client sessions by client_id (never 0): the log index of the open
  /// that created each (older stores may hold client-chosen ids; they work
  /// the same). Invariant: size() <= max_sessions after every apply().
  std::map<std::uint64_t, session> sessions;
  /// Log index of the last command applied (0 = none yet). Only grows: the
  /// apply stream is in index order, and apply() keeps the maximum should a
  /// caller (a test) pass indexes out of order, so every session's
  /// last_index stays <= it and every snapshot decodes.
  index_t last_index;

  friend bool operator==(const kv_state& a, const kv_state& b) {
    return a.data == b.data && a.sessions == b.sessions
           && a.last_index == b.last_index;
  }
  friend bool operator!=(const kv_state& a, const kv_state& b) {
    return !(a == b);
  }
};

/// Applies `c`, committed at log `index`, to `st` (the pure transition; see
/// the file comment for the semantics) and returns the reply for the
/// client. Raises st.last_index to index. Never throws except
/// std::bad_alloc.
reply apply(kv_state& st, const command& c, index_t index,
            const kv_limits& limits);

/// Sum of key and value bytes in `st.data` (an observer for tests and
/// metrics; O(n)).
std::size_t data_bytes(const kv_state& st);

} // namespace raft::kv
