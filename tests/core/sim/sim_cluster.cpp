#include "tests/core/sim/sim_cluster.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <sstream>

#include "messages/crc32.hpp"
#include "messages/to_string.hpp"

namespace raft::sim {

// -- cluster: setup and time --------------------------------------------------

cluster::cluster(cluster_options opts)
  : opts_(std::move(opts)),
    net_(opts_.seed * 0x9e3779b97f4a7c15ULL + 1),
    rng_(opts_.seed * 0xbf58476d1ce4e5b9ULL + 2) {
  for (std::uint32_t i = 1; i <= opts_.servers; ++i)
    ids_.push_back(server_id{i});
  for (auto id : ids_) {
    auto& m = members_[id];
    m.id = id;
    m.node.emplace(config_for(m), raft::stored_state{});
    schedule(rng_.between(1, opts_.tick_ms), {event_kind::tick, id, 0});
  }
}

cluster::member& cluster::at(server_id id) { return members_.at(id); }

const cluster::member& cluster::at(server_id id) const {
  return members_.at(id);
}

core::config cluster::config_for(const member& m) const {
  auto cfg = opts_.node;
  cfg.id = m.id;
  cfg.members = ids_;
  // A restarted server draws new timeouts (the node also mixes in its id).
  cfg.rng_seed = opts_.seed * 1000003ULL + m.incarnation * 7919ULL;
  return cfg;
}

void cluster::schedule(std::int64_t when, event e) {
  events_.emplace(std::make_pair(when, event_seq_++), e);
}

void cluster::run_for(std::int64_t ms) {
  auto limit = now_ + ms;
  while (ok() && step_once(limit)) {
    // keep going
  }
  if (ok())
    now_ = std::max(now_, limit);
}

bool cluster::run_until(const std::function<bool()>& done,
                        std::int64_t max_ms) {
  auto limit = now_ + max_ms;
  while (ok()) {
    if (done())
      return true;
    if (!step_once(limit))
      break;
  }
  if (ok())
    now_ = std::max(now_, limit);
  return ok() && done();
}

bool cluster::step_once(std::int64_t limit) {
  auto nt = net_.next_time();
  std::optional<std::int64_t> et;
  if (!events_.empty())
    et = events_.begin()->first.first;
  if (nt && (!et || *nt <= *et)) {
    if (*nt > limit)
      return false;
    now_ = *nt;
    if (auto env = net_.pop_due(now_))
      deliver(*env);
    return true;
  }
  if (!et || *et > limit)
    return false;
  now_ = *et;
  auto e = events_.begin()->second;
  events_.erase(events_.begin());
  process(e);
  return true;
}

void cluster::process(const event& e) {
  auto& m = at(e.id);
  if (!m.node || m.incarnation != e.incarnation)
    return; // an event of a crashed incarnation
  mix(static_cast<std::uint64_t>(now_) * 4 + static_cast<std::uint64_t>(e.kind)
      + e.id.value * 1024);
  if (e.kind == event_kind::tick) {
    with_node(m, "tick", [](core::node& n) { n.tick(); });
    if (m.node && m.incarnation == e.incarnation)
      schedule(now_ + opts_.tick_ms, e);
    return;
  }
  if (m.disk.pending.empty()) {
    fail("server " + to_string(m.id) + ": acknowledgement without a batch");
    return;
  }
  auto b = std::move(m.disk.pending.front());
  m.disk.pending.pop_front();
  make_durable(m, b);
  if (opts_.trace)
    trace("server " + to_string(m.id) + " persisted " + to_string(b.last));
  with_node(m, "on_persisted " + to_string(b.last), [&](core::node& n) {
    // A received snapshot's bytes come back before the acknowledgement.
    for (const auto& s : b.snapshot)
      if (s.staged)
        n.on_snapshot_read_back(s.last_included, s.data);
    n.on_persisted(b.last.term, b.last.index);
  });
}

void cluster::deliver(const envelope& env) {
  auto& m = at(env.to);
  if (!m.node)
    return; // the addressee is down: lost
  mix(env.from.value * 131 + env.to.value * 7 + env.msg.index() * 31
      + term_of(env.msg).value);
  if (opts_.trace)
    trace(to_string(env));
  with_node(m, "step", [&](core::node& n) { n.step(env.from, env.msg); });
}

// -- cluster: inputs and checks -----------------------------------------------

void cluster::with_node(member& m, const std::string& what,
                        const std::function<void(core::node&)>& input) {
  auto before = core::observe(*m.node);
  ++stats_.inputs;
  try {
    input(*m.node);
    drain(m, before);
  } catch (const std::exception& e) {
    fail("server " + to_string(m.id) + " threw on " + what + ": " + e.what());
    return;
  }
  maybe_snapshot(m);
  if (++since_log_matching_ >= opts_.log_matching_every) {
    since_log_matching_ = 0;
    check_log_matching();
  }
  report_safety();
}

void cluster::report_safety() {
  // Safety violations are copied once, stamped with the time they were found.
  const auto& vs = safety_.violations();
  for (; safety_reported_ < vs.size(); ++safety_reported_)
    fail(vs[safety_reported_]);
}

void cluster::drain(member& m, const core::observed_state& before) {
  auto& n = *m.node;
  auto out = n.take_output();
  auto who = "server " + to_string(m.id) + ": ";
  for (const auto& v : core::check(n))
    fail("invariant: " + v);
  for (const auto& v : core::check_transition(before, n))
    fail("transition: " + v);
  if (opts_.trace && (before.role != n.role()
                      || before.current_term != n.current_term()))
    trace(who + "became " + to_string(n.role()) + " term="
          + to_string(n.current_term()));
  if (n.current_term() > stats_.max_term)
    stats_.max_term = n.current_term();
  if (n.is_leader()) {
    safety_.on_leader(n.id(), n.current_term());
    if (before.role != raft::role::leader
        || before.current_term != n.current_term()) {
      ++stats_.elections_won;
      safety_.on_elected(n.id(), n.current_term(), n.log());
    }
  }
  // Everything up to the commit index is committed (as this node sees it;
  // entries in its snapshot are checked through the state machine digest).
  for (auto i = std::max(before.commit_index, n.log().base().index).next();
       i <= n.commit_index(); i = i.next())
    safety_.on_committed(n.id(), n.current_term(), n.log().at(i));
  // The persister's staging area takes the chunks of a snapshot being
  // received; a batch installing them takes the bytes over (as a store's
  // write() does) and keeps `staged` so the ack hands them back first.
  for (const auto& c : out.snapshot_chunks) {
    if (c.offset == 0) {
      m.disk.staging_id = c.last_included;
      m.disk.staging = c.data;
    } else if (c.last_included != m.disk.staging_id
               || c.offset != m.disk.staging.size()) {
      fail("server " + to_string(m.id) + ": " + to_string(c)
           + " does not continue the staging area");
    } else {
      m.disk.staging += c.data;
    }
  }
  if (out.persist) {
    if (out.persist->truncate_from != index_t{})
      ++stats_.truncations;
    mix(out.persist->last.index.value * 3 + out.persist->last.term.value);
    auto b = *out.persist;
    for (auto& s : b.snapshot)
      if (s.staged) {
        if (s.last_included != m.disk.staging_id
            || s.size != m.disk.staging.size()
            || raft::crc32(m.disk.staging) != s.crc32)
          fail("server " + to_string(m.id) + ": " + to_string(s)
               + " does not match the staging area");
        s.data = std::move(m.disk.staging);
        m.disk.staging.clear();
        m.disk.staging_id = log_id{};
      }
    m.disk.pending.push_back(std::move(b));
    auto when = std::max(m.disk.last_ack_at,
                         now_ + rng_.between(opts_.min_persist_delay,
                                             opts_.max_persist_delay));
    m.disk.last_ack_at = when;
    schedule(when, {event_kind::ack, m.id, m.incarnation});
  }
  for (const auto& env : out.messages) {
    if (env.from != m.id)
      fail(who + "sends a message from " + to_string(env.from));
    check_durable(m, env);
    if (std::holds_alternative<install_snapshot>(env.msg))
      ++stats_.snapshot_chunks;
    net_.send(env, now_);
  }
  if (out.apply_snapshot)
    apply_snapshot(m, *out.apply_snapshot);
  end_reads(m, out);
  for (const auto& e : out.committed) {
    if (e.index != m.applied.next())
      fail(who + "applies " + to_string(e) + " after " + to_string(m.applied)
           + " (must be contiguous)");
    const auto* stored = m.disk.at(e.index);
    if (stored == nullptr || *stored != e)
      fail(who + "applies " + to_string(e)
           + " which its persister does not hold");
    apply_entry(m, e);
    safety_.on_committed(m.id, n.current_term(), e);
    mix(e.index.value * 17 + e.term.value);
  }
}

namespace {

std::uint64_t fnv(std::uint64_t h, const std::string& bytes) {
  for (auto c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

/// The sim's snapshot format: "snap i=<index> h=<digest>;" then filler.
std::string encode_snapshot(index_t i, std::uint64_t machine,
                            std::size_t padding) {
  return "snap i=" + to_string(i) + " h=" + std::to_string(machine) + ";"
         + std::string(padding, static_cast<char>('a' + i.value % 26));
}

bool decode_snapshot(const std::string& data, index_t& i,
                     std::uint64_t& machine) {
  unsigned long long x = 0, h = 0;
  if (std::sscanf(data.c_str(), "snap i=%llu h=%llu;", &x, &h) != 2)
    return false;
  i = index_t{x};
  machine = h;
  return true;
}

} // namespace

void cluster::apply_entry(member& m, const log_entry& e) {
  m.applied = e.index;
  m.restored_from = index_t{};
  m.machine = fnv(m.machine * 31 + e.term.value, e.data);
  auto [it, added] = machine_at_.emplace(e.index, m.machine);
  if (!added && it->second != m.machine)
    fail("server " + to_string(m.id) + ": state machine after index "
         + to_string(e.index) + " differs from another server's");
}

void cluster::apply_snapshot(member& m, const apply_msg& a) {
  auto who = "server " + to_string(m.id) + ": snapshot "
             + to_string(log_id{a.snapshot_term, a.snapshot_index});
  // §7 / apply_msg: a snapshot never moves the state machine backwards.
  if (a.snapshot_index <= m.applied && m.applied != index_t{})
    fail(who + " applied after index " + to_string(m.applied));
  if (!a.snapshot_valid || a.command_valid)
    fail(who + " is not a snapshot apply_msg");
  if (m.disk.base.index < a.snapshot_index)
    fail(who + " reaches the state machine before it is durable (stored "
         "base " + to_string(m.disk.base) + ")");
  index_t i;
  std::uint64_t machine = 0;
  if (!decode_snapshot(a.snapshot, i, machine) || i != a.snapshot_index) {
    fail(who + " carries foreign bytes "" + printable(a.snapshot) + """);
    return;
  }
  auto [it, added] = machine_at_.emplace(i, machine);
  if (!added && it->second != machine)
    fail(who + " holds a state machine that differs from another server's "
         "at that index");
  m.applied = i;
  m.machine = machine;
  if (i != m.restored_from)
    ++stats_.snapshots_installed;
  m.restored_from = index_t{};
  mix(i.value * 13 + 5);
}

void cluster::maybe_snapshot(member& m) {
  if (opts_.snapshot_every == 0 || !m.node)
    return;
  auto& n = *m.node;
  if (m.applied != n.applied_index()
      || distance(n.log().base().index, m.applied) < opts_.snapshot_every)
    return;
  auto data = encode_snapshot(m.applied, m.machine,
                              static_cast<std::size_t>(
                                rng_.below(opts_.snapshot_padding + 1)));
  bool taken = false;
  auto i = m.applied;
  with_node(m, "snapshot " + to_string(i),
            [&](core::node& x) { taken = x.snapshot(i, data); });
  if (taken) {
    ++stats_.snapshots_taken;
    if (opts_.trace)
      trace("server " + to_string(m.id) + " took a snapshot through "
            + to_string(i));
  }
}

void cluster::check_durable(const member& m, const envelope& env) {
  // Figure 2: "Updated on stable storage before responding to RPCs";
  // docs/architecture.md §4.1: a candidate asks for votes only once its vote
  // is durable.
  const auto& hard = m.disk.hard;
  auto who = "durability: server " + to_string(m.id) + " sent "
             + to_string(env) + " but its disk holds " + to_string(hard)
             + " and a log through " + to_string(m.disk.last());
  if (auto x = std::get_if<request_vote>(&env.msg)) {
    if (hard.current_term < x->term
        || (hard.current_term == x->term && hard.voted_for != m.id))
      fail(who);
  } else if (auto y = std::get_if<request_vote_reply>(&env.msg);
             y && y->vote_granted) {
    if (hard.current_term < y->term
        || (hard.current_term == y->term && hard.voted_for != env.to))
      fail(who);
  } else if (auto z = std::get_if<append_entries_reply>(&env.msg);
             z && z->success) {
    if (hard.current_term < z->term || z->match_index > m.disk.last().index)
      fail(who);
  } else if (auto w = std::get_if<install_snapshot_reply>(&env.msg);
             w && w->installed) {
    // Figure 13 + durability: installed only for a state held durably.
    if (hard.current_term < w->term
        || w->last_included.index > m.disk.last().index)
      fail(who);
  }
}

const log_entry* cluster::storage::at(index_t i) const {
  if (i <= base.index || i.value > base.index.value + log.size())
    return nullptr;
  return &log[i.value - base.index.value - 1];
}

log_id cluster::storage::last() const {
  return log.empty() ? base : log_id{log.back().term, log.back().index};
}

void cluster::make_durable(member& m, const persist_batch& b) {
  auto& d = m.disk;
  auto who = "server " + to_string(m.id) + ": batch " + to_string(b);
  // persist_batch: the snapshot first; the stored suffix after it stays
  // only if the log holds last_included with the same term.
  if (b.snapshot.size() > 1)
    fail(who + " carries " + std::to_string(b.snapshot.size()) + " snapshots");
  for (const auto& s : b.snapshot) {
    auto l = s.last_included;
    if (l.index <= d.base.index) {
      fail(who + " installs a snapshot at or below the stored base "
           + to_string(d.base));
      return;
    }
    const auto* held = d.at(l.index);
    if (held != nullptr && held->term == l.term)
      d.log.erase(d.log.begin(),
                  d.log.begin()
                    + static_cast<std::ptrdiff_t>(l.index.value
                                                  - d.base.index.value));
    else
      d.log.clear();
    d.base = l;
    d.snapshot = s.data;
  }
  if (b.truncate_from != index_t{}) {
    if (b.truncate_from <= d.base.index
        || b.truncate_from > d.last().index.next()) {
      fail(who + " truncates outside the stored log (base "
           + to_string(d.base) + ", last " + to_string(d.last()) + ")");
      return;
    }
    d.log.resize(b.truncate_from.value - d.base.index.value - 1);
  }
  for (const auto& e : b.entries) {
    if (e.index != d.last().index.next()) {
      fail(who + " does not follow the stored log ending at "
           + to_string(d.last()));
      return;
    }
    d.log.push_back(e);
  }
  d.hard = b.hard_state;
  auto last = d.last();
  if (last != b.last)
    fail(who + " says it ends at " + to_string(b.last) + " but the log ends at "
         + to_string(last));
}

// -- cluster: faults and clients ----------------------------------------------

void cluster::crash(server_id id) {
  auto& m = at(id);
  if (!m.node)
    return;
  auto& d = m.disk;
  // Usually a crash keeps exactly the acknowledged writes. Sometimes queued
  // writes reached the disk and only their acknowledgement was lost: then a
  // random prefix of them survives too (Raft must tolerate both).
  std::size_t survive = 0;
  if (!d.pending.empty() && rng_.per_mille(opts_.keep_unacked_per_mille))
    survive = 1 + rng_.below(d.pending.size());
  for (std::size_t k = 0; k < survive; ++k)
    make_durable(m, d.pending[k]);
  stats_.lost_writes += d.pending.size() - survive;
  d.pending.clear();
  m.reads.clear(); // the node's reads die with it
  d.staging.clear();
  d.staging_id = log_id{};
  d.last_ack_at = now_;
  m.node.reset();
  ++m.incarnation;
  ++stats_.crashes;
  mix(0xc0ffee + id.value);
  if (opts_.trace)
    trace("server " + to_string(id) + " crashed (" + std::to_string(survive)
          + " unacknowledged batches survived)");
}

void cluster::restart(server_id id) {
  auto& m = at(id);
  if (m.node)
    return;
  m.applied = index_t{};
  m.machine = 0;
  m.restored_from = m.disk.base.index;
  try {
    m.node.emplace(config_for(m),
                   raft::stored_state{m.disk.hard, m.disk.base, m.disk.log,
                                        m.disk.snapshot});
  } catch (const std::exception& e) {
    fail("server " + to_string(id) + " cannot restart: " + e.what());
    return;
  }
  for (const auto& v : core::check(*m.node))
    fail("invariant after restart: " + v);
  ++stats_.restarts;
  mix(0xbeef + id.value);
  if (opts_.trace)
    trace("server " + to_string(id) + " restarted at " + to_string(m.disk.hard)
          + " base=" + to_string(m.disk.base)
          + " log=" + std::to_string(m.disk.log.size()));
  // The restored snapshot (if any) reaches the fresh state machine now.
  if (m.node->has_output())
    with_node(m, "restart", [](core::node&) {});
  schedule(now_ + rng_.between(1, opts_.tick_ms),
           {event_kind::tick, id, m.incarnation});
}

bool cluster::is_up(server_id id) const { return at(id).node.has_value(); }

std::optional<propose_result> cluster::propose(server_id id, std::string cmd) {
  auto& m = at(id);
  if (!m.node)
    return std::nullopt;
  propose_result res;
  if (opts_.trace)
    trace("client -> server " + to_string(id) + ": propose \"" + printable(cmd)
          + "\"");
  with_node(m, "propose", [&](core::node& n) { res = n.propose(cmd); });
  if (res.is_leader)
    ++stats_.proposals_accepted;
  mix(res.index.value * 5 + (res.is_leader ? 1 : 0));
  return res;
}

std::optional<server_id> cluster::leader() const {
  std::optional<server_id> result;
  term_t best;
  for (const auto& [id, m] : members_)
    if (m.node && m.node->is_leader()
        && (!result || m.node->current_term() > best)) {
      result = id;
      best = m.node->current_term();
    }
  return result;
}

const core::node* cluster::get(server_id id) const {
  const auto& m = at(id);
  return m.node ? &*m.node : nullptr;
}

void cluster::check_log_matching() {
  std::vector<std::pair<server_id, const core::raft_log*>> logs;
  for (const auto& [id, m] : members_)
    if (m.node)
      logs.emplace_back(id, &m.node->log());
  safety_.check_log_matching(logs);
  report_safety();
}

void cluster::fail(const std::string& what) {
  auto line = "t=" + std::to_string(now_) + "ms: " + what;
  violations_.push_back(line);
  if (opts_.trace)
    trace("VIOLATION " + line);
}

std::string cluster::report() const {
  std::ostringstream os;
  os << "seed=" << opts_.seed << ", " << opts_.servers << " servers\n";
  for (const auto& v : violations_)
    os << "  " << v << "\n";
  if (opts_.trace) {
    os << "last events:\n";
    for (const auto& t : trace_)
      os << "  " << t << "\n";
  } else {
    os << "(replay this seed alone to see the last events)\n";
  }
  for (const auto& [id, m] : members_) {
    os << "  server " << id << ": ";
    if (m.node)
      os << to_string(m.node->status());
    else
      os << "down";
    os << "; disk " << to_string(m.disk.hard) << " base="
       << to_string(m.disk.base) << " log=" << m.disk.log.size()
       << " pending=" << m.disk.pending.size() << "\n";
  }
  return os.str();
}

void cluster::trace(const std::string& line) {
  trace_.push_back("t=" + std::to_string(now_) + " " + line);
  while (trace_.size() > opts_.trace_lines)
    trace_.pop_front();
}

void cluster::mix(std::uint64_t x) {
  // FNV-1a over the 8 bytes of x.
  for (int k = 0; k < 8; ++k) {
    digest_ ^= (x >> (8 * k)) & 0xff;
    digest_ *= 1099511628211ULL;
  }
}

} // namespace raft::sim
