// raft::core::node: log replication (§5.3) and commitment (§5.4) -- the
// follower's AppendEntries handler and the leader's side: progress per
// follower (probe, pipelined replicate, snapshot), the fast backup of a
// rejected AppendEntries (XTerm/XIndex/XLen), and the commit rule.
#include "actors/core/node.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>

#include "actors/core/node_detail.hpp"

namespace raft::core {

using detail::where;

// -- handlers -----------------------------------------------------------------

void node::check_single_leader(server_id from) const {
  // Election safety (§5.2, Figure 3): at most one leader per term. A leader
  // receiving its own term's AppendEntries or InstallSnapshot proves two.
  if (is_leader())
    throw std::logic_error(where(cfg_) + "two leaders in term "
                           + to_string(hard_.current_term) + ": "
                           + to_string(cfg_.id) + " and " + to_string(from));
}

void node::handle(server_id from, const append_entries& m) {
  check_single_leader(from);
  // §5.2: "If AppendEntries RPC received from new leader: convert to
  // follower"; a follower resets its election timer.
  become_follower(hard_.current_term, from);

  append_entries_reply r;
  r.term = hard_.current_term;
  r.prev_log_index = m.prev_log_index;
  // Thesis §6.4: every reply of this term, success or not, tells the leader
  // that we accepted it after its read round m.read_seq began.
  r.read_seq = m.read_seq;
  auto prev = m.prev_log_index;
  auto prev_term = m.prev_log_term;
  auto first_new = m.entries.begin();
  // Entries at or below our snapshot point are committed and hence equal to
  // ours (Log Matching): skip them.
  if (prev < log_.base().index) {
    while (first_new != m.entries.end() && first_new->index <= log_.base().index)
      ++first_new;
    prev = log_.base().index;
    prev_term = log_.base().term;
  }
  if (prev > log_.last_index()) {
    // XLen: our log is too short.
    r.log_length = log_.last_index().next();
    send(from, r);
    return;
  }
  if (!log_.matches(prev, prev_term)) {
    // Figure 2: "Reply false if log doesn't contain an entry at prevLogIndex
    // whose term matches prevLogTerm (§5.3)", with XTerm/XIndex.
    r.conflict_term = *log_.term_at(prev);
    r.conflict_index = log_.first_index_of_term_at(prev);
    r.log_length = log_.last_index().next();
    send(from, r);
    return;
  }
  // "If an existing entry conflicts with a new one (same index but different
  // terms), delete the existing entry and all that follow it (§5.3). Append
  // any new entries not already in the log." Matching entries are kept, so
  // a stale or reordered request never shortens the log.
  for (auto it = first_new; it != m.entries.end(); ++it) {
    if (it->index <= log_.last_index()) {
      if (log_.matches(it->index, it->term))
        continue;
      truncate_log_from(it->index);
    }
    log_.append(*it);
  }
  auto last_new = index_t{prev.value
                          + static_cast<std::uint64_t>(m.entries.end()
                                                       - first_new)};
  // "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit,
  // index of last new entry)".
  if (m.leader_commit > commit_index_)
    set_commit(std::min(m.leader_commit, last_new));
  r.success = true;
  r.match_index = last_new;
  send(from, r);
}

progress* node::follower_progress(server_id from) {
  auto* l = std::get_if<core::leader>(&role_);
  if (!l)
    return nullptr;
  auto it = l->followers.find(from);
  return it == l->followers.end() ? nullptr : &it->second;
}

void node::handle(server_id from, const append_entries_reply& m) {
  auto* pp = follower_progress(from);
  if (!pp)
    return;
  // step() dropped older terms and stepped down on newer ones: this reply
  // is of the current term, an ack of its read round (thesis §6.4).
  on_read_ack(*pp, m.read_seq);
  update_progress(from, *pp, m);
  advance_reads();
}

void node::update_progress(server_id from, progress& p,
                           const append_entries_reply& m) {
  if (p.state == progress::mode::snapshot) {
    // A late answer to an AppendEntries sent before the snapshot transfer
    // began: only a success that proves the follower needs no snapshot
    // matters; the transfer otherwise goes on.
    if (!m.success || m.match_index <= p.match_index)
      return;
    p.acknowledge(m.match_index);
    if (p.match_index >= log_.base().index)
      p.become_probe(p.match_index.next());
    maybe_commit();
    send_append(from, p, false);
    return;
  }
  if (m.success) {
    p.acknowledge(m.match_index);
    if (p.state == progress::mode::probe)
      p.become_replicate();
    maybe_commit();
    send_append(from, p, false);
    return;
  }
  // Rejection. Ignore replies to requests older than what we know matches,
  // and (probe mode) replies to anything but the current probe.
  if (m.prev_log_index < p.match_index)
    return;
  if (p.state == progress::mode::probe && m.prev_log_index != p.next_index.prev())
    return;
  // Fast backup (the optimisation §5.3 sketches; the reply carries XTerm,
  // XIndex and XLen, docs/architecture.md §3):
  //  - follower has no entry at prev (XTerm = 0): next = XLen;
  //  - we hold entries of XTerm: next = one past our last entry of XTerm;
  //  - we have no entry of XTerm: next = XIndex.
  index_t next;
  if (m.conflict_term == term_t{}) {
    next = m.log_length;
  } else if (auto last = log_.last_index_of_term(m.conflict_term)) {
    next = last->next();
  } else {
    next = m.conflict_index;
  }
  // The entry at prev_log_index did not match: resend from at most there,
  // and never below what is known to match.
  next = std::min(next, m.prev_log_index);
  next = std::max(next, p.match_index.next());
  next = std::min(next, log_.last_index().next());
  p.become_probe(next);
  send_append(from, p, false);
}

// -- leader -------------------------------------------------------------------

void node::send_append(server_id to, progress& p, bool heartbeat) {
  // §7: "the leader must occasionally send snapshots to followers that lag
  // behind" -- when the entry before next_index is compacted away.
  if (p.state != progress::mode::snapshot
      && p.next_index <= log_.base().index)
    p.become_snapshot(log_.base());
  if (p.state == progress::mode::snapshot) {
    send_snapshot_chunk(to, p, heartbeat);
    return;
  }
  if (p.state == progress::mode::probe) {
    // One probe per heartbeat interval or reply: wait for its answer.
    if (p.probe_sent && !heartbeat)
      return;
    send_entries(to, p);
    p.probe_sent = true;
    return;
  }
  bool sent = false;
  while (p.next_index <= log_.last_index()
         && p.inflight.size() < cfg_.max_inflight_appends) {
    send_entries(to, p);
    sent = true;
  }
  if (heartbeat && !sent) {
    // An empty AppendEntries at next_index - 1 asserts leadership, carries
    // the commit index, and -- if the follower misses entries we believe in
    // flight -- draws a rejection that puts the follower back into probe.
    append_entries ae;
    ae.term = hard_.current_term;
    ae.leader_id = cfg_.id;
    ae.prev_log_index = p.next_index.prev();
    ae.prev_log_term = log_.term_at(ae.prev_log_index).value_or(term_t{});
    ae.leader_commit = commit_index_;
    ae.read_seq = read_seq();
    send(to, std::move(ae));
  }
}

void node::send_entries(server_id to, progress& p) {
  auto from = p.next_index;
  append_entries ae;
  ae.term = hard_.current_term;
  ae.leader_id = cfg_.id;
  ae.prev_log_index = from.prev();
  auto prev_term = log_.term_at(ae.prev_log_index);
  if (!prev_term)
    // send_append switches to InstallSnapshot before this can happen.
    throw std::logic_error(where(cfg_) + "entry "
                           + to_string(ae.prev_log_index)
                           + " needed for follower " + to_string(to)
                           + " is compacted");
  ae.prev_log_term = *prev_term;
  if (from <= log_.last_index())
    ae.entries = log_.slice(from, log_.last_index(),
                            cfg_.max_entries_per_append,
                            cfg_.max_bytes_per_append);
  ae.leader_commit = commit_index_;
  ae.read_seq = read_seq();
  if (p.state == progress::mode::replicate && !ae.entries.empty()) {
    // Optimistic pipelining: assume delivery, move on; a rejection brings
    // the follower back to probe.
    p.next_index = ae.entries.back().index.next();
    p.inflight.push_back(ae.entries.back().index);
  }
  send(to, std::move(ae));
}

void node::broadcast_append(bool heartbeat) {
  auto& l = std::get<core::leader>(role_);
  for (auto& [id, p] : l.followers)
    send_append(id, p, heartbeat);
}

bool node::maybe_commit() {
  auto& l = std::get<core::leader>(role_);
  // The leader counts itself only up to what is durable here (thesis
  // §10.2.1).
  std::vector<index_t> match;
  match.reserve(l.followers.size() + 1);
  match.push_back(durability_.durable_index());
  for (auto& [id, p] : l.followers)
    match.push_back(p.match_index);
  std::sort(match.begin(), match.end(), std::greater<>{});
  auto n = match[quorum() - 1];
  // §5.4.2: "Raft never commits log entries from previous terms by counting
  // replicas. Only log entries from the leader's current term are committed
  // by counting replicas".
  if (n > commit_index_ && log_.matches(n, hard_.current_term)) {
    set_commit(n);
    // The leader may now know the commit index (thesis §6.4 step 1).
    advance_reads();
    return true;
  }
  return false;
}

void node::append_local(entry_kind kind, std::string data) {
  log_entry e;
  e.term = hard_.current_term;
  e.index = log_.last_index().next();
  e.kind = kind;
  e.data = std::move(data);
  // The next persist batch carries it; this leader counts itself toward its
  // commit once that batch is durable (thesis §10.2.1).
  log_.append(std::move(e));
}

void node::truncate_log_from(index_t i) {
  // Committed entries are never removed (Leader Completeness, §5.4).
  if (i <= commit_index_)
    throw std::logic_error(where(cfg_) + "asked to truncate committed entry "
                           + to_string(i) + " (commit index "
                           + to_string(commit_index_) + ")");
  log_.truncate_from(i);
  durability_.truncated_from(i);
}

void node::set_commit(index_t i) {
  i = std::min(i, log_.last_index());
  if (i > commit_index_)
    commit_index_ = i;
}

} // namespace raft::core
