#include "actors/kv_client/blocking_client.hpp"

#include <utility>

namespace raft::kv {

blocking_client::blocking_client(caf::actor_system& sys, client_options opts)
  : sys_(sys), client_(sys.spawn(client_actor, std::move(opts))) {
}

blocking_client::~blocking_client() {
  caf::anon_send_exit(client_, caf::exit_reason::user_shutdown);
}

reply blocking_client::call(command cmd) {
  reply result;
  caf::scoped_actor self{sys_};
  self->request(client_, caf::infinite, kv_call_atom::value, std::move(cmd))
    .receive([&](reply& r) { result = std::move(r); },
             [&](caf::error&) {
               // The client actor is gone (it was stopped): outcome unknown.
               result.error = raft::errc::shutting_down;
             });
  return result;
}

namespace {

command make(op kind, const std::string& key, const std::string& value = {},
             const std::string& expected = {}) {
  command c;
  c.kind = kind;
  c.key = key;
  c.value = value;
  c.expected = expected;
  return c;
}

} // namespace

reply blocking_client::get(const std::string& key) {
  return call(make(op::get, key));
}

reply blocking_client::put(const std::string& key, const std::string& value) {
  return call(make(op::put, key, value));
}

reply blocking_client::append(const std::string& key,
                              const std::string& value) {
  return call(make(op::append, key, value));
}

reply blocking_client::del(const std::string& key) {
  return call(make(op::del, key));
}

reply blocking_client::cas(const std::string& key, const std::string& expected,
                           const std::string& value) {
  return call(make(op::cas, key, value, expected));
}

reply blocking_client::create(const std::string& key,
                              const std::string& value) {
  auto c = make(op::cas, key, value);
  c.expect_absent = true;
  return call(std::move(c));
}

} // namespace raft::kv
