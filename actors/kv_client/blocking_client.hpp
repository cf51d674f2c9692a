// raft::kv::blocking_client -- the KV client for code that is not an actor:
// each call blocks the calling thread until the client actor answers
// (client_actor.hpp has the retry and session semantics).
//
//   raft::kv::blocking_client kv{sys, opts};
//   kv.put("k", "v");
//   auto r = kv.get("k");          // r.error == errc::none, r.found, r.value
//
// Needs a running scheduler (the normal one); under CAF's test_coordinator
// a blocking call would wait forever -- the test kit drives the client
// actor itself. Thread-safe: calls from several threads are serialized by
// the client actor (one session).
#pragma once

#include <chrono>
#include <string>

#include <caf/all.hpp>

#include "actors/kv/kv_command.hpp"
#include "actors/kv_client/client_actor.hpp"

namespace raft::kv {

class blocking_client {
public:
  /// Spawns a client actor with `opts` in `sys`.
  blocking_client(caf::actor_system& sys, client_options opts);
  /// Stops the client actor.
  ~blocking_client();
  blocking_client(const blocking_client&) = delete;
  blocking_client& operator=(const blocking_client&) = delete;

  reply get(const std::string& key);
  reply put(const std::string& key, const std::string& value);
  reply append(const std::string& key, const std::string& value);
  /// reply.ok: the key existed.
  reply del(const std::string& key);
  /// Sets key to `value` iff it holds `expected` (reply.ok says whether).
  reply cas(const std::string& key, const std::string& expected,
            const std::string& value);
  /// Sets key to `value` iff it is absent.
  reply create(const std::string& key, const std::string& value);
  /// Runs any command (client_id and seq are the client's).
  reply call(command cmd);

  /// The client actor (for status queries or to share it with actors).
  const caf::actor& actor() const { return client_; }

private:
  caf::actor_system& sys_;
  caf::actor client_;
};

} // namespace raft::kv
