// raft::testing::kv_network -- the simulated network between KV clients and
// KV servers (6.5840 kvraft config.go + labrpc, docs/architecture.md §8.8):
// each clerk has its own endpoint to every server, enabled or not per
// (client, server) pair (ConnectClient / partition), and the unreliable
// mode drops and delays requests and replies as labrpc does. LongDelays is
// off for kvraft: a request that cannot be delivered fails after 0-99 ms.
//
// Protocol:
//   (kvn_call_atom, int32_t client, int32_t server, std::string cmd)
//       -> client_reply: what server's state machine actor answered to
//          (submit_atom, cmd), or an error (request_timeout) when the
//          request or its reply was lost: link disabled, server crashed
//          (or restarted) meanwhile, or an unreliable drop (10 % of the
//          requests after a 0-26 ms delay, 10 % of the replies).
//   (kvn_server_atom, int32_t server, caf::actor state_machine) -> ok:
//          the server's current instance (invalid: crashed). Calls in
//          flight to an earlier instance fail.
//   (kvn_link_atom, int32_t client, std::vector<int32_t> servers) -> ok:
//          the servers `client` can reach (all others are cut).
//   (kvn_reliable_atom, bool reliable) -> ok
//
// client_endpoint(client, server) is the actor a client_actor talks to for
// one server: it forwards (submit_atom, cmd) here with its two ids.
// Deterministic under the test_coordinator (one seeded RNG).
#pragma once

#include <cstdint>

#include <caf/all.hpp>

namespace raft::testing {

using kvn_call_atom = caf::atom_constant<caf::atom("kvn_call")>;
using kvn_server_atom = caf::atom_constant<caf::atom("kvn_server")>;
using kvn_link_atom = caf::atom_constant<caf::atom("kvn_link")>;
using kvn_reliable_atom = caf::atom_constant<caf::atom("kvn_rel")>;

/// Spawns the client network for `servers` servers, seeded with `seed`.
/// Every client starts with no link; the owner kills it when done.
caf::actor spawn_kv_network(caf::actor_system& sys, int servers,
                            std::uint64_t seed);

/// Spawns client `client`'s endpoint to `server` through `net`.
caf::actor spawn_client_endpoint(caf::actor_system& sys, caf::actor net,
                                 int client, int server);

} // namespace raft::testing
