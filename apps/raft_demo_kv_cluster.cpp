#include "apps/raft_demo_kv_cluster.hpp"

#include <chrono>
#include <mutex>
#include <thread>

#include "actors/kv/kv_state_machine.hpp"
#include "actors/transport.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"

namespace raft::demo {

using namespace std::chrono_literals;

namespace {

/// How long the demo waits for an election or for convergence.
constexpr auto patience = 10s;

} // namespace

// -- one node's KV machine, visible from main ---------------------------------

/// The KV state machine of one node incarnation, shared by its state
/// machine actor (apply, snapshots) and main (the convergence check).
struct replica {
  explicit replica(kv::kv_options o) : machine(std::move(o)) {
  }
  /// Guards everything below.
  std::mutex mtx;
  /// The store: keys, values, sessions, last applied command.
  kv::kv_state_machine machine;
  /// Snapshots this incarnation handed to Raft (its log was compacted).
  std::uint64_t snapshots_taken = 0;
};

namespace {

/// The state_machine the node runs: the replica's kv_state_machine under
/// the replica's mutex; snapshot installs go on the timeline.
class shared_machine : public actors::state_machine {
public:
  /// `own_snapshot`: the node's store holds a snapshot, so the first
  /// snapshot applied is the node's own (a restart), not the leader's.
  shared_machine(std::shared_ptr<replica> rep, int node,
                 std::shared_ptr<timeline> tl, bool own_snapshot)
    : rep_(std::move(rep)),
      node_(node),
      tl_(std::move(tl)),
      own_snapshot_(own_snapshot) {
  }

  std::string apply(const apply_msg& m) override {
    std::string result;
    std::size_t keys = 0;
    {
      std::lock_guard<std::mutex> guard{rep_->mtx};
      result = rep_->machine.apply(m);
      keys = rep_->machine.size();
    }
    if (m.snapshot_valid) {
      tl_->event("node " + std::to_string(node_)
                 + (own_snapshot_ ? " restored its own snapshot"
                                  : " installed the leader's snapshot")
                 + " through index " + to_string(m.snapshot_index) + " ("
                 + std::to_string(m.snapshot.size()) + " bytes, "
                 + std::to_string(keys) + " keys)");
      own_snapshot_ = false;
    }
    return result;
  }

  errc validate(const std::string& command) const override {
    std::lock_guard<std::mutex> guard{rep_->mtx};
    return rep_->machine.validate(command);
  }

