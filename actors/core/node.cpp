// raft::core::node: construction, the inputs, the output and the observers,
// and the term rule every message goes through first (§5.1). The rules of
// each part of the paper live in node_election.cpp, node_replication.cpp,
// node_snapshot.cpp and node_read.cpp; what may leave before which persist
// is acknowledged, in durability.cpp.
#include "actors/core/node.hpp"

#include <algorithm>
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
    role_(follower{}),
    durability_(cfg_.id, hard_, log_.last_index()) {
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
  if (log_.base().index != index_t{})
    durability_.apply_snapshot_now(
      apply_msg::of_snapshot(log_.base(), *snapshot_data_));
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
          send(from, request_vote_reply{hard_.current_term, false});
        },
        [&](const append_entries& m) {
          append_entries_reply r;
          r.term = hard_.current_term;
          r.prev_log_index = m.prev_log_index;
          r.read_seq = m.read_seq;
          send(from, r);
        },
        [&](const install_snapshot& m) {
          // Figure 13: "Reply immediately if term < currentTerm".
          install_snapshot_reply r;
          r.term = hard_.current_term;
          r.last_included = m.last_included;
          send(from, r);
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
  durability_.on_persisted(term, index);
  // Figure 13 step 8: the state machine gets an installed snapshot once it
  // is durable here -- with its bytes, which the persister returns first.
  if (const auto* a = durability_.ready_snapshot_apply();
      a != nullptr && a->snapshot_index == log_.base().index
      && snapshot_bytes_pending_)
    throw std::logic_error(where(cfg_) + "the batch installing snapshot "
                           + detail::str(log_.base())
                           + " is durable but its bytes never came back "
                             "(snapshot_read_back before persisted)");
  // Votes and the leader's own log count once durable.
  if (std::holds_alternative<candidate>(role_))
    maybe_win_election();
  else if (is_leader())
    maybe_commit();
}

// -- output -------------------------------------------------------------------

bool node::has_output() const {
  return durability_.has_output(hard_, log_) || state_changed_
         || !reads_failed_.empty()
         || (!reads_confirmed_.empty()
             && reads_confirmed_.front().index <= applied_index_)
         || (applied_index_ >= log_.base().index
             && applied_index_ < std::min(commit_index_,
                                          durability_.durable_index()));
}

output node::take_output() {
  output out;
  // 0-2. Staged snapshot chunks, the persist batch, the messages that may
  // leave now.
  durability_.take(hard_, log_, out);
  // 3a. A durable installed (or restored) snapshot replaces the state
  // machine's state; applied never moves backwards.
  if (auto a = durability_.take_ready_snapshot_apply()) {
    // (Equal only for the restored snapshot: applied starts at its index.)
    if (a->snapshot_index >= applied_index_) {
      applied_index_ = a->snapshot_index;
      out.apply_snapshot = std::move(a);
    }
  }
  // 3b. Committed entries that are durable here go to the state machine,
  // once the state machine holds the snapshot they follow.
  auto bound = std::min(commit_index_, durability_.durable_index());
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
  s.durable_index = durability_.durable_index();
  s.snapshot = snapshot_point();
  return s;
}

// -- plumbing -----------------------------------------------------------------

bool node::is_member(server_id s) const {
  return std::find(cfg_.members.begin(), cfg_.members.end(), s)
         != cfg_.members.end();
}

void node::send(server_id to, rpc_message msg) {
  durability_.send(envelope{cfg_.id, to, std::move(msg)});
}

} // namespace raft::core
