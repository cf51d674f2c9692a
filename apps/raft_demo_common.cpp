#include "apps/raft_demo_common.hpp"

#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <system_error>

#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"
#include "persistence/disk_store.hpp"
#include "persistence/memory_store.hpp"

namespace raft::demo {

// -- timeline -----------------------------------------------------------------

double timeline::since_start() const {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double timeline::first_leader_after(double t) {
  std::lock_guard<std::mutex> guard{mtx};
  for (auto& [term, at] : leader_since)
    if (at >= t)
      return at;
  return -1;
}

std::map<std::uint64_t, int> timeline::leaders_seen() {
  std::lock_guard<std::mutex> guard{mtx};
  return leaders;
}

void timeline::event(const std::string& what) {
  std::ostringstream line;
  line << "  +" << std::fixed << std::setprecision(3) << since_start() << "s  "
       << what;
  std::lock_guard<std::mutex> guard{mtx};
  lines.push_back(line.str());
  std::cout << line.str() << std::endl;
}

std::string describe_leaders(const std::map<std::uint64_t, int>& leaders) {
  std::string result;
  for (auto& [term, id] : leaders) {
    if (!result.empty())
      result += ", ";
    result += "node " + std::to_string(id) + " (term " + std::to_string(term)
              + ")";
  }
  return result;
}

caf::actor spawn_observer(caf::actor_system& sys,
                          std::shared_ptr<timeline> tl) {
  return sys.spawn([tl](caf::event_based_actor*) -> caf::behavior {
    auto last = std::make_shared<std::map<std::uint32_t, peer_status>>();
    return {
      [=](const peer_status& s) {
        auto& prev = (*last)[s.id.value];
        std::string what;
        if (s.role != prev.role || s.term != prev.term) {
          what = "node " + to_string(s.id) + " is " + to_string(s.role)
                 + " in term " + to_string(s.term);
          if (s.role == role::leader) {
            std::lock_guard<std::mutex> guard{tl->mtx};
            tl->leaders[s.term.value] = static_cast<int>(s.id.value);
            tl->leader_since[s.term.value] = tl->since_start();
          }
        }
        prev = s;
        if (!what.empty())
          tl->event(what);
      },
    };
  });
}

std::optional<peer_status> status_of(caf::scoped_actor& self,
                                     const caf::actor& peer) {
  std::optional<peer_status> result;
  self
    ->request(peer, std::chrono::seconds{1}, caf::get_atom::value,
              status_atom::value)
    .receive([&](const peer_status& s) { result = s; }, [&](caf::error&) {});
  return result;
}

// -- storage ------------------------------------------------------------------

bool make_data_dir(const std::string& dir, int nodes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "raft-demo: cannot create --data-dir " << dir << ": "
              << ec.message() << "\n";
    return false;
  }
  // The cluster's membership is not stored yet (membership changes are a
  // later issue): a directory of a cluster of another size is refused
  // rather than silently re-read with different majorities.
  int found = 0;
  bool others = false;
  for (auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto name = entry.path().filename().string();
    if (name.rfind("node-", 0) != 0)
      continue;
    ++found;
    auto id = std::atoi(name.c_str() + 5);
    others = others || id < 1 || id > nodes;
  }
  if (found > 0 && (others || found != nodes)) {
    std::cerr << "raft-demo: " << dir << " holds " << found
              << " node directories, but --nodes is " << nodes
              << "; run with the cluster size it was created with, or use"
                 " another --data-dir\n";
    return false;
  }
  return true;
}

std::shared_ptr<persistence::store>
open_store(const std::string& data_dir, const std::string& cluster_id, int i,
           std::shared_ptr<persistence::store> previous, timeline& tl) {
  if (data_dir.empty()) {
    if (previous) // a restart keeps the memory store
      return previous;
    return std::make_shared<persistence::memory_store>();
  }
  // A restarted process: the old instance's store dies first.
  if (previous)
    static_cast<persistence::disk_store&>(*previous).crash();
  previous.reset();
  persistence::disk_options d;
  d.dir = data_dir + "/node-" + std::to_string(i);
  d.cluster_id = cluster_id;
  d.node = server_id{static_cast<std::uint32_t>(i)};
  try {
    auto store = persistence::disk_store::open(d);
    auto& r = store->recovery();
    std::ostringstream what;
    what << "node " << i << " opened " << d.dir << ": ";
    if (r.created)
      what << "new data directory";
    else
      what << "log " << to_string(r.first_index) << ".."
           << to_string(r.last_index) << " in " << r.segments
           << " segment(s)";
    if (!r.snapshot_file.empty())
      what << ", snapshot " << r.snapshot_file;
    if (r.dropped_torn_tail)
      what << "; dropped a torn tail: " << r.torn_tail_detail;
    tl.event(what.str());
    return store;
  } catch (const std::exception& e) {
    std::cerr << "raft-demo: " << e.what() << "\n";
    return nullptr;
  }
}

} // namespace raft::demo
