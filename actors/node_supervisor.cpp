#include "actors/node_supervisor.hpp"

#include <algorithm>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "actors/core/node.hpp"
#include "actors/election_timer_actor.hpp"
#include "actors/peer_actor.hpp"
#include "actors/persister_actor.hpp"
#include "actors/state_machine_actor.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"

// Wiring of one node (who holds whose handle):
//
//   supervisor --link--> peer, timer, persister, state machine
//   timer ------------> peer                 (ticks; monitors the peer)
//   peer -------------> persister            (load, persist; monitors it)
//   peer -------------> state machine        (apply; monitors it)
//   peer -------------> transport, observer  (from node_options)
//   state machine ----> peer                 (propose; registered after
//                                             spawning: the two need each
//                                             other)
//
// Every strong handle lives in an actor's state, which CAF destroys when the
// actor exits, so no cycle survives a stop. The children are spawned first
// (spawn_node must return their handles synchronously, which a spawn inside
// the supervisor's behavior could not do under every scheduler) and the
// supervisor links itself to each of them as its first action: a child that
// dies with an error takes the whole node down, and killing the supervisor
// kills every child.

namespace raft::actors {

namespace {

struct supervisor_state {
  /// Actor name (CAF uses it in error messages).
  static inline const char* name = "raft.node_supervisor";
  /// The node's server id (for log lines). Set at spawn.
  server_id id;
  /// The linked children: peer, timer, persister, state machine. Set at
  /// spawn, never changed. Strong handles, dropped when the supervisor
  /// exits (state destruction).
  std::vector<caf::actor> children;
};

using supervisor_actor_type = caf::stateful_actor<supervisor_state>;

const char* child_name(std::size_t i) {
  static constexpr const char* names[] = {"peer", "election timer",
                                          "persister", "state machine"};
  return i < 4 ? names[i] : "child";
}

caf::behavior node_supervisor(supervisor_actor_type* self, server_id id,
                              std::vector<caf::actor> children) {
  auto& st = self->state;
  st.id = id;
  st.children = std::move(children);
  for (const auto& c : st.children)
    self->link_to(c);
  self->set_exit_handler([self](caf::exit_msg& em) {
    const auto& kids = self->state.children;
    auto it = std::find_if(kids.begin(), kids.end(), [&](const caf::actor& c) {
      return c.address() == em.source;
    });
    auto from_child = it != kids.end();
    if (!from_child && em.reason == caf::exit_reason::normal)
      return; // a normal exit message from a stranger: ignored, as usual
    if (from_child && em.reason != caf::exit_reason::kill
        && em.reason != caf::exit_reason::unreachable) {
      auto i = static_cast<std::size_t>(it - kids.begin());
      std::cerr << ("node " + to_string(self->state.id) + ": " + child_name(i)
                    + " exited (" + self->system().render(em.reason)
                    + "); stopping the node\n");
    }
    if (em.reason == caf::exit_reason::normal)
      self->quit(caf::make_error(caf::sec::runtime_error,
                                 "a node actor exited"));
    else
      self->quit(em.reason);
  });
  return {
    // (caf::get_atom) -> (peer, timer, persister, state machine)
    [self](caf::get_atom)
      -> caf::result<caf::actor, caf::actor, caf::actor, caf::actor> {
      const auto& c = self->state.children;
      return {c[0], c[1], c[2], c[3]};
    },
  };
}

} // namespace

node_handles spawn_node(caf::actor_system& sys, node_options opts) {
  if (!opts.store)
    throw std::invalid_argument("spawn_node: node_options::store is null");
  if (!opts.make_state_machine)
    throw std::invalid_argument(
      "spawn_node: node_options::make_state_machine is empty");
  if (opts.tick_interval.count() <= 0)
    throw std::invalid_argument("spawn_node: tick_interval must be > 0");
  // Validate the Raft configuration here, where the caller can see the
  // error, rather than in the peer actor (throws std::invalid_argument).
  { core::node probe{opts.raft}; }
  node_handles h;
  h.persister = sys.spawn(persister_actor, opts.store);
  h.state_machine = sys.spawn(state_machine_actor,
                              std::move(opts.make_state_machine),
                              caf::actor{});
  peer_config pc;
  pc.raft = opts.raft;
  pc.persister = h.persister;
  pc.transport = opts.transport;
  pc.state_machine = h.state_machine;
  pc.observer = opts.observer;
  pc.check_invariants = opts.check_invariants;
  h.peer = sys.spawn(peer_actor, std::move(pc));
  // First message in the state machine's mailbox: nobody else knows its
  // handle before spawn_node returns.
  caf::anon_send(h.state_machine, register_atom::value, h.peer);
  h.timer = sys.spawn(election_timer_actor, h.peer, opts.tick_interval);
  h.supervisor = sys.spawn(node_supervisor, opts.raft.id,
                           std::vector<caf::actor>{h.peer, h.timer,
                                                   h.persister,
                                                   h.state_machine});
  return h;
}

void stop_node(const node_handles& h) {
  // Killing the supervisor kills its linked children; killing them directly
  // as well makes the stop independent of whether the supervisor has
  // linked them yet (or is still alive).
  for (const auto* a : {&h.supervisor, &h.peer, &h.timer, &h.persister,
                        &h.state_machine})
    if (*a)
      caf::anon_send_exit(*a, caf::exit_reason::kill);
}

} // namespace raft::actors
