#include "actors/core/invariants.hpp"

#include <algorithm>
#include <sstream>
#include <type_traits>
#include <utility>
#include <variant>

#include "messages/crc32.hpp"
#include "actors/core/node.hpp"
#include "messages/to_string.hpp"

namespace raft::core {

namespace {

/// Collects violations; `expect(cond, parts...)` adds one message when the
/// condition fails (LogCabin's `expect()` counter, but with the reason).
class report {
public:
  explicit report(const node& n) : prefix_("node " + to_string(n.id()) + ": ") {
  }

  template <class... Ts>
  void expect(bool cond, const Ts&... parts) {
    if (cond)
      return;
    std::ostringstream os;
    os << prefix_;
    (os << ... << parts);
    violations_.push_back(os.str());
  }

  std::vector<std::string> take() { return std::move(violations_); }

private:
  std::string prefix_;
  std::vector<std::string> violations_;
};

bool is_member(const node& n, server_id s) {
  const auto& ms = n.cfg().members;
  return std::find(ms.begin(), ms.end(), s) != ms.end();
}

void check_log(const node& n, check_scope scope, report& r) {
  const auto& log = n.log();
  auto base = log.base();
  r.expect(log.first_index() == base.index.next(), "log first_index ",
           log.first_index(), " != base.index + 1 = ", base.index.next());
  r.expect(base.term <= n.current_term(), "log base term ", base.term,
           " > current_term ", n.current_term());
  auto prev_term = base.term;
  auto from = log.first_index();
  if (scope == check_scope::recent
      && log.last_index().value - base.index.value > recent_entries) {
    // The first entry follows the base; then the tail.
    const auto& first = log.at(from);
    r.expect(first.index == from && base.term <= first.term,
             "log entry ", to_string(first), " does not follow the base ",
             base);
    from = index_t{log.last_index().value - recent_entries + 1};
    prev_term = *log.term_at(from.prev());
  }
  for (auto i = from; i <= log.last_index(); i = i.next()) {
    const auto& e = log.at(i);
    if (e.index != i) {
      r.expect(false, "log entry at position ", i, " has index ", e.index,
               " (indexes must be consecutive)");
      return; // the rest would only repeat the same problem
    }
    r.expect(prev_term <= e.term, "log term decreases at index ", i, ": ",
             prev_term, " then ", e.term);
    r.expect(e.term <= n.current_term(), "log entry ", to_string(e),
             " has a term above current_term ", n.current_term());
    auto t = log.term_at(i);
    r.expect(t && *t == e.term, "log term_at(", i, ") disagrees with at(", i,
             ")");
    prev_term = e.term;
  }
  r.expect(log.last_term() == prev_term, "log last_term ", log.last_term(),
           " is not the term of the last entry ", prev_term);
}

void check_indexes(const node& n, check_scope scope, report& r) {
  const auto& log = n.log();
  r.expect(log.base().index <= n.commit_index(), "commit_index ",
           n.commit_index(), " < log base ", log.base().index);
  r.expect(n.commit_index() <= log.last_index(), "commit_index ",
           n.commit_index(), " > last_index ", log.last_index());
  r.expect(n.applied_index() <= n.commit_index(), "applied_index ",
           n.applied_index(), " > commit_index ", n.commit_index());
  r.expect(n.applied_index() <= n.durable_index(), "applied_index ",
           n.applied_index(), " > durable_index ", n.durable_index(),
           " (applied an entry not stored durably)");
  r.expect(n.applied_index() >= log.base().index || n.snapshot_apply_pending(),
           "applied_index ", n.applied_index(), " < snapshot point ",
           log.base().index, " with no snapshot on its way to the state "
           "machine (§7)");
  r.expect(scope == check_scope::recent || n.snapshot_bytes_pending()
             || crc32(n.snapshot_data()) == n.snapshot_crc(),
           "snapshot_crc does not match the snapshot's ",
           n.snapshot_data().size(), " bytes");
  r.expect(n.durable_index() <= log.last_index(), "durable_index ",
           n.durable_index(), " > last_index ", log.last_index());
  r.expect(n.batches_durable() <= n.batches_emitted(), "batches_durable ",
           n.batches_durable(), " > batches_emitted ", n.batches_emitted());
  index_t prev_read;
  for (const auto& x : n.reads_confirmed()) {
    r.expect(x.index <= n.commit_index(), "confirmed read ", x.request_id,
             " at index ", x.index, " above commit_index ",
             n.commit_index());
    r.expect(x.index >= prev_read, "confirmed read ", x.request_id,
             " at index ", x.index, " after one at ", prev_read);
    prev_read = x.index;
  }
}

/// ReadIndex bookkeeping (thesis §6.4).
void check_leader_reads(const node& n, const leader& l, report& r) {
  r.expect(l.read_confirmed <= l.read_seq, "read round ", l.read_confirmed,
           " confirmed but only ", l.read_seq, " sent");
  r.expect(l.reads_waiting.empty() || n.commit_index() < l.prior_last,
           l.reads_waiting.size(), " reads wait for the commit index, but "
           "commit_index ", n.commit_index(), " >= prior_last ", l.prior_last,
           " (§6.4 step 1 holds)");
  r.expect(l.prior_last <= n.log().last_index(), "prior_last ", l.prior_last,
           " beyond the log's end ", n.log().last_index());
  index_t prev_index;
  std::uint64_t prev_seq = 0;
  for (const auto& x : l.reads) {
    r.expect(x.index <= n.commit_index(), "read ", x.request_id, " at index ",
             x.index, " above commit_index ", n.commit_index());
    r.expect(x.index >= prev_index && x.seq >= prev_seq, "read ",
             x.request_id, " (index ", x.index, ", round ", x.seq,
             ") registered before a read of index ", prev_index, ", round ",
             prev_seq);
    r.expect(x.seq > l.read_confirmed && x.seq <= l.read_seq + 1, "read ",
             x.request_id, " waits for round ", x.seq, " with ",
             l.read_confirmed, " confirmed and ", l.read_seq, " sent");
    r.expect(x.index >= l.prior_last, "read ", x.request_id, " at index ",
             x.index, " below prior_last ", l.prior_last,
             " (registered before the commit index was known, §6.4)");
    prev_index = x.index;
    prev_seq = x.seq;
  }
  // A round is outstanding whenever a registered read has one in flight.
  r.expect(l.reads.empty() || l.reads.back().seq <= l.read_seq
             || l.read_confirmed < l.read_seq,
           "reads wait for round ", l.read_seq + 1,
           " but no round is outstanding (it was never started)");
}

void check_role(const node& n, report& r) {
  auto self = n.id();
  r.expect(is_member(n, self), "id ", self, " is not in members");
  auto visitor = [&](const auto& st) {
    using T = std::decay_t<decltype(st)>;
    if constexpr (std::is_same_v<T, follower>) {
      r.expect(n.role() == raft::role::follower, "role() is ", n.role(),
               " but the state is follower");
      r.expect(st.leader != self, "a follower names itself as leader");
      r.expect(st.leader == no_server || is_member(n, st.leader),
               "follower's leader ", st.leader, " is not a member");
      if (st.incoming) {
        r.expect(st.incoming->received <= st.incoming->total_size,
                 "receiving snapshot ", st.incoming->last_included, ": ",
                 st.incoming->received, " bytes of ",
                 st.incoming->total_size);
        r.expect(st.leader != no_server,
                 "receiving a snapshot from no leader");
      }
    } else if constexpr (std::is_same_v<T, candidate>) {
      r.expect(n.role() == raft::role::candidate, "role() is ", n.role(),
               " but the state is candidate");
      r.expect(n.voted_for() == self, "a candidate of term ",
               n.current_term(), " voted for ", n.voted_for(),
               ", not itself (§5.2)");
      r.expect(n.current_term() > term_t{0}, "a candidate in term 0");
      for (auto s : st.granted) {
        r.expect(is_member(n, s), "vote granted by non-member ", s);
        r.expect(st.refused.count(s) == 0, "server ", s,
                 " both granted and refused its vote");
      }
      for (auto s : st.refused)
        r.expect(is_member(n, s), "vote refused by non-member ", s);
      r.expect(n.leader() == no_server, "a candidate names leader ",
               n.leader());
    } else {
      static_assert(std::is_same_v<T, leader>, "unknown role alternative");
      r.expect(n.role() == raft::role::leader, "role() is ", n.role(),
               " but the state is leader");
      r.expect(n.voted_for() == self, "a leader of term ", n.current_term(),
               " voted for ", n.voted_for(), ", not itself (§5.2)");
      r.expect(n.leader() == self, "a leader names ", n.leader(),
               " as leader");
      r.expect(n.current_term() > term_t{0}, "a leader in term 0");
      auto last = n.log().last_index();
      std::size_t others = 0;
      for (auto s : n.cfg().members)
        if (s != self) {
          ++others;
          r.expect(st.followers.count(s) == 1, "leader has no progress for ",
                   s);
        }
      r.expect(st.followers.size() == others, "leader tracks ",
               st.followers.size(), " followers, expected ", others);
      check_leader_reads(n, st, r);
      for (const auto& [s, p] : st.followers) {
        r.expect(s != self, "leader tracks progress for itself");
        r.expect(p.read_ack <= st.read_seq, "progress of ", s,
                 ": read_ack ", p.read_ack, " > read_seq ", st.read_seq,
                 " (an ack of a round never sent)");
        r.expect(p.match_index < p.next_index, "progress of ", s,
                 ": match_index ", p.match_index, " >= next_index ",
                 p.next_index);
        r.expect(p.next_index <= last.next(), "progress of ", s,
                 ": next_index ", p.next_index, " > last_index + 1 = ",
                 last.next());
        r.expect(p.match_index <= last, "progress of ", s, ": match_index ",
                 p.match_index, " > last_index ", last);
        if (p.state == progress::mode::snapshot) {
          auto base = n.log().base();
          r.expect(p.next_index <= base.index, "progress of ", s,
                   " in snapshot mode with next_index ", p.next_index,
                   " above the snapshot point ", base.index);
          r.expect(p.outgoing.last_included.index <= base.index,
                   "progress of ", s, " sends snapshot ",
                   p.outgoing.last_included, " above the base ", base);
          r.expect(p.outgoing.last_included != base
                     || p.outgoing.offset <= n.snapshot_data().size(),
                   "progress of ", s, ": snapshot offset ", p.outgoing.offset,
                   " beyond the snapshot's ", n.snapshot_data().size(),
                   " bytes");
        }
      }
    }
  };
  std::visit(visitor, n.state());
}

void check_timer(const node& n, report& r) {
  auto lo = n.cfg().election_ticks;
  auto t = n.election_timeout();
  r.expect(t >= lo && t < 2 * lo, "election timeout ", t,
           " outside [", lo, ", ", 2 * lo, ")");
  r.expect(n.election_elapsed() >= 0, "election_elapsed ",
           n.election_elapsed(), " < 0");
}

void check_status(const node& n, report& r) {
  auto st = n.status();
  r.expect(st.id == n.id(), "status().id ", st.id, " != id() ", n.id());
  r.expect(st.role == n.role(), "status().role ", st.role, " != role() ",
           n.role());
  r.expect(st.term == n.current_term(), "status().term ", st.term,
           " != current_term ", n.current_term());
  r.expect(st.leader == n.leader(), "status().leader ", st.leader,
           " != leader() ", n.leader());
  r.expect(st.voted_for == n.voted_for(), "status().voted_for ", st.voted_for,
           " != voted_for() ", n.voted_for());
  r.expect(st.commit_index == n.commit_index(), "status().commit_index ",
           st.commit_index, " != commit_index() ", n.commit_index());
  r.expect(st.last_applied == n.applied_index(), "status().last_applied ",
           st.last_applied, " != applied_index() ", n.applied_index());
  r.expect(st.first_index == n.log().first_index(), "status().first_index ",
           st.first_index, " != log first_index ", n.log().first_index());
  r.expect(st.last_index == n.log().last_index(), "status().last_index ",
           st.last_index, " != log last_index ", n.log().last_index());
  r.expect(st.durable_index == n.durable_index(), "status().durable_index ",
           st.durable_index, " != durable_index() ", n.durable_index());
}

} // namespace

std::vector<std::string> check(const node& n, check_scope scope) {
  report r{n};
  check_log(n, scope, r);
  check_indexes(n, scope, r);
  check_role(n, r);
  check_timer(n, r);
  check_status(n, r);
  return r.take();
}

observed_state observe(const node& n) {
  observed_state x;
  x.id = n.id();
  x.role = n.role();
  x.current_term = n.current_term();
  x.voted_for = n.voted_for();
  x.leader = n.leader();
  x.commit_index = n.commit_index();
  x.applied_index = n.applied_index();
  x.base = n.log().base();
  x.commit_term = n.log().term_at(n.commit_index());
  x.last = n.log().last();
  return x;
}

std::vector<std::string> check_transition(const observed_state& before,
                                          const node& after) {
  report r{after};
  r.expect(before.id == after.id(), "compared with a snapshot of node ",
           before.id);
  auto term_changed = before.current_term != after.current_term();
  r.expect(before.current_term <= after.current_term(),
           "current_term decreased from ", before.current_term, " to ",
           after.current_term(), " (§5.1)");
  r.expect(term_changed || before.voted_for == no_server
             || before.voted_for == after.voted_for(),
           "voted_for changed from ", before.voted_for, " to ",
           after.voted_for(), " within term ", after.current_term(),
           " (at most one vote per term, §5.2)");
  r.expect(term_changed || before.leader == no_server
             || after.leader() == no_server || before.leader == after.leader(),
           "leader of term ", after.current_term(), " changed from ",
           before.leader, " to ", after.leader(), " (Election Safety, §5.2)");
  if (after.role() == raft::role::leader
      && before.role != raft::role::leader)
    r.expect(!term_changed && before.role == raft::role::candidate,
             "became leader of term ", after.current_term(), " from ",
             before.role, " of term ", before.current_term,
             " (a leader must have been a candidate in its term, §5.2)");
  r.expect(before.commit_index <= after.commit_index(),
           "commit_index decreased from ", before.commit_index, " to ",
           after.commit_index());
  r.expect(before.applied_index <= after.applied_index(),
           "applied_index decreased from ", before.applied_index, " to ",
           after.applied_index());
  auto base = after.log().base();
  r.expect(before.base.index <= base.index, "snapshot point moved back from ",
           before.base, " to ", base);
  if (before.commit_term && base.index == before.commit_index)
    r.expect(base.term == *before.commit_term, "snapshot point ", base,
             " disagrees with the committed entry ", *before.commit_term, "/",
             before.commit_index, " (§7: a snapshot covers committed "
             "entries)");
  if (before.commit_term) {
    auto t = after.log().term_at(before.commit_index);
    // An entry compacted into a snapshot is no longer visible: fine.
    auto compacted = before.commit_index < after.log().base().index;
    r.expect(compacted || (t && *t == *before.commit_term),
             "committed entry at index ", before.commit_index, " (term ",
             *before.commit_term, ") was ",
             t ? "replaced by term " + to_string(*t) : std::string{"removed"},
             " (§5.4: committed entries are never lost)");
  }
  return r.take();
}

} // namespace raft::core
