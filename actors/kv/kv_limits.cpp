#include "actors/kv/kv_limits.hpp"

#include "actors/kv/kv_wire.hpp"

namespace raft::kv {

namespace {

validation fail(reason r) {
  return validation{error_of(r), r};
}

/// Step 2 of check(): fields the op does not use.
bool fields_fit(const command& c) {
  switch (c.kind) {
    case op::get:
    case op::del:
      return c.value.empty() && c.expected.empty() && !c.expect_absent;
    case op::put:
    case op::append:
      return c.expected.empty() && !c.expect_absent;
    case op::cas:
      return !c.expect_absent || c.expected.empty();
    case op::open:
      return c.key.empty() && c.value.empty() && c.expected.empty()
             && !c.expect_absent;
  }
  return false; // an op value outside the enum (cannot come from decode)
}

} // namespace

validation check(const command& c, const kv_limits& limits) {
  if (c.kind == op::open ? c.client_id != 0 || c.seq != 0
                          : (c.client_id == 0) != (c.seq == 0))
    return fail(reason::bad_session);
  if (!fields_fit(c))
    return fail(reason::bad_fields);
  if (c.kind == op::open)
    return validation{}; // no key, no value
  if (c.key.empty())
    return fail(reason::empty_key);
  if (c.key.size() > limits.max_key_bytes)
    return fail(reason::key_too_large);
  if (c.value.size() > limits.max_value_bytes)
    return fail(reason::value_too_large);
  if (c.expected.size() > limits.max_value_bytes)
    return fail(reason::expected_too_large);
  return validation{};
}

raft::errc validate(const command& c, const kv_limits& limits) {
  return check(c, limits).error;
}

std::size_t max_command_bytes(const kv_limits& limits) {
  auto max_varint = wire::varint_size(UINT64_MAX);
  return 2                                        // version, head
         + 2 * max_varint                         // client_id, seq
         + wire::varint_size(limits.max_key_bytes) + limits.max_key_bytes
         + 2 * (wire::varint_size(limits.max_value_bytes)
                + limits.max_value_bytes);        // value, expected
}

bool valid(const kv_limits& limits) {
  return limits.max_key_bytes >= 1 && limits.max_value_bytes >= 1
         && limits.max_sessions >= 1;
}

} // namespace raft::kv
