// sim::cluster, the linearizable reads (ReadIndex, thesis §6.4): issuing
// them and checking how they end (sim_cluster.hpp).
#include "tests/core/sim/sim_cluster.hpp"

#include <string>

#include "messages/to_string.hpp"

namespace raft::sim {

std::optional<std::uint64_t> cluster::read(server_id id) {
  auto& m = at(id);
  if (!m.node)
    return std::nullopt;
  auto rid = ++next_read_;
  ++stats_.reads_issued;
  m.reads.emplace(rid, safety_.last_committed());
  if (opts_.trace)
    trace("client -> server " + to_string(id) + ": read "
          + std::to_string(rid));
  with_node(m, "read_index", [&](core::node& n) { n.read_index(rid); });
  return rid;
}

void cluster::check_reads_ended() {
  for (const auto& [id, m] : members_)
    if (m.node)
      for (const auto& [rid, bar] : m.reads)
        fail("liveness: read " + std::to_string(rid) + " on server "
             + to_string(id) + " never ended (" + to_string(m.node->status())
             + ")");
}

void cluster::end_reads(member& m, const core::output& out) {
  auto who = "server " + to_string(m.id) + ": ";
  // The state machine takes this output's entries first (core::output): a
  // ready read may answer from any index up to the last of them.
  auto applied = out.committed.empty() ? m.applied
                                       : out.committed.back().index;
  for (const auto& r : out.reads_ready) {
    ++stats_.reads_ready;
    mix(r.request_id * 29 + r.index.value);
    auto it = m.reads.find(r.request_id);
    if (it == m.reads.end()) {
      fail(who + core::to_string(r) + ": never issued or already ended");
      continue;
    }
    // Thesis §6.4: the read observes every write committed before it.
    if (r.index < it->second)
      fail("linearizability: " + who + core::to_string(r)
           + " misses index " + to_string(it->second)
           + ", known committed when the read was issued");
    if (r.index > applied)
      fail(who + core::to_string(r) + " before its state machine applied "
           "it (applied " + to_string(applied) + ")");
    m.reads.erase(it);
  }
  for (const auto& r : out.reads_failed) {
    ++stats_.reads_failed;
    mix(r.request_id * 31 + static_cast<std::uint64_t>(r.reason));
    if (m.reads.erase(r.request_id) == 0)
      fail(who + core::to_string(r) + ": never issued or already ended");
  }
}

} // namespace raft::sim
