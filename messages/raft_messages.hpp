// The Raft RPCs between peers (Figure 2 of the extended Raft paper, plus the
// fast log backup fields of §5.3 "If desired, the protocol can be optimized
// to reduce the number of rejected AppendEntries RPCs").
//
// Raft RPCs travel as one-way messages: a reply is a message of its own,
// addressed back to the requester, as in etcd-raft. Every message carries the
// sender's current term (§5.1).
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "messages/ids.hpp"
#include "messages/log_entry.hpp"

namespace raft {

/// RequestVote RPC, sent by candidates to gather votes (§5.2).
struct request_vote {
  term_t term;             ///< candidate's term
  server_id candidate_id;  ///< candidate requesting vote
  index_t last_log_index;  ///< index of candidate's last log entry (§5.4)
  term_t last_log_term;    ///< term of candidate's last log entry (§5.4)
};

struct request_vote_reply {
  term_t term;               ///< current term, for candidate to update itself
  bool vote_granted = false; ///< true means candidate received vote
};

/// AppendEntries RPC, sent by the leader to replicate log entries (§5.3) and
/// as heartbeat (§5.2) when `entries` is empty.
struct append_entries {
  term_t term;             ///< leader's term
  server_id leader_id;     ///< so follower can redirect clients
  index_t prev_log_index;  ///< index of log entry immediately preceding new ones
  term_t prev_log_term;    ///< term of prev_log_index entry
  log_entries entries;     ///< entries to store (empty for heartbeat)
  index_t leader_commit;   ///< leader's commit_index
  /// ReadIndex (thesis §6.4): the leader's latest read round when this
  /// request left, 0 if it never started one in this term. The follower
  /// echoes it in its reply (append_entries_reply::read_seq); a reply of the
  /// leader's term proves the follower still accepted this leader after
  /// round `read_seq` began. Within one leadership it never decreases. Not
  /// persisted (neither side stores it). Last field, defaulted, so
  /// aggregate initialisers that predate it still compile.
  std::uint64_t read_seq = 0;
};

struct append_entries_reply {
  term_t term;          ///< current term, for leader to update itself
  bool success = false; ///< follower contained entry matching prev_log_index/term
  /// Echo of the request's prev_log_index: lets the leader recognise replies
  /// to stale or reordered requests.
  index_t prev_log_index;
  /// On success: the last index known to match the leader's log
  /// (prev_log_index + entries.size()), durable on the follower.
  index_t match_index;
  /// On a log mismatch (success == false, term == leader's term):
  /// XTerm: term of the follower's entry at prev_log_index, 0 if none.
  term_t conflict_term;
  /// XIndex: first index the follower holds with conflict_term.
  index_t conflict_index;
  /// XLen: follower's last log index + 1, i.e. the next index it could take.
  /// The leader uses it when conflict_term is 0 (the follower's log is
  /// shorter than prev_log_index).
  index_t log_length;
  /// Echo of the request's read_seq (thesis §6.4), in every reply --
  /// success or rejection. Not persisted. Last field, defaulted to 0 (none).
  std::uint64_t read_seq = 0;
};

/// InstallSnapshot RPC (Figure 13 of the extended paper, §7), sent by the
/// leader to a follower whose next entry the leader has compacted away. The
/// snapshot travels in chunks of at most config::snapshot_chunk_bytes, one
/// unanswered chunk per follower; the reply says where to continue.
struct install_snapshot {
  term_t term;           ///< leader's term
  server_id leader_id;   ///< so follower can redirect clients
  /// The snapshot replaces all entries up through and including this
  /// position (lastIncludedIndex / lastIncludedTerm).
  log_id last_included;
  /// Byte offset where `data` is positioned in the snapshot file.
  std::uint64_t offset = 0;
  /// Raw bytes of the snapshot chunk, starting at offset.
  std::string data;
  /// True if this is the last chunk.
  bool done = false;
  /// Size of the whole snapshot in bytes (the follower checks it on done).
  std::uint64_t total_size = 0;
  /// CRC-32 (IEEE 802.3, as zlib's crc32()) of the whole snapshot, checked
  /// by the follower before it installs anything.
  std::uint32_t crc32 = 0;
};

struct install_snapshot_reply {
  term_t term;           ///< currentTerm, for leader to update itself
  /// Echo of the request's last_included: which snapshot this answers.
  log_id last_included;
  /// Bytes of this snapshot the follower holds contiguously from offset 0:
  /// the offset of the next chunk the leader should send.
  std::uint64_t next_offset = 0;
  /// The follower durably holds a state through last_included (installed
  /// this snapshot, or already had it committed): the leader may set
  /// match_index = last_included.index.
  bool installed = false;
};

#define RAFT_EQ4(T, a, b, c, d)                                                \
  inline bool operator==(const T& x, const T& y) {                             \
    return x.a == y.a && x.b == y.b && x.c == y.c && x.d == y.d;               \
  }                                                                            \
  inline bool operator!=(const T& x, const T& y) { return !(x == y); }

RAFT_EQ4(request_vote, term, candidate_id, last_log_index, last_log_term)
#undef RAFT_EQ4

inline bool operator==(const request_vote_reply& x,
                       const request_vote_reply& y) {
  return x.term == y.term && x.vote_granted == y.vote_granted;
}
inline bool operator!=(const request_vote_reply& x,
                       const request_vote_reply& y) {
  return !(x == y);
}
inline bool operator==(const append_entries& x, const append_entries& y) {
  return x.term == y.term && x.leader_id == y.leader_id
         && x.prev_log_index == y.prev_log_index
         && x.prev_log_term == y.prev_log_term && x.entries == y.entries
         && x.leader_commit == y.leader_commit && x.read_seq == y.read_seq;
}
inline bool operator!=(const append_entries& x, const append_entries& y) {
  return !(x == y);
}
inline bool operator==(const append_entries_reply& x,
                       const append_entries_reply& y) {
  return x.term == y.term && x.success == y.success
         && x.prev_log_index == y.prev_log_index
         && x.match_index == y.match_index
         && x.conflict_term == y.conflict_term
         && x.conflict_index == y.conflict_index
         && x.log_length == y.log_length && x.read_seq == y.read_seq;
}
inline bool operator!=(const append_entries_reply& x,
                       const append_entries_reply& y) {
  return !(x == y);
}

inline bool operator==(const install_snapshot& x, const install_snapshot& y) {
  return x.term == y.term && x.leader_id == y.leader_id
         && x.last_included == y.last_included && x.offset == y.offset
         && x.data == y.data && x.done == y.done
         && x.total_size == y.total_size && x.crc32 == y.crc32;
}
inline bool operator!=(const install_snapshot& x, const install_snapshot& y) {
  return !(x == y);
}
inline bool operator==(const install_snapshot_reply& x,
                       const install_snapshot_reply& y) {
  return x.term == y.term && x.last_included == y.last_included
         && x.next_offset == y.next_offset && x.installed == y.installed;
}
inline bool operator!=(const install_snapshot_reply& x,
                       const install_snapshot_reply& y) {
  return !(x == y);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request_vote& x) {
  return f(x.term, x.candidate_id, x.last_log_index, x.last_log_term);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request_vote_reply& x) {
  return f(x.term, x.vote_granted);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, append_entries& x) {
  return f(x.term, x.leader_id, x.prev_log_index, x.prev_log_term, x.entries,
           x.leader_commit, x.read_seq);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        append_entries_reply& x) {
  return f(x.term, x.success, x.prev_log_index, x.match_index,
           x.conflict_term, x.conflict_index, x.log_length, x.read_seq);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, install_snapshot& x) {
  return f(x.term, x.leader_id, x.last_included, x.offset, x.data, x.done,
           x.total_size, x.crc32);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        install_snapshot_reply& x) {
  return f(x.term, x.last_included, x.next_offset, x.installed);
}

/// Every peer-to-peer message. Adding an alternative breaks the build at
/// every exhaustive visit (docs/architecture.md §3.4) -- intended. The
/// actors receive and send every alternative through
/// messages/rpc_handlers.hpp, which needs a CAF type id for it in
/// messages/type_ids.hpp.
using rpc_message
  = std::variant<request_vote, request_vote_reply, append_entries,
                 append_entries_reply, install_snapshot,
                 install_snapshot_reply>;

/// The term a message carries (every Raft message carries one, §5.1).
inline term_t term_of(const rpc_message& m) {
  return std::visit([](const auto& x) { return x.term; }, m);
}

/// A message with its addresses, as the core emits it.
struct envelope {
  server_id from;
  server_id to;
  rpc_message msg;
  friend bool operator==(const envelope& a, const envelope& b) {
    return a.from == b.from && a.to == b.to && a.msg == b.msg;
  }
  friend bool operator!=(const envelope& a, const envelope& b) {
    return !(a == b);
  }
};

} // namespace raft
