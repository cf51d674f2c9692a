#include "tests/core/sim/sim_cluster.hpp"

#include <algorithm>
#include <exception>
#include <sstream>

#include "messages/to_string.hpp"

namespace raft::sim {

// -- safety_checker -----------------------------------------------------------

void safety_checker::on_leader(server_id id, term_t term) {
  auto [it, added] = leaders_.emplace(term, id);
  if (!added && it->second != id)
    violations_.push_back("Election Safety (§5.2): term " + to_string(term)
                          + " has two leaders: " + to_string(it->second)
                          + " and " + to_string(id));
}

void safety_checker::on_committed(server_id id, term_t observer_term,
                                  const log_entry& e) {
  auto it = committed_.find(e.index);
  if (it == committed_.end()) {
    committed_.emplace(e.index, known{e, observer_term, id});
    return;
  }
  auto& k = it->second;
  if (k.entry != e) {
    violations_.push_back(
      "State Machine Safety (§5.4.3): index " + to_string(e.index)
      + " is committed as " + to_string(k.entry) + " (server "
      + to_string(k.first_by) + " in term " + to_string(k.known_in)
      + ") and as " + to_string(e) + " (server " + to_string(id)
      + " in term " + to_string(observer_term) + ")");
    return;
  }
  k.known_in = std::min(k.known_in, observer_term);
}

void safety_checker::on_elected(server_id id, term_t term,
                                const core::log_view& log) {
  for (const auto& [i, k] : committed_) {
    if (!(k.known_in < term))
      continue;
    bool held = i >= log.first_index() && i <= log.last_index()
                && log.at(i) == k.entry;
    if (!held) {
      violations_.push_back(
        "Leader Completeness (§5.4): server " + to_string(id)
        + " became leader of term " + to_string(term)
        + " without the entry " + to_string(k.entry)
        + " known committed in term " + to_string(k.known_in)
        + " (its log ends at " + to_string(log.last()) + ")");
      return;
    }
  }
}

void safety_checker::check_log_matching(
  const std::vector<std::pair<server_id, const core::log_view*>>& logs) {
  for (std::size_t x = 0; x < logs.size(); ++x) {
    for (std::size_t y = x + 1; y < logs.size(); ++y) {
      const auto& a = *logs[x].second;
      const auto& b = *logs[y].second;
      auto lo = std::max(a.first_index(), b.first_index());
      auto hi = std::min(a.last_index(), b.last_index());
      // The highest index where both logs hold the same term ...
      auto i = hi;
      bool found = false;
      for (; i >= lo && i.value > 0; i = i.prev()) {
        if (a.term_at(i) == b.term_at(i)) {
          found = true;
          break;
        }
      }
      if (!found)
        continue;
      // ... and everything up to it must be identical.
      for (auto j = lo; j <= i; j = j.next()) {
        if (a.at(j) != b.at(j)) {
          violations_.push_back(
            "Log Matching (§5.3): servers " + to_string(logs[x].first)
            + " and " + to_string(logs[y].first) + " both hold term "
            + to_string(*a.term_at(i)) + " at index " + to_string(i)
            + " but differ at index " + to_string(j) + ": "
            + to_string(a.at(j)) + " vs " + to_string(b.at(j)));
          return;
        }
      }
    }
  }
}

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
    m.node.emplace(config_for(m), core::restored_state{});
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
  auto before = core::snapshot_of(*m.node);
  ++stats_.inputs;
  try {
    input(*m.node);
    drain(m, before);
  } catch (const std::exception& e) {
    fail("server " + to_string(m.id) + " threw on " + what + ": " + e.what());
    return;
  }
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

void cluster::drain(member& m, const core::node_snapshot& before) {
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
  // Everything up to the commit index is committed (as this node sees it).
  for (auto i = before.commit_index.next(); i <= n.commit_index(); i = i.next())
    safety_.on_committed(n.id(), n.current_term(), n.log().at(i));
  if (out.persist) {
    if (out.persist->truncate_from != index_t{})
      ++stats_.truncations;
    mix(out.persist->last.index.value * 3 + out.persist->last.term.value);
    m.disk.pending.push_back(*out.persist);
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
    net_.send(env, now_);
  }
  for (const auto& e : out.committed) {
    if (e.index != m.applied.next())
      fail(who + "applies " + to_string(e) + " after " + to_string(m.applied)
           + " (must be contiguous)");
    m.applied = e.index;
    if (e.index.value > m.disk.log.size() || m.disk.log[e.index.value - 1] != e)
      fail(who + "applies " + to_string(e)
           + " which its persister does not hold");
    safety_.on_committed(m.id, n.current_term(), e);
    mix(e.index.value * 17 + e.term.value);
  }
}

void cluster::check_durable(const member& m, const envelope& env) {
  // Figure 2: "Updated on stable storage before responding to RPCs";
  // DESIGN.md §2: a candidate asks for votes only once its vote is durable.
  const auto& hard = m.disk.hard;
  auto who = "durability: server " + to_string(m.id) + " sent "
             + to_string(env) + " but its disk holds " + to_string(hard)
             + " and " + std::to_string(m.disk.log.size()) + " entries";
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
    if (hard.current_term < z->term
        || z->match_index.value > m.disk.log.size())
      fail(who);
  }
}

