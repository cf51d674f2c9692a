// raft::core::node: leader election (§5.2) with the voting restriction of
// §5.4.1. A follower whose election timer runs out becomes a candidate; a
// candidate whose term and self-vote are durable asks every other member
// for its vote and leads once a majority granted it; anyone who learns of a
// higher term becomes its follower.
#include "actors/core/node.hpp"

#include <string>
#include <utility>

namespace raft::core {

// -- transitions --------------------------------------------------------------

void node::become_follower(term_t term, server_id leader_id) {
  bool new_term = term > hard_.current_term;
  // Thesis §6.4: a deposed leader cannot confirm its reads any more.
  if (is_leader())
    fail_leader_reads(leader_id);
  if (new_term) {
    hard_.current_term = term;
    hard_.voted_for = no_server;
    state_changed_ = true;
  }
  auto* f = std::get_if<follower>(&role_);
  // A new leader or a new term also discards a half-received snapshot
  // (follower::incoming).
  if (!f || f->leader != leader_id || new_term) {
    role_ = follower{leader_id};
    state_changed_ = true;
  }
  reset_election_timer();
}

void node::become_candidate() {
  // §5.2: "To begin an election, a follower increments its current term and
  // transitions to candidate state. It then votes for itself and issues
  // RequestVote RPCs in parallel to each of the other servers."
  hard_.current_term = term_t{hard_.current_term.value + 1};
  hard_.voted_for = cfg_.id;
  candidate c;
  c.granted.insert(cfg_.id);
  // The next emitted batch carries the new term and the self-vote.
  c.self_vote_batch = durability_.next_batch();
  role_ = std::move(c);
  state_changed_ = true;
  reset_election_timer();
  request_vote rv{hard_.current_term, cfg_.id, log_.last_index(),
                  log_.last_term()};
  // The requests leave only once term and vote are durable
  // (needs_durability), so a crash cannot make this server vote twice in
  // the term.
  for (auto m : cfg_.members)
    if (m != cfg_.id)
      send(m, rv);
}

void node::become_leader() {
  core::leader l;
  // Before the no-op: what earlier terms left in the log (thesis §6.4).
  l.prior_last = log_.last_index();
  for (auto m : cfg_.members) {
    if (m == cfg_.id)
      continue;
    progress p;
    // Figure 2: nextIndex "initialized to leader last log index + 1",
    // matchIndex "initialized to 0".
    p.next_index = log_.last_index().next();
    p.match_index = index_t{};
    l.followers.emplace(m, std::move(p));
  }
  role_ = std::move(l);
  state_changed_ = true;
  if (cfg_.noop_on_election)
    append_local(entry_kind::noop, {});
  // §5.2: "Upon election: send initial empty AppendEntries RPCs (heartbeat)
  // to each server".
  broadcast_append(true);
}

void node::reset_election_timer() {
  election_elapsed_ = 0;
  draw_election_timeout();
}

void node::draw_election_timeout() {
  // §5.2: "election timeouts are chosen randomly from a fixed interval".
  auto span = static_cast<std::uint64_t>(cfg_.election_ticks);
  randomized_timeout_ = cfg_.election_ticks
                        + static_cast<int>(rng_() % span);
}

// -- handlers -----------------------------------------------------------------

void node::handle(server_id from, const request_vote& m) {
  // Figure 2, RequestVote receiver: "If votedFor is null or candidateId, and
  // candidate's log is at least as up-to-date as receiver's log, grant
  // vote" (§5.2, §5.4.1).
  bool can_vote = hard_.voted_for == no_server || hard_.voted_for == from;
  bool up_to_date = log_.is_up_to_date(m.last_log_index, m.last_log_term);
  bool grant = can_vote && up_to_date && !is_leader();
  if (grant) {
    if (hard_.voted_for != from) {
      hard_.voted_for = from;
      state_changed_ = true;
    }
    // Granting a vote resets the timer (Figure 2, Followers).
    reset_election_timer();
  }
  // Leaves once the vote is durable (needs_durability).
  send(from, request_vote_reply{hard_.current_term, grant});
}

void node::handle(server_id from, const request_vote_reply& m) {
  auto* c = std::get_if<candidate>(&role_);
  if (!c)
    return;
  // A duplicated or reordered reply must not turn a granted vote into a
  // refusal: a vote, once granted in this term, stays granted (§5.2).
  if (m.vote_granted) {
    c->granted.insert(from);
    c->refused.erase(from);
  } else if (c->granted.count(from) == 0) {
    c->refused.insert(from);
  }
  maybe_win_election();
}

bool node::maybe_win_election() {
  auto& c = std::get<candidate>(role_);
  // Votes count only once our own term and vote are durable.
  if (!durability_.is_durable(c.self_vote_batch))
    return false;
  if (c.granted.size() >= quorum()) {
    become_leader();
    return true;
  }
  return false;
}

} // namespace raft::core
