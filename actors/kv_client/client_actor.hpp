// raft::kv::client_actor -- the KV service's client (issue 5): finds the
// leader, follows leader hints, retries with backoff, keeps one session
// (client id + sequence number, so a retried write is applied exactly
// once: kv_store.hpp) and hides leader changes from the caller.
//
// Sessions (Raft thesis §6.3). Before its first write the client sends an
// op::open through the same retry path (a retried open only leaves an
// unused session behind) and uses the id it returns, the open's log index;
// a client that only reads never opens one. If a write is answered
// session_expired (its session was evicted), the client drops the session
// and the next write opens a new one; that write itself:
//   - was sent more than once: an earlier attempt may have been applied
//     under the old session, so its outcome is unknown -> errc::timeout.
//   - was sent once: that one attempt was refused and nothing was applied,
//     so the client opens a new session and sends it again (once per call;
//     should that session be evicted too, the call returns
//     bad_request/session_expired -- nothing applied).
//
// Protocol:
//   (kv_call_atom, kv::command cmd) -> kv::reply
//     cmd.kind/key/value/expected/expect_absent say what to do; client_id
//     and seq are the client's own (whatever the caller put there is
//     replaced): writes carry the session (seq 1, 2, ...), gets none --
//     they change nothing, so a retried get just reads again, and servers
//     may answer them with ReadIndex (kv_options::read_index). op::open is
//     refused (bad_request): sessions are the client's business. Calls are
//     handled one at a time, in arrival order (the session allows one
//     outstanding request); later calls wait.
//     The reply's `error` is one of raft::errc (client_messages.hpp):
//       none        done; found/ok/value as kv::reply documents.
//       too_large   the command exceeds the service's limits; nothing
//                   changed (checked locally first, and by the server).
//       bad_request the command is malformed or the session was refused
//                   (reply.why: stale_seq, session_expired, ...).
//       timeout     options.deadline passed before any server answered,
//                   or the session expired under a retried write (above):
//                   the command may or may not have been applied.
//   (caf::get_atom, status_atom) -> (uint64_t client_id, uint64_t last_seq,
//                                    uint64_t retries)
//     client_id is 0 while the client has no session (before its first
//     write, or after one expired).
//
// Retrying. Each server endpoint answers (submit_atom, std::string) with a
// client_reply (state_machine_actor, or the test kit's simulated client
// network). The client starts at the server it last found leading. On
// not_leader with a hint it goes to the hinted server at once; on
// not_leader without a hint, dropped_entry, timeout, shutting_down, a
// request timeout or a dead endpoint it tries the next server after a
// backoff (backoff_min doubling to backoff_max; reset by a success). A
// retry sends the same bytes (same seq): the server's session table makes
// it exactly-once.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/kv/kv_command.hpp"
#include "actors/kv/kv_limits.hpp"
#include "messages/ids.hpp"

namespace raft::kv {

using kv_call_atom = caf::atom_constant<caf::atom("kv_call")>;
/// Internal: the backoff of call `seq` is over.
using kv_retry_atom = caf::atom_constant<caf::atom("kv_retry")>;

struct client_options {
  /// The servers, each with its endpoint: (submit_atom, std::string) ->
  /// client_reply. Must not be empty. Leader hints name server ids.
  std::vector<std::pair<server_id, caf::actor>> servers;
  /// How long one attempt waits for its answer.
  std::chrono::milliseconds request_timeout{1000};
  /// Pause before the next attempt after a failed one: starts at
  /// backoff_min, doubles up to backoff_max.
  std::chrono::milliseconds backoff_min{10};
  std::chrono::milliseconds backoff_max{320};
  /// Give up on a call after this long with errc::timeout (outcome
  /// unknown); 0: never give up (the 6.5840 Clerk's behaviour).
  std::chrono::milliseconds deadline{0};
  /// Seeds the choice of the first server to try (0: std::random_device).
  /// Session ids are not chosen by the client: the log hands them out.
  std::uint64_t seed = 0;
  /// Checked locally before anything is sent (must not be looser than the
  /// servers' limits to be useful).
  kv_limits limits;
};

struct client_state {
  static inline const char* name = "raft.kv_client";

  /// A call waiting to run or running.
  struct call {
    command cmd;
    caf::typed_response_promise<reply> promise;
  };

  client_options opts;
  std::mt19937_64 rng;
  /// The session: id (0: none yet) and the last sequence number used (seq
  /// of the call in progress, if any). Volatile: a new client actor opens
  /// a new session.
  std::uint64_t client_id = 0;
  std::uint64_t last_seq = 0;
  /// The request in flight is the open of a session for the front call.
  bool opening = false;
  /// Times the request in flight was sent (> 1: an attempt other than the
  /// one answered may have been applied; see the sessions note above).
  std::uint64_t sends = 0;
  /// The front call already reopened its session once.
  bool reopened = false;
  /// Calls started so far (identifies the call of an answer or a retry
  /// timer). Monotonic.
  std::uint64_t call_id = 0;
  /// Index into opts.servers of the server believed to lead.
  std::size_t leader = 0;
  /// Calls in arrival order; the front one is in progress.
  std::deque<call> calls;
  /// Encoded bytes of the call in progress (resent unchanged by retries).
  std::string in_flight;
  /// When the call in progress started (on the actor's clock).
  caf::actor_clock::time_point started;
  /// Current backoff.
  std::chrono::milliseconds backoff{0};
  /// Attempts beyond the first, over all calls.
  std::uint64_t retries = 0;
};

using client_actor_type = caf::stateful_actor<client_state>;

/// Spawn with sys.spawn(client_actor, opts).
caf::behavior client_actor(client_actor_type* self, client_options opts);

} // namespace raft::kv
