// The cluster-wide safety properties of Figure 3 (sim_cluster.hpp).
#include "tests/core/sim/sim_cluster.hpp"

#include <algorithm>

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
                                const core::raft_log& log) {
  for (const auto& [i, k] : committed_) {
    if (!(k.known_in < term))
      continue;
    // Entries in the snapshot are covered by it (its state machine digest
    // is checked where it is applied).
    bool held = i <= log.base().index
                || (i <= log.last_index() && log.at(i) == k.entry);
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
  const std::vector<std::pair<server_id, const core::raft_log*>>& logs) {
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

} // namespace raft::sim
