// What a client (or the state machine actor, or a test) exchanges with a peer.
#pragma once

#include <cstdint>
#include <string>

#include "messages/ids.hpp"
#include "messages/log_entry.hpp"

namespace raft {

enum class role : std::uint8_t { follower = 0, candidate = 1, leader = 2 };

/// The answer to propose(command), with the meaning of 6.5840's Start():
/// when `is_leader`, the command was appended at (`index`, `term`) and will
/// appear there if it commits; otherwise index and term are 0 and
/// `leader_hint` names the leader this peer believes in (or no_server).
struct propose_result {
  index_t index;
  term_t term;
  bool is_leader = false;
  server_id leader_hint;
  friend bool operator==(const propose_result& a, const propose_result& b) {
    return a.index == b.index && a.term == b.term && a.is_leader == b.is_leader
           && a.leader_hint == b.leader_hint;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, propose_result& x) {
  return f(x.index, x.term, x.is_leader, x.leader_hint);
}

/// A human- and machine-readable summary of one peer (GetState and more).
struct peer_status {
  server_id id;
  raft::role role = raft::role::follower;
  term_t term;
  server_id leader;     ///< leader this peer follows in `term`, or no_server
  server_id voted_for;
  index_t commit_index;
  index_t last_applied; ///< highest index handed to the state machine
  index_t first_index;  ///< first entry held in the log
  index_t last_index;   ///< last entry held in the log
  index_t durable_index;///< last entry known durable on this peer
  /// Last entry the peer's snapshot covers ({0, 0} without a snapshot).
  /// Kept last so aggregate initializers of the fields above still work.
  log_id snapshot;
  friend bool operator==(const peer_status& a, const peer_status& b) {
    return a.id == b.id && a.role == b.role && a.term == b.term
           && a.leader == b.leader && a.voted_for == b.voted_for
           && a.commit_index == b.commit_index
           && a.last_applied == b.last_applied
           && a.first_index == b.first_index && a.last_index == b.last_index
           && a.durable_index == b.durable_index
           && a.snapshot == b.snapshot;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_status& x) {
  return f(x.id, x.role, x.term, x.leader, x.voted_for, x.commit_index,
           x.last_applied, x.first_index, x.last_index, x.durable_index,
           x.snapshot);
}

/// Client-visible failures (docs/architecture.md §10). Each says whether a
/// retry is safe.
enum class errc : std::uint8_t {
  none = 0,
  /// This peer is not the leader; retry at the hint. Safe to retry.
  not_leader = 1,
  /// The entry was overwritten by another leader's entry at its index; it
  /// was not applied. Safe to retry.
  dropped_entry = 2,
  /// No answer within the deadline: the command may or may not be applied.
  /// Retry only if the command is idempotent or deduplicated.
  timeout = 3,
  /// The node is stopping. The command may or may not be applied.
  shutting_down = 4,
  /// The request is larger than the configured limit; nothing was changed.
  /// Do not retry unchanged.
  too_large = 5,
  /// The request is malformed; nothing was changed. Do not retry unchanged.
  bad_request = 6,
};

} // namespace raft

namespace raft {

/// The state machine actor's answer to a submitted command.
struct client_reply {
  /// none on success; otherwise why the command was not (or may not have
  /// been) applied.
  errc error = errc::none;
  /// With not_leader: the leader this node believes in, or no_server.
  server_id leader_hint;
  /// Log position the command was applied at (on success).
  index_t index;
  term_t term;
  /// What the state machine returned for the command.
  std::string result;
  friend bool operator==(const client_reply& a, const client_reply& b) {
    return a.error == b.error && a.leader_hint == b.leader_hint
           && a.index == b.index && a.term == b.term && a.result == b.result;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_reply& x) {
  return f(x.error, x.leader_hint, x.index, x.term, x.result);
}

std::string to_string(const client_reply& x);

} // namespace raft
