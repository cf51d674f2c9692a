// raft::core::node, part 1: construction, inputs, output, observers and
// elections (§5.2). Part 2 (node_replication.cpp) holds log replication,
// part 3 (node_snapshot.cpp) the snapshots of §7.
#include "actors/core/node.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>

#include "actors/core/node_detail.hpp"

namespace raft::core {

using detail::overload;
using detail::where;

// -- construction -------------------------------------------------------------

node::node(config cfg, stored_state state)
  : cfg_(std::move(cfg)),
    rng_(cfg_.rng_seed ^ (0x9e3779b97f4a7c15ULL * (cfg_.id.value + 1))),
    hard_(state.hard),
    log_(state.base, std::move(state.entries)),
    commit_index_(state.base.index),
    applied_index_(state.base.index),
    role_(follower{}) {
  if (cfg_.id == no_server)
    throw std::invalid_argument("raft config: server id 0 is reserved");
  if (!is_member(cfg_.id))
    throw std::invalid_argument(where(cfg_) + "not in its own member list");
  auto sorted = cfg_.members;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()
      || sorted.front() == no_server)
    throw std::invalid_argument(where(cfg_)
                                + "member ids must be unique and non-zero");
  if (cfg_.heartbeat_ticks < 1 || cfg_.election_ticks <= cfg_.heartbeat_ticks)
    throw std::invalid_argument(
      where(cfg_) + "need 1 <= heartbeat_ticks < election_ticks");
  if (cfg_.read_timeout_ticks < 1)
    throw std::invalid_argument(where(cfg_) + "need read_timeout_ticks >= 1");
  if (cfg_.max_entries_per_append < 1 || cfg_.max_inflight_appends < 1
      || cfg_.snapshot_chunk_bytes < 1)
    throw std::invalid_argument(where(cfg_)
                                + "max_entries_per_append, "
                                  "max_inflight_appends and "
                                  "snapshot_chunk_bytes must be >= 1");
  if (log_.last_term() > hard_.current_term)
    throw std::invalid_argument(where(cfg_) + "restored log has term "
                                + to_string(log_.last_term())
                                + " above current_term "
                                + to_string(hard_.current_term));
  set_snapshot_data(std::move(state.snapshot));
  // §7: a restarted server starts from its snapshot: commit and applied
  // start at the base, and a fresh state machine first loads the snapshot.
  if (log_.base().index != index_t{}) {
    apply_msg a;
    a.snapshot_valid = true;
    a.snapshot = *snapshot_data_;
    a.snapshot_term = log_.base().term;
    a.snapshot_index = log_.base().index;
    ready_snapshot_apply_ = std::move(a);
  }
  // Everything restored is durable by definition.
  emitted_hard_ = hard_;
  emitted_last_ = log_.last_index();
  unstable_from_ = log_.last_index().next();
  durable_index_ = log_.last_index();
  reset_election_timer();
}

// -- inputs -------------------------------------------------------------------

void node::tick() {
  if (auto* l = std::get_if<core::leader>(&role_)) {
    bool reads_pending = tick_reads();
    if (++l->heartbeat_elapsed >= cfg_.heartbeat_ticks) {
      l->heartbeat_elapsed = 0;
      // With reads unconfirmed, the heartbeat is a new read round (thesis
      // §6.4): it also repairs a round whose messages were lost.
      if (reads_pending)
        ++l->read_seq;
      broadcast_append(true);
    }
    return;
  }
  // §5.2: "If a follower receives no communication over a period of time
  // called the election timeout, then it ... begins an election". A
  // candidate whose election times out starts a new one.
  if (++election_elapsed_ >= randomized_timeout_)
    become_candidate();
}

void node::step(server_id from, const rpc_message& msg) {
  if (from == cfg_.id || !is_member(from))
    return;
  auto t = term_of(msg);
  // §5.1: "If a server receives a request with a stale term number, it
  // rejects the request." Stale replies are dropped.
  if (t < hard_.current_term) {
    std::visit(
      overload{
        [&](const request_vote&) {
          send_after_persist(from, request_vote_reply{hard_.current_term,
                                                      false});
        },
        [&](const append_entries& m) {
          append_entries_reply r;
          r.term = hard_.current_term;
          r.prev_log_index = m.prev_log_index;
          r.read_seq = m.read_seq;
          send_after_persist(from, r);
        },
        [&](const install_snapshot& m) {
          // Figure 13: "Reply immediately if term < currentTerm".
          install_snapshot_reply r;
          r.term = hard_.current_term;
          r.last_included = m.last_included;
          send_after_persist(from, r);
        },
        [](const request_vote_reply&) {},
        [](const append_entries_reply&) {},
        [](const install_snapshot_reply&) {},
      },
      msg);
    return;
  }
  // §5.1 / Figure 2: "If RPC request or response contains term T >
  // currentTerm: set currentTerm = T, convert to follower".
  if (t > hard_.current_term) {
    auto leader_of_t = std::holds_alternative<append_entries>(msg)
                           || std::holds_alternative<install_snapshot>(msg)
                         ? from
                         : no_server;
    become_follower(t, leader_of_t);
  }
  std::visit([&](const auto& m) { handle(from, m); }, msg);
}

