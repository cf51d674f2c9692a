// Randomized, seeded scenarios over sim::cluster (sim_cluster.hpp).
#include "tests/core/sim/sim_cluster.hpp"

#include <set>
#include <string>
#include <vector>

#include "messages/to_string.hpp"

namespace raft::sim {

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
  if (sc.snapshot_every > 0) {
    o.snapshot_every = static_cast<std::uint64_t>(
      r.between(1, static_cast<std::int64_t>(sc.snapshot_every)));
    o.node.snapshot_chunk_bytes = static_cast<std::size_t>(
      r.between(1, static_cast<std::int64_t>(sc.max_chunk)));
    o.snapshot_padding = sc.max_padding;
  }
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
    if (sc.read_per_mille > 0 && r.per_mille(sc.read_per_mille))
      c.read(target);
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
      bool in_log = false;
      if (final_index == index_t{}) {
        // not proposed yet
      } else if (final_index <= log.base().index) {
        // Compacted into the leader's snapshot: committed, if it was ours.
        const auto* e = c.safety().committed_at(final_index);
        in_log = e != nullptr && e->data == final_cmd;
      } else {
        in_log = log.last_index() >= final_index
                 && log.at(final_index).data == final_cmd;
      }
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
  if (c.ok() && sc.read_per_mille > 0) {
    // Every read ends: confirmed, failed on a deposed leader, or failed
    // after read_timeout_ticks.
    c.run_for(o.node.read_timeout_ticks * o.tick_ms);
    c.check_reads_ended();
  }
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
