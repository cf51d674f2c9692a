// raft::testing::network_actor -- the simulated network of a test cluster:
// the `transport` of every node, with the semantics of the 6.5840 labrpc
// network as config.go uses it (docs/architecture.md §8.5, §8.6).
//
// What it carries: the one-way Raft messages of our peers, as triples
// (server_id from, server_id to, <message>), every alternative of
// rpc_message (handlers from messages/rpc_handlers.hpp). request_vote,
// append_entries and install_snapshot are *requests* (labrpc's Call); their
// replies are *replies*.
//
// Server slots. Server slot i (0-based) is raft server_id i + 1. Each slot
// holds the CURRENT peer actor of that server (replaced at restart, cleared
// at crash) and an incarnation number:
// - a message whose CAF sender is not the current peer actor of `from` is
//   dropped: a crashed instance can never reach the network again (labrpc:
//   its endpoints are disabled and replaced, its server object deleted);
// - the destination is resolved at delivery time: a message addressed to a
//   server that crashed or restarted since the message was sent is dropped
//   (labrpc: "dead server" check), and whether the link is enabled is
//   re-checked at delivery.
//
// Links. The link i -> j is enabled iff both i and j are connected
// (config.go connect/disconnect enable and disable every endpoint into and
// out of a server; a restarted server starts disconnected).
//
// Faults, as labrpc draws them:
// - unreliable: each request waits 0-26 ms, then is dropped with
//   probability 10 %; each reply is dropped with probability 10 %;
// - long reordering (off by default, as in config.go): a reply that is not
//   dropped is delayed with probability 600/900 by
//   200 + U[0, U[0, 1999]] ms (200-2199 ms, skewed towards the short end).
// labrpc's "long delays" (a failed Call returns only after 0-6999 ms) only
// slow down a *blocking caller*. Our RPCs are one-way messages and nobody
// blocks on them, so a message on a disabled link is simply never delivered.
// Every message crosses the network actor, so messages from one sender are
// delivered in order unless a random delay reorders them.
//
// Statistics (network_stats, shared and atomic, readable from the test
// thread without messaging), as labrpc counts them:
// - rpc_count(i): requests delivered to server i's current instance;
// - rpc_total(): every request a peer hands to the network, including
//   dropped ones, ones on disabled links and ones from crashed instances
//   (labrpc counts every Call);
// - bytes_total(): request bytes of every request sent, plus reply bytes of
//   every reply delivered.
// A message's size is its CAF binary serialization (binary_serializer), the
// same encoding a real deployment sends over caf::io.
//
// Randomness: one std::mt19937_64 seeded at spawn; under the
// test_coordinator the network is fully deterministic.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <caf/all.hpp>

namespace raft::testing {

// -- control protocol ---------------------------------------------------------

/// (net_attach_atom, int32_t server, caf::actor peer) -> ok_atom:
/// `peer` is the new current instance of `server` (after a start or restart).
/// Messages in flight to earlier instances will be dropped.
using net_attach_atom = caf::atom_constant<caf::atom("n_attach")>;

/// (net_detach_atom, int32_t server) -> ok_atom: `server` crashed; it has no
/// instance until the next attach.
using net_detach_atom = caf::atom_constant<caf::atom("n_detach")>;

/// (net_connect_atom, int32_t server, bool connected) -> ok_atom:
/// config.go connect(i) / disconnect(i).
using net_connect_atom = caf::atom_constant<caf::atom("n_connect")>;

/// (net_group_atom, int32_t server, int32_t group) -> ok_atom: kvraft's
/// partition(): a link i -> j is enabled only if i and j are in the same
/// group (and both connected). Every server starts in group 0.
using net_group_atom = caf::atom_constant<caf::atom("n_group")>;

/// (net_reliable_atom, bool reliable) -> ok_atom.
using net_reliable_atom = caf::atom_constant<caf::atom("n_reliable")>;

/// (net_reorder_atom, bool long_reordering) -> ok_atom.
using net_reorder_atom = caf::atom_constant<caf::atom("n_reorder")>;

/// Internal, sent to itself: a delayed message reaching the end of its delay,
/// (net_deliver_atom, int32_t to_slot, uint64_t incarnation, uint64_t bytes,
///  server_id from, server_id to, M) for every Raft message type M.
using net_deliver_atom = caf::atom_constant<caf::atom("n_deliver")>;

// -- statistics ---------------------------------------------------------------

/// Counters of one network. Written by the network actor only; read from
/// any thread. All counters are monotonic.
class network_stats {
public:
  explicit network_stats(int servers);

  /// Number of server slots.
  int servers() const { return servers_; }

  /// labrpc GetCount(i): requests delivered to server `server` (any of its
  /// instances). Dropped requests are not counted here.
  std::uint64_t rpc_count(int server) const;

  /// labrpc GetTotalCount(): every request sent, delivered or not.
  std::uint64_t rpc_total() const;

  /// labrpc GetTotalBytes(): bytes of every request sent plus bytes of
  /// every reply delivered.
  std::uint64_t bytes_total() const;

  /// Messages whose size could not be measured (CAF serialization failed).
  /// Must stay 0: otherwise the byte counts are wrong, and the cluster
  /// fails the test.
  std::uint64_t serialization_errors() const;

  // -- writers (the network actor) --------------------------------------------

  void on_request_sent(std::size_t bytes);
  void on_request_delivered(int server);
  void on_reply_delivered(std::size_t bytes);
  void on_serialization_error();

private:
  int servers_;
  /// Per-slot delivered-request counters, `servers_` of them.
  std::unique_ptr<std::atomic<std::uint64_t>[]> delivered_;
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> serialization_errors_{0};
};

// -- spawning -----------------------------------------------------------------

struct network_config {
  /// Number of server slots; slot i is server_id i + 1.
  int servers = 3;
  /// Seed of the network's RNG (delays and drops).
  std::uint64_t seed = 1;
  /// labrpc reliable flag (false: 0-26 ms request delay, 10 % request and
  /// 10 % reply loss).
  bool reliable = true;
  /// labrpc long reordering of replies.
  bool long_reordering = false;
  /// Where the counters go. Required.
  std::shared_ptr<network_stats> stats;
};

/// Spawns a network. Every slot starts without an instance and
/// disconnected. The network holds strong handles to the current peers: the
/// owner must kill it (anon_send_exit(net, exit_reason::kill)) when done.
caf::actor spawn_network(caf::actor_system& sys, network_config cfg);

} // namespace raft::testing