propose_result node::propose(std::string command) {
  if (!is_leader())
    return {index_t{}, term_t{}, false, leader()};
  append_local(entry_kind::command, std::move(command));
  auto& l = std::get<core::leader>(role_);
  for (auto& [id, p] : l.followers)
    send_append(id, p, false);
  // A lone member commits once its own write is durable (on_persisted).
  return {log_.last_index(), hard_.current_term, true, cfg_.id};
}

void node::on_persisted(term_t term, index_t index) {
  if (inflight_batches_.empty())
    throw std::logic_error(where(cfg_) + "persisted " + to_string(term) + "/"
                           + to_string(index) + " without a pending batch");
  auto b = inflight_batches_.front();
  if (b.last.term != term || b.last.index != index)
    throw std::logic_error(where(cfg_) + "persisted " + to_string(term) + "/"
                           + to_string(index) + " but the oldest batch ends at "
                           + to_string(b.last.term) + "/"
                           + to_string(b.last.index));
  inflight_batches_.pop_front();
  batches_durable_ = b.seq;
  // The durable log is now the log as of batch b. It equals the in-memory
  // log up to the first later change: a truncation by a younger batch, or an
  // unemitted change.
  auto durable = b.last.index;
  for (const auto& younger : inflight_batches_)
    if (younger.truncate_from.value != 0)
      durable = std::min(durable, younger.truncate_from.prev());
  durable = std::min(durable, unstable_from_.prev());
  durable_index_ = durable;
  release_held();
  // Figure 13 step 8: the state machine gets an installed snapshot once it
  // is durable here.
  if (snapshot_apply_ && batches_durable_ >= snapshot_apply_->batch) {
    if (snapshot_apply_->msg.snapshot_index == log_.base().index
        && snapshot_bytes_pending_)
      throw std::logic_error(where(cfg_) + "the batch installing snapshot "
                             + detail::str(log_.base())
                             + " is durable but its bytes never came back "
                               "(snapshot_read_back before persisted)");
    ready_snapshot_apply_ = std::move(snapshot_apply_->msg);
    snapshot_apply_.reset();
  }
  if (std::holds_alternative<candidate>(role_))
    maybe_win_election();
  else if (is_leader())
    maybe_commit();
}

// -- output -------------------------------------------------------------------

bool node::has_output() const {
  return hard_ != emitted_hard_ || unstable_from_ <= log_.last_index()
         || unstable_from_ <= emitted_last_ || snapshot_unemitted_
         || !chunks_out_.empty()
         || !outbox_.empty() || !outbox_after_persist_.empty()
         || state_changed_ || ready_snapshot_apply_ || !reads_failed_.empty()
         || (!reads_confirmed_.empty()
             && reads_confirmed_.front().index <= applied_index_)
         || (applied_index_ >= log_.base().index
             && applied_index_ < std::min(commit_index_, durable_index_));
}

output node::take_output() {
  output out;
  // 0. Chunks of a snapshot being received, for the staging area.
  out.snapshot_chunks = std::move(chunks_out_);
  chunks_out_.clear();
  // 1. The persist batch: everything changed since the previous batch.
  bool log_changed = unstable_from_ <= log_.last_index()
                     || unstable_from_ <= emitted_last_;
  if (hard_ != emitted_hard_ || log_changed || snapshot_unemitted_) {
    persist_batch b;
    b.hard_state = hard_;
    // The store installs the snapshot first, then truncates and appends.
    if (snapshot_unemitted_ && staged_install_size_) {
      snapshot_install s;
      s.last_included = log_.base();
      s.staged = true;
      s.size = *staged_install_size_;
      s.crc32 = snapshot_crc_;
      b.snapshot.push_back(std::move(s));
    } else if (snapshot_unemitted_) {
      b.snapshot.push_back(snapshot_install{log_.base(), *snapshot_data_});
    }
    if (unstable_from_ <= emitted_last_)
      b.truncate_from = unstable_from_;
    if (unstable_from_ <= log_.last_index())
      b.entries = log_.slice(unstable_from_, log_.last_index(),
                             static_cast<std::size_t>(-1),
                             static_cast<std::size_t>(-1));
    b.last = log_.last();
    auto cut = b.truncate_from;
    if (snapshot_cut_ != index_t{}
        && (cut == index_t{} || snapshot_cut_ < cut))
      cut = snapshot_cut_;
    inflight_batches_.push_back({++batches_emitted_, b.last, cut});
    snapshot_unemitted_ = false;
    staged_install_size_.reset();
    snapshot_cut_ = index_t{};
    emitted_hard_ = hard_;
    emitted_last_ = log_.last_index();
    unstable_from_ = log_.last_index().next();
    out.persist = std::move(b);
  }
  // 2. Messages produced by this input that promise durable state wait for
  // every batch emitted so far (Figure 2: "Updated on stable storage before
  // responding to RPCs"; thesis §3.8).
  for (auto& env : outbox_after_persist_) {
    if (batches_durable_ >= batches_emitted_ && held_.empty())
      outbox_.push_back(std::move(env));
    else
      held_.emplace_back(batches_emitted_, std::move(env));
  }
  outbox_after_persist_.clear();
  out.messages = std::move(outbox_);
  outbox_.clear();
  // 3a. A durable installed (or restored) snapshot replaces the state
  // machine's state; applied never moves backwards.
  if (ready_snapshot_apply_) {
    // (Equal only for the restored snapshot: applied starts at its index.)
    if (ready_snapshot_apply_->snapshot_index >= applied_index_) {
      applied_index_ = ready_snapshot_apply_->snapshot_index;
      out.apply_snapshot = std::move(ready_snapshot_apply_);
    }
    ready_snapshot_apply_.reset();
  }
  // 3b. Committed entries that are durable here go to the state machine,
  // once the state machine holds the snapshot they follow.
  auto bound = std::min(commit_index_, durable_index_);
  if (applied_index_ >= log_.base().index && applied_index_ < bound) {
    out.committed = log_.slice(applied_index_.next(), bound,
                               static_cast<std::size_t>(-1),
                               static_cast<std::size_t>(-1));
    applied_index_ = bound;
  }
  // 4. Reads: confirmed ones whose index the state machine now has, and
  // failed ones.
  release_reads(out);
  out.state_changed = state_changed_;
  state_changed_ = false;
  return out;
}

