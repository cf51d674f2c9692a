// What a KV service reply (kv::reply, actors/kv) tells the linearizability
// checker: the kv_output of the operation that got it. Shared by raft-demo's
// clients (apps/) and the kvraft tester's clerks (tests/kit/kv).
//
// Header-only on purpose: raft_linearizability itself stays independent of
// the KV service; a target including this header also links raft_kv (both
// users do, through raft_kv_client).
#pragma once

#include "actors/kv/kv_command.hpp"
#include "messages/client_messages.hpp"
#include "tests/kit/linearizability/history.hpp"

namespace raft::testing::lin {

/// The output the checker records for operation `in` answered with `r`:
/// unknown when the call failed (no answer, or an error: it may or may not
/// have taken effect), what a get found, whether a cas or del succeeded, and
/// done for put and append.
inline kv_output output_of(const kv::reply& r, const kv_input& in) {
  if (r.error != errc::none)
    return unknown_outcome();
  switch (in.op) {
    case kv_input::kind::get:
      return r.found ? found(r.value) : not_found();
    case kv_input::kind::cas:
    case kv_input::kind::del:
      return done(r.ok);
    default:
      return done(true);
  }
}

} // namespace raft::testing::lin
