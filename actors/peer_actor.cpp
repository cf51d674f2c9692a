#include "actors/peer_actor.hpp"

#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>

#include "actors/core/invariants.hpp"
#include "messages/node_messages.hpp"
#include "messages/raft_messages.hpp"
#include "messages/rpc_handlers.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"

namespace raft::actors {

namespace {

std::string prefix(const peer_state& st) {
  return "peer " + to_string(st.cfg.raft.id);
}

/// Stops the peer loudly: one line on stderr, then quit with an error.
void fail(peer_actor_type* self, const std::string& what) {
  std::cerr << (prefix(self->state) + ": fatal: " + what + "\n");
  self->quit(caf::make_error(caf::sec::runtime_error, what));
}

/// Publishes a state change: peer_status to the observer, and one greppable
/// line on stderr when RAFT_LOG is set.
void publish_status(peer_actor_type* self) {
  auto& st = self->state;
  auto s = st.node->status();
  if (st.cfg.observer)
    self->send(st.cfg.observer, s);
  if (st.log_enabled) {
    std::string line = prefix(st);
    line += s.role != st.last_role ? " became " : " state ";
    line += to_string(s.role);
    line += " term=" + to_string(s.term);
    line += " leader=" + to_string(s.leader);
    line += " voted_for=" + to_string(s.voted_for);
    line += '\n';
    std::cerr << line;
  }
  st.last_role = s.role;
}

/// Carries out the core's output, in the order of core::output.
void drain(peer_actor_type* self) {
  auto& st = self->state;
  auto out = st.node->take_output();
  // 0. Received snapshot chunks go to the persister's staging area, before
  //    the batch that may install them.
  for (auto& c : out.snapshot_chunks)
    self->send(st.cfg.persister, std::move(c));
  // 1. Durable state first: the persister answers (persisted) when done.
  if (out.persist)
    self->send(st.cfg.persister, std::move(*out.persist));
  // 2. Messages that may leave now (held replies were released by the core
  //    only once on_persisted covered them).
  if (st.cfg.transport)
    for (auto& env : out.messages)
      send_envelope(self, st.cfg.transport, std::move(env));
  // 3a. A snapshot for the state machine, before any later entry.
  if (out.apply_snapshot && st.cfg.state_machine)
    self->send(st.cfg.state_machine, apply_atom::value,
               std::move(*out.apply_snapshot));
  // 3b. Committed entries, in index order.
  if (!out.committed.empty() && st.cfg.state_machine)
    self->send(st.cfg.state_machine, apply_atom::value,
               std::move(out.committed));
  // 4. Reads (thesis §6.4), after the entries through their index (3b).
  if (st.cfg.state_machine) {
    for (const auto& r : out.reads_ready)
      self->send(st.cfg.state_machine, read_index_atom::value, r.request_id,
                 r.index, true, st.cfg.raft.id);
    for (const auto& r : out.reads_failed)
      self->send(st.cfg.state_machine, read_index_atom::value, r.request_id,
                 index_t{}, false, r.leader_hint);
  }
  // 5. Role, term, leader or vote changed.
  if (out.state_changed)
    publish_status(self);
}

/// Feeds one input to the core (`f(node)`), then drains its output. An
/// exception from the core is a broken contract: the peer stops loudly.
/// Returns false if the peer is stopping.
template <class F>
bool input(peer_actor_type* self, F&& f) {
  try {
    auto& n = *self->state.node;
    if (!self->state.cfg.check_invariants) {
      f(n);
      drain(self);
      return true;
    }
    auto before = core::observe(n);
    f(n);
    drain(self);
    // Every input gets the cheap checks; every 1024th the whole log and
    // the snapshot's CRC too (invariants.hpp, check_scope).
    auto scope = ++self->state.inputs_checked % 1024 == 0
                   ? core::check_scope::full
                   : core::check_scope::recent;
    auto violations = core::check(n, scope);
    for (auto& v : core::check_transition(before, n))
      violations.push_back(std::move(v));
    if (!violations.empty()) {
      std::string what = "broken invariants:";
      for (const auto& v : violations)
        what += "\n  " + v;
      throw std::logic_error(what);
    }
    return true;
  } catch (const std::exception& e) {
    fail(self, e.what());
    return false;
  }
}

/// A Raft message from the transport: (from, to, msg). Dropped when `to`
/// is not this peer.
template <class Message>
void on_rpc(peer_actor_type* self, server_id from, server_id to,
            Message& msg) {
  if (to != self->state.cfg.raft.id)
    return;
  input(self, [&](core::node& n) {
    n.step(from, rpc_message{std::move(msg)});
  });
}

/// The loaded state arrived: build the core (loading -> running).
void start(peer_actor_type* self, hard_state& hard, log_id& base,
           std::string& snapshot, log_entries& entries) {
  auto& st = self->state;
  try {
    st.node.emplace(st.cfg.raft,
                    raft::stored_state{hard, base, std::move(entries),
                                         std::move(snapshot)});
  } catch (const std::exception& e) {
    fail(self, std::string{"cannot start from the loaded state: "}
                 + e.what());
    return;
  }
  if (st.log_enabled)
    std::cerr << (prefix(st) + " loaded term="
                  + to_string(st.node->current_term()) + " voted_for="
                  + to_string(st.node->voted_for())
                  + " last=" + to_string(st.node->log().last()) + "\n");
  if (st.node->has_output())
    drain(self);
}

} // namespace

caf::behavior peer_actor(peer_actor_type* self, peer_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.log_enabled = std::getenv("RAFT_LOG") != nullptr;
  if (!st.cfg.persister) {
    fail(self, "spawned without a persister");
    return {};
  }
  // A node without its persister (or state machine) cannot keep its
  // promises: stop with it. Killing (stop_node) is quiet.
  self->monitor(st.cfg.persister);
  if (st.cfg.state_machine)
    self->monitor(st.cfg.state_machine);
  self->set_down_handler([self](caf::down_msg& dm) {
    const auto& c = self->state.cfg;
    const char* who = nullptr;
    if (dm.source == c.persister.address())
      who = "persister";
    else if (c.state_machine && dm.source == c.state_machine.address())
      who = "state machine";
    if (who == nullptr)
      return;
    if (dm.reason == caf::exit_reason::kill) {
      self->quit(dm.reason);
      return;
    }
    fail(self, std::string{who} + " is down: "
                 + self->system().render(dm.reason));
  });
  // -- loading ---------------------------------------------------------------
  // `await` keeps every other message in the mailbox until the state is
  // loaded; they are handled afterwards, in arrival order.
  self->request(st.cfg.persister, caf::infinite, load_atom::value)
    .await(
      [self](hard_state& hard, log_id& base, std::string& snapshot,
             log_entries& entries) {
        start(self, hard, base, snapshot, entries);
      },
      [self](caf::error& err) {
        // The persister was already gone: it reported its own failure (or
        // was killed on purpose); just stop.
        if (err == caf::sec::request_receiver_down) {
          self->quit(err);
          return;
        }
        fail(self, "loading the durable state failed: "
                     + self->system().render(err));
      });
  // -- running ---------------------------------------------------------------
  auto on_message = [self](server_id from, server_id to, auto& msg) {
    on_rpc(self, from, to, msg);
  };
  return rpc_handlers(on_message).or_else(
    [self](tick_atom) { input(self, [](core::node& n) { n.tick(); }); },
    [self](snapshot_atom, index_t index, std::string& data) {
      // The service's snapshot (6.5840 Snapshot): the core ignores one that
      // is not newer than its base or ahead of what was applied.
      input(self, [&](core::node& n) { n.snapshot(index, std::move(data)); });
    },
    [self](snapshot_read_back& s) {
      // A received snapshot is durable: its bytes, before its (persisted).
      input(self, [&](core::node& n) {
        n.on_snapshot_read_back(s.last_included, std::move(s.data));
      });
    },
    [self](const persisted& p) {
      input(self, [&](core::node& n) { n.on_persisted(p.term, p.index); });
    },
    [self](propose_atom, std::string& cmd) -> caf::result<propose_result> {
      propose_result r;
      if (!input(self,
                 [&](core::node& n) { r = n.propose(std::move(cmd)); }))
        return caf::make_error(caf::sec::runtime_error, "peer stopping");
      return r;
    },
    [self](read_index_atom, std::uint64_t request_id) {
      // A linearizable read (thesis §6.4): answered from drain().
      input(self, [&](core::node& n) { n.read_index(request_id); });
    },
    [self](caf::get_atom, status_atom) { return self->state.node->status(); });
}

} // namespace raft::actors