  std::optional<std::string> take_snapshot(index_t applied) override {
    std::lock_guard<std::mutex> guard{rep_->mtx};
    auto bytes = rep_->machine.take_snapshot(applied);
    if (bytes)
      ++rep_->snapshots_taken;
    return bytes;
  }

private:
  /// The incarnation's KV machine (shared with main).
  std::shared_ptr<replica> rep_;
  /// The node's number, for the timeline.
  int node_;
  std::shared_ptr<timeline> tl_;
  /// The next snapshot applied is the node's own (see the constructor).
  bool own_snapshot_;
};

// -- a node's client endpoint -------------------------------------------------

/// Forwards (submit_atom, std::string) to the state machine actor last
/// registered with (register_atom, caf::actor); until one is registered it
/// answers not_leader without a hint. A stopped node's actor is gone, so
/// the client gets an error for its attempt and tries the next server.
caf::behavior client_endpoint(caf::event_based_actor* self) {
  auto target = std::make_shared<caf::actor>();
  return {
    [=](register_atom, caf::actor sm) { *target = std::move(sm); },
    [=](submit_atom, std::string& cmd) {
      auto rp = self->make_response_promise<client_reply>();
      if (!*target) {
        client_reply r;
        r.error = errc::not_leader;
        rp.deliver(std::move(r));
        return rp;
      }
      self->request(*target, 5s, submit_atom::value, std::move(cmd))
        .then([rp](client_reply& r) mutable { rp.deliver(std::move(r)); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
  };
}

} // namespace

// -- kv_cluster ---------------------------------------------------------------

kv_cluster::kv_cluster(caf::actor_system& sys, const demo_options& opts,
                       std::shared_ptr<timeline> tl)
  : sys_(sys), opts_(opts), tl_(std::move(tl)), self_(sys) {
  transport_ = actors::spawn_direct_transport(sys_);
  observer_ = spawn_observer(sys_, tl_);
  for (int i = 1; i <= opts_.nodes; ++i)
    members_.push_back(server_id{static_cast<std::uint32_t>(i)});
}

kv_cluster::~kv_cluster() {
  for (auto& [i, n] : nodes_) {
    if (n.running)
      actors::stop_node(n.handles);
    caf::anon_send_exit(n.endpoint, caf::exit_reason::user_shutdown);
  }
  caf::anon_send_exit(transport_, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(observer_, caf::exit_reason::user_shutdown);
}

bool kv_cluster::start(int i) {
  auto& n = nodes_[i];
  if (!n.endpoint)
    n.endpoint = sys_.spawn(client_endpoint);
  n.store = open_store(opts_.data_dir, "raft-demo-kv", i, n.store, *tl_);
  if (!n.store)
    return false;
  if (n.rep) {
    std::lock_guard<std::mutex> guard{n.rep->mtx};
    n.snapshots_before += n.rep->snapshots_taken;
  }
  n.incarnation += 1;
  kv::kv_options kvo;
  kvo.max_raft_state = opts_.max_raft_state;
  kvo.raft_state_bytes = [store = n.store] {
    return static_cast<std::uint64_t>(store->raft_state_size());
  };
  n.rep = std::make_shared<replica>(std::move(kvo));
  auto id = server_id{static_cast<std::uint32_t>(i)};
  actors::node_options o;
  o.raft.id = id;
  o.raft.members = members_;
  o.raft.rng_seed = opts_.seed
                    + static_cast<std::uint64_t>(n.incarnation) * 7919
                    + static_cast<std::uint64_t>(i);
  o.tick_interval = 10ms;
  o.store = n.store;
  o.transport = transport_;
  o.make_state_machine = [rep = n.rep, i, tl = tl_,
                          own = n.store->snapshot_size() > 0] {
    return std::make_unique<shared_machine>(rep, i, tl, own);
  };
  o.observer = observer_;
  n.handles = actors::spawn_node(sys_, std::move(o));
  n.running = true;
  caf::anon_send(transport_, register_atom::value, id, n.handles.peer);
  caf::anon_send(n.endpoint, register_atom::value, n.handles.state_machine);
  return true;
}

void kv_cluster::stop(int i) {
  actors::stop_node(nodes_[i].handles);
  nodes_[i].running = false;
}

std::vector<kv_workload::server> kv_cluster::servers() const {
  std::vector<kv_workload::server> result;
  for (auto& [i, n] : nodes_)
    result.emplace_back(server_id{static_cast<std::uint32_t>(i)},
                        n.endpoint);
  return result;
}

int kv_cluster::wait_for_leader(std::optional<int> not_this) {
  auto deadline = clock_type::now() + patience;
  while (clock_type::now() < deadline) {
    for (auto& [i, n] : nodes_) {
      if (!n.running || (not_this && i == *not_this))
        continue;
      auto s = status_of(self_, n.handles.peer);
      if (s && s->role == role::leader)
        return i;
    }
    std::this_thread::sleep_for(20ms);
  }
  return 0;
}

std::optional<peer_status> kv_cluster::status(int i) {
  return status_of(self_, nodes_[i].handles.peer);
}

bool kv_cluster::converge(const final_values& finals,
                          std::string& outcome) {
  auto deadline = clock_type::now() + patience;
  for (;;) {
    std::optional<std::map<std::string, std::string>> first;
    index_t first_index;
    bool same = true;
    for (auto& [i, n] : nodes_) {
      if (!n.running)
        continue;
      std::lock_guard<std::mutex> guard{n.rep->mtx};
      auto& st = n.rep->machine.state();
      if (!first) {
        first = st.data;
        first_index = st.last_index;
      } else if (st.data != *first || st.last_index != first_index) {
        same = false;
      }
    }
    bool match = same && first;
    for (auto& [key, v] : finals) {
      if (!match)
        break;
      auto it = first->find(key);
      match = v && it != first->end() && it->second == *v;
    }
    if (match) {
      std::size_t running = 0;
      for (auto& [i, n] : nodes_)
        running += n.running ? 1 : 0;
      outcome = "all " + std::to_string(running)
                  + " nodes hold the same " + std::to_string(first->size())
                  + " keys (last command at index " + to_string(first_index)
                  + "), equal to the final reads";
      tl_->event(outcome);
      return true;
    }
    if (clock_type::now() >= deadline) {
      outcome = same ? "the nodes agree but differ from the final reads"
                   : "MISMATCH: the nodes hold different data after 10 s";
      tl_->event(outcome);
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
}

std::pair<std::uint64_t, std::uint64_t> kv_cluster::snapshot_counts() {
  std::uint64_t taken = 0;
  std::uint64_t installed = 0;
  for (auto& [i, n] : nodes_) {
    std::lock_guard<std::mutex> guard{n.rep->mtx};
    taken += n.snapshots_before + n.rep->snapshots_taken;
    installed += n.rep->machine.snapshots_installed();
  }
  return {taken, installed};
}

} // namespace raft::demo
