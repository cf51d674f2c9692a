#include "actors/state_machine_actor.hpp"

#include <exception>
#include <iostream>
#include <string>
#include <utility>

#include "messages/log_entry.hpp"
#include "messages/node_messages.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"

namespace raft::actors {

namespace {

client_reply error_reply(errc code, server_id hint = no_server) {
  client_reply r;
  r.error = code;
  r.leader_hint = hint;
  return r;
}

/// Stops the actor loudly: one line on stderr, quit with an error.
void fail(state_machine_actor_type* self, const std::string& what) {
  std::cerr << ("state machine: fatal: " + what + "\n");
  self->quit(caf::make_error(caf::sec::runtime_error,
                             "state machine: " + what));
}

/// The peer answered a proposal: answer now, or wait for the apply.
void on_proposed(state_machine_actor_type* self,
                 caf::typed_response_promise<client_reply> rp,
                 const propose_result& r) {
  auto& st = self->state;
  if (!r.is_leader) {
    rp.deliver(error_reply(errc::not_leader, r.leader_hint));
    return;
  }
  if (r.index <= st.last_applied) {
    // The apply overtook the propose reply: the outcome is not known here.
    rp.deliver(error_reply(errc::timeout));
    return;
  }
  using waiting_client = state_machine_state::waiting_client;
  auto [it, inserted] = st.waiting.try_emplace(r.index,
                                               waiting_client{r.term, rp});
  if (!inserted) {
    // The index was handed out again, in a later term: the earlier entry at
    // it cannot commit any more (this peer's log no longer holds it).
    it->second.promise.deliver(error_reply(errc::dropped_entry));
    it->second = waiting_client{r.term, std::move(rp)};
  }
}

/// Answers the client waiting at `e.index`, if any.
void answer(state_machine_actor_type* self, const log_entry& e,
            std::string& result) {
  auto& st = self->state;
  auto it = st.waiting.find(e.index);
  if (it == st.waiting.end())
    return;
  if (e.kind == entry_kind::command && e.term == it->second.term) {
    client_reply r;
    r.index = e.index;
    r.term = e.term;
    r.result = std::move(result);
    it->second.promise.deliver(std::move(r));
  } else {
    it->second.promise.deliver(error_reply(errc::dropped_entry));
  }
  st.waiting.erase(it);
}

/// Applies committed entries in order; stops loudly on a gap.
void apply(state_machine_actor_type* self, log_entries& entries) {
  auto& st = self->state;
  for (auto& e : entries) {
    if (e.index != st.last_applied.next()) {
      fail(self, "entry " + to_string(e.index) + " applied after "
                   + to_string(st.last_applied)
                   + " (entries must be contiguous)");
      return;
    }
    std::string result;
    switch (e.kind) {
      case entry_kind::command: {
        apply_msg m;
        m.command_valid = true;
        m.command = std::move(e.data);
        m.command_index = e.index;
        m.command_term = e.term;
        try {
          result = st.machine->apply(m);
        } catch (const std::exception& ex) {
          fail(self, "the machine threw at index " + to_string(e.index)
                       + ": " + ex.what());
          return;
        }
        ++st.commands_applied;
        break;
      }
      case entry_kind::noop:
        // Not passed to the machine (see the header).
        break;
    }
    st.last_applied = e.index;
    answer(self, e, result);
  }
}

/// Asks the machine for a snapshot at the applied index; hands it to the
/// peer (asynchronously: the peer never waits on this actor, so no cycle).
void offer_snapshot(state_machine_actor_type* self) {
  auto& st = self->state;
  if (!st.machine || !st.peer)
    return;
  std::optional<std::string> bytes;
  try {
    bytes = st.machine->take_snapshot(st.last_applied);
  } catch (const std::exception& ex) {
    fail(self, "the machine threw in take_snapshot at index "
                 + to_string(st.last_applied) + ": " + ex.what());
    return;
  }
  if (bytes)
    self->send(st.peer, snapshot_atom::value, st.last_applied,
               std::move(*bytes));
}

/// Replaces the machine's state with a snapshot (from the leader, or the
/// one this node restarted from). Never moves the applied index backwards.
void install_snapshot(state_machine_actor_type* self, apply_msg& m) {
  auto& st = self->state;
  if (!m.snapshot_valid || m.snapshot_index <= st.last_applied)
    return; // the core never sends one; ignore rather than go backwards
  try {
    st.machine->apply(m);
  } catch (const std::exception& ex) {
    fail(self, "the machine threw installing the snapshot at index "
                 + to_string(m.snapshot_index) + ": " + ex.what());
    return;
  }
  // Clients waiting at an index the snapshot covers cannot learn their
  // command's outcome here: it may be in the snapshot or may have been
  // overwritten. Same contract as a timeout: may or may not be applied.
  auto end = st.waiting.upper_bound(m.snapshot_index);
  for (auto it = st.waiting.begin(); it != end; ++it)
    it->second.promise.deliver(error_reply(errc::timeout));
  st.waiting.erase(st.waiting.begin(), end);
  st.last_applied = m.snapshot_index;
}

/// The peer's answer to a ReadIndex request (peer_actor.hpp, "Reads").
void answer_read(state_machine_actor_type* self, std::uint64_t id,
                 index_t index, bool ok, server_id hint) {
  auto& st = self->state;
  auto it = st.reads.find(id);
  if (it == st.reads.end())
    return;
  auto rp = it->second.promise;
  auto cmd = std::move(it->second.command);
  st.reads.erase(it);
  if (!ok) {
    // Not the leader (retry at the hint), or a leader that could not
    // confirm it in time (then the hint names this node; a client that is
    // already here moves on). A read is safe to retry anywhere.
    rp.deliver(error_reply(errc::not_leader, hint));
    return;
  }
  if (st.last_applied < index) {
    // The peer sends every entry through `index` before the answer (CAF
    // keeps the order between two actors): a broken contract.
    fail(self, "read " + std::to_string(id) + " confirmed at index "
                 + to_string(index) + " but only "
                 + to_string(st.last_applied) + " applied");
    return;
  }
  client_reply r;
  r.index = st.last_applied;
  try {
    r.result = st.machine->query(cmd);
  } catch (const std::exception& ex) {
    fail(self, std::string{"the machine threw in query: "} + ex.what());
    return;
  }
  ++st.reads_answered;
  rp.deliver(std::move(r));
}

} // namespace

state_machine_state::~state_machine_state() {
  for (auto& kvp : waiting)
    kvp.second.promise.deliver(error_reply(errc::shutting_down));
  for (auto& kvp : reads)
    kvp.second.promise.deliver(error_reply(errc::shutting_down));
}

caf::behavior state_machine_actor(state_machine_actor_type* self,
                                  state_machine_factory make,
                                  caf::actor peer) {
  auto& st = self->state;
  st.peer = std::move(peer);
  try {
    if (make)
      st.machine = make();
  } catch (const std::exception& e) {
    fail(self, std::string{"make_state_machine threw: "} + e.what());
    return {};
  }
  if (!st.machine) {
    fail(self, "no state machine (make_state_machine is empty or "
               "returned null)");
    return {};
  }
  return {
    [self](register_atom, caf::actor& p) { self->state.peer = std::move(p); },
    [self](submit_atom, std::string& cmd) -> caf::result<client_reply> {
      if (!self->state.peer)
        return error_reply(errc::not_leader);
      // Refused before it reaches the log: nothing changes anywhere.
      if (auto e = self->state.machine->validate(cmd); e != errc::none)
        return error_reply(e);
      if (self->state.machine->is_read_only(cmd)) {
        // ReadIndex: no log entry; the peer confirms leadership first.
        auto& st = self->state;
        auto id = ++st.last_read_id;
        auto rp = self->make_response_promise<client_reply>();
        st.reads.emplace(id, state_machine_state::pending_read{std::move(cmd),
                                                               rp});
        self->send(st.peer, read_index_atom::value, id);
        return rp;
      }
      auto rp = self->make_response_promise<client_reply>();
      self->request(self->state.peer, caf::infinite, propose_atom::value,
                    std::move(cmd))
        .then(
          [self, rp](const propose_result& r) { on_proposed(self, rp, r); },
          [rp](caf::error&) mutable {
            rp.deliver(error_reply(errc::shutting_down));
          });
      return rp;
    },
    [self](apply_atom, log_entries& entries) {
      apply(self, entries);
      offer_snapshot(self);
    },
    [self](apply_atom, apply_msg& snapshot) {
      install_snapshot(self, snapshot);
    },
    [self](read_index_atom, std::uint64_t id, index_t index, bool ok,
           server_id hint) { answer_read(self, id, index, ok, hint); },
    [self](caf::get_atom, status_atom) { return self->state.last_applied; },
  };
}

} // namespace raft::actors
