// Executable invariants of one Raft node (docs/architecture.md §3.6, after
// LogCabin's Server/RaftConsensusInvariants.cc): `check` states facts that
// hold after every input, `check_transition` facts about the change one
// input makes. The core tests call both after every step; a build with
// -DRAFT_CHECK_INVARIANTS=ON makes the peer actor call them after every
// input too, so the simulated cluster tests check them on every node.
//
// Each function returns one human-readable string per violation; an empty
// vector means every invariant holds. Cluster-wide properties (one leader per
// term, log matching, state machine safety) need several nodes and live in
// the simulation (tests/core/sim/).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "messages/client_messages.hpp"
#include "messages/ids.hpp"
#include "messages/log_entry.hpp"

namespace raft::core {

class node;

/// Single-node facts, true after every input:
/// - the log's indexes are consecutive after its base;
/// - log terms never decrease along the log and never exceed current_term;
/// - base.index <= commit_index <= last_index (Figure 2 commitIndex): the
///   entries at or below the base are committed, covered by the snapshot;
/// - applied_index >= base.index (a restarted node starts from its
///   snapshot), except while an installed snapshot waits for durability
///   before it reaches the state machine (§7);
/// - snapshot_crc is the CRC-32 of snapshot_data;
/// - applied_index <= commit_index and applied_index <= durable_index
///   (a node applies only what it stores durably);
/// - durable_index <= last_index;
/// - a candidate or leader voted for itself in current_term (§5.2);
/// - a leader names itself as leader; a follower never does;
/// - a leader's progress covers exactly the other members and satisfies
///   match_index < next_index <= last_index + 1, match_index <= last_index;
///   in snapshot mode next_index <= base.index (the entry it needs is
///   compacted), the snapshot in transfer is at or below the base, and the
///   offset lies within the current snapshot when that is the one sent;
/// - a follower's half-received snapshot is no larger than announced and
///   lies above the base;
/// - a candidate's granted/refused sets hold members only and are disjoint;
/// - reads (thesis §6.4): a leader's confirmed round <= its latest round,
///   every follower's read_ack <= the latest round; reads wait for the
///   commit index only while commit_index < prior_last; registered reads
///   have non-decreasing index and round, index in [prior_last,
///   commit_index], round in (confirmed, latest + 1], and a round is
///   outstanding when one of them needs it; confirmed reads have
///   non-decreasing index <= commit_index;
/// - the election timeout lies in [election_ticks, 2 * election_ticks);
/// - status() agrees with the observers.
///
/// `scope` full checks all of that; `recent` leaves out what costs more than
/// a few steps and an input cannot break unnoticed: it walks only the last
/// recent_entries entries of the log (inputs append and truncate at the end;
/// compaction moves the base and keeps what follows, and the first entry
/// after the base is always checked) and does not recompute the snapshot's
/// CRC-32. For checks after every input of long runs (the peer actor).
enum class check_scope { full, recent };
inline constexpr std::size_t recent_entries = 64;
std::vector<std::string> check(const node& n,
                               check_scope scope = check_scope::full);

/// What `check_transition` compares against: the observable state of a node
/// before an input (LogCabin's ConsensusSnapshot).
struct observed_state {
  server_id id;
  raft::role role = raft::role::follower;
  term_t current_term;
  server_id voted_for;
  server_id leader;
  index_t commit_index;
  index_t applied_index;
  /// The snapshot point (log base).
  log_id base;
  /// Term of the entry at commit_index (base term when commit_index is the
  /// base; nothing when the node lost track of it, e.g. compacted away).
  std::optional<term_t> commit_term;
  log_id last;
};

/// Records the observable state of `n`.
observed_state observe(const node& n);

/// Facts about one input's effect (after one step, tick, propose or
/// on_persisted of the same incarnation):
/// - current_term never decreases (§5.1);
/// - voted_for changes only together with the term, or from no_server
///   (at most one vote per term, §5.2);
/// - within one term the known leader never changes to another server
///   (Election Safety, as seen by one node);
/// - a node becomes leader only from candidate of the same term (§5.2);
/// - commit_index and applied_index never decrease;
/// - the snapshot point never moves backwards, and when it moves onto the
///   old commit index it carries that entry's term (a snapshot covers the
///   committed entries, §7);
/// - the committed entry at the old commit_index is still there with the
///   same term (committed entries are never truncated, §5.4).
std::vector<std::string> check_transition(const observed_state& before,
                                          const node& after);

} // namespace raft::core