void cluster::make_durable(member& m, const persist_batch& b) {
  auto& d = m.disk;
  auto who = "server " + to_string(m.id) + ": batch " + to_string(b);
  if (b.truncate_from != index_t{}) {
    if (b.truncate_from.value > d.log.size() + 1) {
      fail(who + " truncates beyond the stored log of "
           + std::to_string(d.log.size()) + " entries");
      return;
    }
    d.log.resize(b.truncate_from.value - 1);
  }
  for (const auto& e : b.entries) {
    if (e.index.value != d.log.size() + 1) {
      fail(who + " does not follow the stored log of "
           + std::to_string(d.log.size()) + " entries");
      return;
    }
    d.log.push_back(e);
  }
  d.hard = b.hard_state;
  auto last = d.log.empty() ? log_id{}
                            : log_id{d.log.back().term, d.log.back().index};
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
  try {
    m.node.emplace(config_for(m),
                   core::restored_state{m.disk.hard, {}, m.disk.log});
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
          + " log=" + std::to_string(m.disk.log.size()));
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
  std::vector<std::pair<server_id, const core::log_view*>> logs;
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
    os << "; disk " << to_string(m.disk.hard) << " log="
       << m.disk.log.size() << " pending=" << m.disk.pending.size() << "\n";
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

// -- scenarios ----------------------------------------------------------------

namespace {

network_options reliable(bool reorder = false) {
  network_options o;
  o.min_delay = 1;
  o.max_delay = 10;
  if (reorder) {
    o.long_delay_per_mille = 30;
    o.long_delay_max = 150;
  }
  return o;
}

network_options lossy() {
  network_options o;
  o.min_delay = 1;
  o.max_delay = 27;          // labrpc's short delay
  o.drop_per_mille = 100;    // labrpc's unreliable mode drops 10 %
  o.duplicate_per_mille = 20;
  o.long_delay_per_mille = 50;
  o.long_delay_max = 300;
  return o;
}

} // namespace

scenario_result run_scenario(const scenario& sc, std::uint64_t seed,
                             bool trace) {
  rng r(seed * 0x94d049bb133111ebULL + 3);
  cluster_options o;
  o.servers = sc.servers;
  o.seed = seed;
  o.trace = trace;
  // 100..200 ms election timeouts, 30 ms heartbeats at a 10 ms tick.
  o.node.election_ticks = 10;
  o.node.heartbeat_ticks = 3;
  o.node.max_entries_per_append = static_cast<std::size_t>(r.between(1, 8));
  o.node.max_inflight_appends = static_cast<std::size_t>(r.between(1, 6));
  o.node.noop_on_election = r.per_mille(500);
  o.max_persist_delay = r.between(0, sc.max_persist_delay);
  bool reorder = r.per_mille(sc.reorder_per_mille);
  cluster c{o};
  c.net().options = reliable(reorder);
  const auto& ids = c.ids();
  auto pick = [&](const std::vector<server_id>& xs) {
    return xs[r.below(xs.size())];
  };
  std::uint64_t k = 0;
  while (c.ok() && c.now() < sc.duration_ms) {
    c.run_for(r.between(sc.min_gap, sc.max_gap));
    if (!c.ok())
      break;
    // A client: mostly at the leader, sometimes anywhere.
    auto target = pick(ids);
    if (auto l = c.leader(); l && r.per_mille(700))
      target = *l;
    auto res = c.propose(target, "s" + std::to_string(seed) + "."
                                   + std::to_string(k++));
    if (res && res->is_leader && sc.crashes
        && r.per_mille(sc.crash_after_propose_per_mille)) {
      c.run_for(r.between(0, sc.max_persist_delay));
      c.crash(target);
      continue;
    }
    if (!r.per_mille(sc.fault_per_mille))
      continue;
    std::vector<server_id> up, down;
    for (auto id : ids)
      (c.is_up(id) ? up : down).push_back(id);
    switch (r.below(6)) {
      case 0: // a random partition
        if (sc.partitions) {
          std::set<server_id> side;
          for (auto id : ids)
            if (r.per_mille(500))
              side.insert(id);
          c.net().heal_all();
          c.net().partition(side, ids);
        }
        break;
      case 1: // isolate one server (the leader, for leader churn)
        if (sc.partitions) {
          auto victim = pick(ids);
          if (auto l = c.leader(); l && sc.target_leader)
            victim = *l;
          c.net().isolate(victim, ids);
        }
        break;
      case 2:
        c.net().heal_all();
        break;
      case 3:
        if (sc.crashes && !up.empty()) {
          auto victim = pick(up);
          if (auto l = c.leader(); l && sc.target_leader && r.per_mille(500))
            victim = *l;
          c.crash(victim);
        }
        break;
      case 4:
        if (!down.empty())
          c.restart(pick(down));
        break;
      default:
        if (sc.unreliable)
          c.net().options = c.net().options.drop_per_mille > 0
                              ? reliable(reorder)
                              : lossy();
        break;
    }
  }
  // Heal everything; a command must then commit and reach every server.
  c.net().heal_all();
  c.net().options = reliable();
  for (auto id : ids)
    c.restart(id);
  auto final_cmd = "final." + std::to_string(seed);
  index_t final_index;
  auto deadline = c.now() + sc.recovery_ms;
  bool live = false;
  while (c.ok() && c.now() < deadline) {
    c.run_for(50);
    if (final_index != index_t{}) {
      const auto* e = c.safety().committed_at(final_index);
      bool everywhere = e != nullptr && e->data == final_cmd;
      for (auto id : ids)
        everywhere = everywhere && c.get(id)->applied_index() >= final_index;
      if (everywhere) {
        live = true;
        break;
      }
    }
    if (auto l = c.leader()) {
      const auto* n = c.get(*l);
      const auto& log = n->log();
      bool in_log = final_index != index_t{} && log.last_index() >= final_index
                    && log.at(final_index).data == final_cmd;
      if (!in_log) {
        if (auto res = c.propose(*l, final_cmd); res && res->is_leader)
          final_index = res->index;
      } else if (log.last_term() < n->current_term()) {
        // §5.4.2: a leader commits entries of earlier terms only through one
        // of its own; without no-op entries a client must supply it (like
        // 6.5840's one(), which keeps submitting).
        c.propose(*l, "nudge." + std::to_string(seed));
      }
    }
  }
  if (c.ok() && !live) {
    std::string terms;
    for (auto id : ids)
      terms += " " + to_string(c.get(id)->status()) + ";";
    c.fail("liveness: " + std::to_string(sc.recovery_ms)
           + " ms after healing every fault, command \"" + final_cmd
           + "\" is not applied on every server:" + terms);
  }
  if (c.ok())
    c.check_log_matching();
  scenario_result result;
  result.ok = c.ok();
  result.report = std::string{"scenario \""} + sc.name + "\" " + c.report();
  result.stats = c.stats();
  result.net = c.net().stats();
  result.digest = c.digest();
  result.committed = c.safety().last_committed();
  return result;
}

} // namespace raft::sim
