// raft::core::node, part 4: linearizable reads with ReadIndex (Raft thesis
// §6.4, "Processing read-only queries more efficiently"). A read never
// touches the log or the persister. The leader:
//   1. "If the leader has not yet marked an entry from its current term
//      committed, it waits until it has done so." What this step buys is a
//      commit index at least as high as every entry committed before the
//      leadership began; we wait for exactly that: commit_index >=
//      leader::prior_last (the log's end at election). Committing the
//      term's no-op gets there; a leader whose whole log was already known
//      committed is there at once.
//   2. "The leader saves its current commit index in a local variable
//      readIndex."
//   3. "The leader needs to make sure it hasn't been superseded by a newer
//      leader of which it is unaware. It issues a new round of heartbeats
//      and waits for their acknowledgments from a majority of the cluster."
//   4. "The leader waits for its state machine to advance at least as far
//      as the readIndex"; then the read may be answered.
//
// Rounds (step 3) are numbered: leader::read_seq is the latest round sent,
// and every AppendEntries carries it (a message sent later than a round's
// start proves as much as the round's own heartbeat). Followers echo it in
// every reply; a reply of the current term -- success or rejection -- shows
// that the follower still took this server as leader after that round
// began, so progress::read_ack keeps the highest echo per follower. A read
// registered while round s is the latest needs round s + 1 or later; a
// majority (this leader included) with read_ack >= s + 1 confirms it.
// Batching, after etcd's read_only.go (whose acks per request context we
// replace by one counter): at most one round is outstanding; reads arriving
// meanwhile wait and share the next round, which starts when the
// outstanding one is confirmed or at the next heartbeat (which starts a new
// round whenever reads are unconfirmed, so lost messages are repaired).
//
// Why a majority reply of term T after registration proves no newer leader
// committed anything the read could miss: a leader of term T+1 needs votes
// from a majority, each of which then has term >= T+1 and never again
// replies with T; two majorities share a server.
//
// Followers in snapshot mode get no read heartbeat (InstallSnapshot carries
// no round); a round then needs a majority among the others.
#include "actors/core/node.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "actors/core/node_detail.hpp"
#include "messages/to_string.hpp"

namespace raft::core {

std::string to_string(const read_state& x) {
  return "read " + std::to_string(x.request_id) + " index="
         + to_string(x.index);
}

std::string to_string(const read_failure& x) {
  return "read " + std::to_string(x.request_id) + " failed "
         + to_string(x.reason) + " leader="
         + (x.leader_hint == no_server ? std::string{"none"}
                                       : to_string(x.leader_hint));
}

// -- input --------------------------------------------------------------------

void node::read_index(std::uint64_t request_id) {
  auto* l = std::get_if<core::leader>(&role_);
  if (!l) {
    // Only the leader can serve a linearizable read: redirect the caller.
    reads_failed_.push_back({request_id, leader(), errc::not_leader});
    return;
  }
  pending_read r;
  r.request_id = request_id;
  r.deadline = l->ticks + static_cast<std::uint64_t>(cfg_.read_timeout_ticks);
  l->reads_waiting.push_back(r);
  advance_reads();
}

// -- leader -------------------------------------------------------------------

std::uint64_t node::read_seq() const {
  auto* l = std::get_if<core::leader>(&role_);
  return l ? l->read_seq : 0;
}

void node::on_read_ack(progress& p, std::uint64_t seq) {
  // An echo above the latest round cannot answer this leadership: ignore.
  if (seq > p.read_ack && seq <= read_seq())
    p.read_ack = seq;
}

void node::advance_reads() {
  auto& l = std::get<core::leader>(role_);
  // Steps 1 and 2: once the commit index is known, it is the read index of
  // every read that waited for it, and they need a round sent from now on.
  if (!l.reads_waiting.empty() && commit_index_ >= l.prior_last) {
    for (auto r : l.reads_waiting) {
      r.index = commit_index_;
      r.seq = l.read_seq + 1;
      l.reads.push_back(r);
    }
    l.reads_waiting.clear();
  }
  for (;;) {
    // Step 3: the highest round a majority acknowledged. The leader counts
    // itself for every round it sent.
    std::vector<std::uint64_t> acks;
    acks.reserve(l.followers.size() + 1);
    acks.push_back(l.read_seq);
    for (const auto& [id, p] : l.followers)
      acks.push_back(p.read_ack);
    std::sort(acks.begin(), acks.end(), std::greater<>{});
    l.read_confirmed = std::max(l.read_confirmed, acks[quorum() - 1]);
    while (!l.reads.empty() && l.reads.front().seq <= l.read_confirmed) {
      const auto& r = l.reads.front();
      reads_confirmed_.push_back({r.request_id, r.index});
      l.reads.pop_front();
    }
    // Batching: a new round only for reads that need one, and only when no
    // round is outstanding (the reads arriving meanwhile share the next).
    bool needed = !l.reads.empty() && l.reads.back().seq > l.read_seq;
    if (!needed || l.read_confirmed < l.read_seq)
      return;
    // A lone member confirms the round at once: loop.
    start_read_round();
  }
}

void node::start_read_round() {
  auto& l = std::get<core::leader>(role_);
  ++l.read_seq;
  for (auto& [id, p] : l.followers)
    if (p.state != progress::mode::snapshot)
      send_append(id, p, true);
}

bool node::tick_reads() {
  auto& l = std::get<core::leader>(role_);
  ++l.ticks;
  auto expire = [&](std::deque<pending_read>& xs) {
    auto keep = std::stable_partition(xs.begin(), xs.end(),
                                      [&](const pending_read& r) {
                                        return r.deadline > l.ticks;
                                      });
    for (auto it = keep; it != xs.end(); ++it)
      reads_failed_.push_back({it->request_id, cfg_.id, errc::timeout});
    xs.erase(keep, xs.end());
  };
  expire(l.reads_waiting);
  expire(l.reads);
  return !l.reads.empty();
}

void node::fail_leader_reads(server_id hint) {
  auto& l = std::get<core::leader>(role_);
  for (const auto* xs : {&l.reads_waiting, &l.reads})
    for (const auto& r : *xs)
      reads_failed_.push_back({r.request_id, hint, errc::not_leader});
  l.reads_waiting.clear();
  l.reads.clear();
}

// -- output -------------------------------------------------------------------

void node::release_reads(output& out) {
  // Step 4: the state machine gets the read after every entry through its
  // index (this output's `committed` or an earlier one).
  while (!reads_confirmed_.empty()
         && reads_confirmed_.front().index <= applied_index_) {
    out.reads_ready.push_back(reads_confirmed_.front());
    reads_confirmed_.pop_front();
  }
  out.reads_failed = std::move(reads_failed_);
  reads_failed_.clear();
}

} // namespace raft::core
