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
  start_next(self);
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
      finish(self, decoded ? std::move(*decoded)
                           : failure(reason::malformed));
      return;
    }
    case raft::errc::not_leader:
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

void start_next(client_actor_type* self) {
  auto& st = self->state;
  if (st.calls.empty() || !st.in_flight.empty())
    return;
  auto& cmd = st.calls.front().cmd;
  // Gets change nothing, so they need no session: a retried get simply
  // reads again (inside the call's interval), and a server may answer it
  // with ReadIndex instead of the log.
  bool session = cmd.kind != op::get;
  cmd.client_id = session ? st.client_id : 0;
  cmd.seq = session ? st.last_seq + 1 : 0;
  // Refused locally: the seq is not used, nothing is sent.
  if (auto e = validate(cmd, st.opts.limits); e != raft::errc::none) {
    auto c = std::move(st.calls.front());
    st.calls.pop_front();
    c.promise.deliver(error_reply(e));
    start_next(self);
    return;
  }
  if (session)
    ++st.last_seq;
  ++st.call_id;
  st.in_flight = encode(cmd);
  st.started = self->clock().now();
  attempt(self);
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
  st.client_id = st.opts.client_id;
  while (st.client_id == 0)
    st.client_id = st.rng();
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