// -- observers ----------------------------------------------------------------

raft::role node::role() const {
  return std::visit(overload{
                      [](const follower&) { return raft::role::follower; },
                      [](const candidate&) { return raft::role::candidate; },
                      [](const core::leader&) { return raft::role::leader; },
                    },
                    role_);
}

server_id node::leader() const {
  return std::visit(overload{
                      [](const follower& f) { return f.leader; },
                      [](const candidate&) { return no_server; },
                      [&](const core::leader&) { return cfg_.id; },
                    },
                    role_);
}

peer_status node::status() const {
  peer_status s;
  s.id = cfg_.id;
  s.role = role();
  s.term = hard_.current_term;
  s.leader = leader();
  s.voted_for = hard_.voted_for;
  s.commit_index = commit_index_;
  s.last_applied = applied_index_;
  s.first_index = log_.first_index();
  s.last_index = log_.last_index();
  s.durable_index = durable_index_;
  s.snapshot = snapshot_point();
  return s;
}

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
  c.self_vote_batch = batches_emitted_ + 1;
  role_ = std::move(c);
  state_changed_ = true;
  reset_election_timer();
  request_vote rv{hard_.current_term, cfg_.id, log_.last_index(),
                  log_.last_term()};
  // Durability rule: vote requests leave only once term and vote are
  // durable, so a crash cannot make this server vote twice in the term.
  for (auto m : cfg_.members)
    if (m != cfg_.id)
      send_after_persist(m, rv);
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
  send_after_persist(from, request_vote_reply{hard_.current_term, grant});
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

// -- candidate ----------------------------------------------------------------

bool node::maybe_win_election() {
  auto& c = std::get<candidate>(role_);
  // Votes count only once our own term and vote are durable.
  if (batches_durable_ < c.self_vote_batch)
    return false;
  if (c.granted.size() >= quorum()) {
    become_leader();
    return true;
  }
  return false;
}

// -- plumbing -----------------------------------------------------------------

bool node::is_member(server_id s) const {
  return std::find(cfg_.members.begin(), cfg_.members.end(), s)
         != cfg_.members.end();
}

void node::send(server_id to, rpc_message msg) {
  outbox_.push_back(envelope{cfg_.id, to, std::move(msg)});
}

void node::send_after_persist(server_id to, rpc_message msg) {
  outbox_after_persist_.push_back(envelope{cfg_.id, to, std::move(msg)});
}

void node::truncate_log_from(index_t i) {
  // Committed entries are never removed (Leader Completeness, §5.4).
  if (i <= commit_index_)
    throw std::logic_error(where(cfg_) + "asked to truncate committed entry "
                           + to_string(i) + " (commit index "
                           + to_string(commit_index_) + ")");
  log_.truncate_from(i);
  unstable_from_ = std::min(unstable_from_, i);
  durable_index_ = std::min(durable_index_, i.prev());
}

void node::set_commit(index_t i) {
  i = std::min(i, log_.last_index());
  if (i > commit_index_)
    commit_index_ = i;
}

void node::release_held() {
  while (!held_.empty() && held_.front().first <= batches_durable_) {
    outbox_.push_back(std::move(held_.front().second));
    held_.pop_front();
  }
}

} // namespace raft::core
