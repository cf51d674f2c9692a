#include "actors/kv_client/client_actor.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "messages/client_messages.hpp"
#include "messages/type_ids.hpp"

namespace raft::kv {

namespace {

void start_next(client_actor_type* self);
void attempt(client_actor_type* self);
void send_open(client_actor_type* self);
void send_command(client_actor_type* self);

reply error_reply(raft::errc e) {
  reply r;
  r.error = e;
  return r;
}

/// Answers the call in progress and starts the next one.
void finish(client_actor_type* self, reply r) {
  auto& st = self->state;
  st.calls.front().promise.deliver(std::move(r));
  st.calls.pop_front();
  st.in_flight.clear();
  st.opening = false;
  start_next(self);
}

/// The answer (errc::none from the server) to the call in progress.
void on_result(client_actor_type* self, reply r) {
  auto& st = self->state;
  if (st.opening) {
    auto id = session_id_of(r);
    if (id == 0) {
      // Cannot happen with a valid open; pass the server's refusal on.
      finish(self, r.error != raft::errc::none ? std::move(r)
                                               : failure(reason::malformed));
      return;
    }
    st.client_id = id;
    st.last_seq = 0;
    send_command(self);
    return;
  }
  if (r.why == reason::session_expired && st.client_id != 0) {
    // The session was evicted (LRU, kv_store.hpp); no new one can
    // deduplicate this request, so the next call opens a fresh session.
    st.client_id = 0;
    st.last_seq = 0;
    if (st.sends > 1) {
      // An earlier attempt may have been applied under the old session
      // before it was evicted: the outcome is unknown.
      finish(self, error_reply(raft::errc::timeout));
      return;
    }
    if (!st.reopened) {
      // Sent once and refused: this request was never applied (one send
      // is proposed at most once). Safe to run it in a new session.
      st.reopened = true;
      send_open(self);
      return;
    }
    // Evicted twice within one call: report it (nothing was applied).
  }
  finish(self, std::move(r));
}

/// After a failed attempt: the next server (or `hint`), after a backoff.
void retry(client_actor_type* self, std::optional<std::size_t> hint) {
  auto& st = self->state;
  ++st.retries;
  auto now = self->clock().now();
  if (st.opts.deadline.count() > 0 && now - st.started >= st.opts.deadline) {
    // The outcome is unknown: an earlier attempt may have been applied.
    finish(self, error_reply(raft::errc::timeout));
    return;
  }
  if (hint && *hint != st.leader) {
    // A fresh hint: go there at once.
    st.leader = *hint;
    attempt(self);
    return;
  }
  st.leader = (st.leader + 1) % st.opts.servers.size();
  st.backoff = st.backoff.count() == 0
                 ? st.opts.backoff_min
                 : std::min(st.backoff * 2, st.opts.backoff_max);
  self->delayed_send(self, st.backoff, kv_retry_atom::value, st.call_id);
}

std::optional<std::size_t> index_of(const client_state& st, server_id id) {
  for (std::size_t k = 0; k < st.opts.servers.size(); ++k)
    if (st.opts.servers[k].first == id)
      return k;
  return std::nullopt;
}

void on_answer(client_actor_type* self, std::uint64_t seq,
               const client_reply& r) {
  auto& st = self->state;
  if (st.calls.empty() || seq != st.call_id)
    return; // an answer to a finished call (cannot happen: one in flight)
  switch (r.error) {
    case raft::errc::none: {
      auto decoded = decode_reply(r.result);
      st.backoff = std::chrono::milliseconds{0};
      on_result(self, decoded ? std::move(*decoded)
                              : failure(reason::malformed));
      return;
    }
    case raft::errc::not_leader:
      // Refused before it was proposed: this send cannot be applied.
      --st.sends;
      retry(self, r.leader_hint == no_server
                    ? std::nullopt
                    : index_of(st, r.leader_hint));
      return;
    case raft::errc::dropped_entry:
    case raft::errc::timeout:
    case raft::errc::shutting_down:
      retry(self, std::nullopt);
      return;
    case raft::errc::too_large:
    case raft::errc::bad_request:
      // The server refused the command itself: retrying cannot help.
      finish(self, error_reply(r.error));
      return;
  }
  retry(self, std::nullopt);
}

void attempt(client_actor_type* self) {
  auto& st = self->state;
  ++st.sends;
  auto seq = st.call_id;
  const auto& endpoint = st.opts.servers[st.leader].second;
  self->request(endpoint, st.opts.request_timeout, submit_atom::value,
                st.in_flight)
    .then([self, seq](const client_reply& r) { on_answer(self, seq, r); },
          [self, seq](const caf::error&) {
            auto& s = self->state;
            if (!s.calls.empty() && seq == s.call_id)
              retry(self, std::nullopt);
          });
}

/// Sends an open for the call in progress (before its write); retries of
/// the open are harmless (each creates an unused session, kv_store.hpp).
void send_open(client_actor_type* self) {
  auto& st = self->state;
  ++st.call_id;
  st.opening = true;
  st.sends = 0;
  st.in_flight = encode(open_command());
  attempt(self);
}

/// Sends the call in progress itself, in the current session if a write.
void send_command(client_actor_type* self) {
  auto& st = self->state;
  auto& cmd = st.calls.front().cmd;
  bool session = cmd.kind != op::get;
  cmd.client_id = session ? st.client_id : 0;
  cmd.seq = session ? ++st.last_seq : 0;
  ++st.call_id;
  st.opening = false;
  st.sends = 0;
  st.in_flight = encode(cmd);
  attempt(self);
}

void start_next(client_actor_type* self) {
  auto& st = self->state;
  if (st.calls.empty() || !st.in_flight.empty())
    return;
  auto& cmd = st.calls.front().cmd;
  // Gets change nothing, so they need no session: a retried get simply
  // reads again (inside the call's interval), and a server may answer it
  // with ReadIndex instead of the log. Opens are the client's own.
  bool session = cmd.kind != op::get;
  // Checked locally as the write will be sent (any session id will do):
  // a refused command opens no session and uses no seq.
  cmd.client_id = session ? 1 : 0;
  cmd.seq = session ? 1 : 0;
  auto e = cmd.kind == op::open ? raft::errc::bad_request
                                : validate(cmd, st.opts.limits);
  if (e != raft::errc::none) {
    auto c = std::move(st.calls.front());
    st.calls.pop_front();
    c.promise.deliver(error_reply(e));
    start_next(self);
    return;
  }
  st.started = self->clock().now();
  st.reopened = false;
  if (session && st.client_id == 0)
    send_open(self);
  else
    send_command(self);
}

} // namespace

caf::behavior client_actor(client_actor_type* self, client_options opts) {
  auto& st = self->state;
  if (opts.servers.empty()) {
    self->quit(caf::make_error(caf::sec::invalid_argument,
                               "kv client: no servers"));
    return {};
  }
  st.opts = std::move(opts);
  st.rng.seed(st.opts.seed != 0 ? st.opts.seed : std::random_device{}());
  st.leader = static_cast<std::size_t>(st.rng() % st.opts.servers.size());
  return {
    [self](kv_call_atom, command& cmd) -> caf::result<reply> {
      auto& s = self->state;
      auto rp = self->make_response_promise<reply>();
      s.calls.push_back({std::move(cmd), rp});
      start_next(self);
      return rp;
    },
    [self](kv_retry_atom, std::uint64_t seq) {
      auto& s = self->state;
      if (!s.calls.empty() && seq == s.call_id && !s.in_flight.empty())
        attempt(self);
    },
    [self](caf::get_atom, status_atom) {
      auto& s = self->state;
      return caf::make_message(s.client_id, s.last_seq, s.retries);
    },
  };
}

} // namespace raft::kv
