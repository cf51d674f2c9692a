// The command and reply codec (format in kv_command.hpp).
#include "actors/kv/kv_command.hpp"

#include "actors/kv/kv_wire.hpp"
#include "messages/to_string.hpp"

namespace raft::kv {

namespace {

// Bits of the command's head byte.
constexpr std::uint8_t op_mask = 0x07;
constexpr std::uint8_t expect_absent_bit = 0x08;
constexpr std::uint8_t cmd_value_bit = 0x10;
constexpr std::uint8_t cmd_expected_bit = 0x20;
constexpr std::uint8_t cmd_reserved = 0xc0;

// The reply's own bit of the outcome's flags byte (wire::put_outcome).
constexpr std::uint8_t reply_value_bit = 0x04;

constexpr std::uint8_t max_op = static_cast<std::uint8_t>(op::open);

/// Reads an optional non-empty string: absent when !present; a present but
/// empty string is non-canonical and rejected.
bool get_optional(wire::reader& in, bool present, std::string& out) {
  if (!present)
    return true;
  return in.get_string(out) && !out.empty();
}

} // namespace

raft::errc error_of(reason r) {
  switch (r) {
    case reason::none:
      return raft::errc::none;
    case reason::key_too_large:
    case reason::value_too_large:
    case reason::expected_too_large:
      return raft::errc::too_large;
    case reason::malformed:
    case reason::empty_key:
    case reason::bad_fields:
    case reason::bad_session:
    case reason::stale_seq:
    case reason::seq_reused:
    case reason::session_expired:
      return raft::errc::bad_request;
  }
  return raft::errc::bad_request;
}

reply failure(reason r) {
  reply result;
  result.error = error_of(r);
  result.why = r;
  return result;
}

command open_command() {
  command c;
  c.kind = op::open;
  return c;
}

std::uint64_t session_id_of(const reply& r) {
  if (r.error != raft::errc::none || !r.ok || r.value.empty()
      || r.value.size() > 20 || r.value[0] == '0')
    return 0;
  std::uint64_t id = 0;
  for (char ch : r.value) {
    if (ch < '0' || ch > '9')
      return 0;
    auto digit = static_cast<std::uint64_t>(ch - '0');
    if (id > (UINT64_MAX - digit) / 10)
      return 0; // overflow
    id = id * 10 + digit;
  }
  return id;
}

// -- command -------------------------------------------------------------------

std::string encode(const command& c) {
  std::string out;
  out.reserve(4 + 2 * wire::varint_size(UINT64_MAX) + c.key.size()
              + c.value.size() + c.expected.size());
  wire::put_byte(out, codec_version);
  auto head = static_cast<std::uint8_t>(static_cast<std::uint8_t>(c.kind)
                                        & op_mask);
  if (c.expect_absent)
    head |= expect_absent_bit;
  if (!c.value.empty())
    head |= cmd_value_bit;
  if (!c.expected.empty())
    head |= cmd_expected_bit;
  wire::put_byte(out, head);
  wire::put_varint(out, c.client_id);
  wire::put_varint(out, c.seq);
  wire::put_string(out, c.key);
  if (!c.value.empty())
    wire::put_string(out, c.value);
  if (!c.expected.empty())
    wire::put_string(out, c.expected);
  return out;
}

std::optional<command> decode_command(std::string_view bytes) noexcept {
  try {
    wire::reader in{bytes};
    std::uint8_t version = 0;
    std::uint8_t head = 0;
    if (!in.get_byte(version) || version != codec_version
        || !in.get_byte(head) || (head & cmd_reserved) != 0
        || (head & op_mask) > max_op)
      return std::nullopt;
    command c;
    c.kind = static_cast<op>(head & op_mask);
    c.expect_absent = (head & expect_absent_bit) != 0;
    if (!in.get_varint(c.client_id) || !in.get_varint(c.seq)
        || !in.get_string(c.key)
        || !get_optional(in, (head & cmd_value_bit) != 0, c.value)
        || !get_optional(in, (head & cmd_expected_bit) != 0, c.expected)
        || !in.at_end())
      return std::nullopt;
    return c;
  } catch (...) {
    // Only std::bad_alloc can get here (the reader bounds every length by
    // the input size): treat it like malformed input, as promised.
    return std::nullopt;
  }
}

// -- reply ---------------------------------------------------------------------

std::string encode(const reply& r) {
  std::string out;
  out.reserve(4 + wire::varint_size(r.value.size()) + r.value.size());
  wire::put_byte(out, codec_version);
  wire::put_outcome(out, r,
                    r.value.empty() ? std::uint8_t{0} : reply_value_bit);
  if (!r.value.empty())
    wire::put_string(out, r.value);
  return out;
}

std::optional<reply> decode_reply(std::string_view bytes) noexcept {
  try {
    wire::reader in{bytes};
    std::uint8_t version = 0;
    std::uint8_t flags = 0;
    reply r;
    if (!in.get_byte(version) || version != codec_version
        || !wire::get_outcome(in, r, reply_value_bit, flags))
      return std::nullopt;
    if (!get_optional(in, (flags & reply_value_bit) != 0, r.value)
        || !in.at_end())
      return std::nullopt;
    return r;
  } catch (...) {
    return std::nullopt; // std::bad_alloc only, see decode_command
  }
}

// -- printing ------------------------------------------------------------------

std::string to_string(op x) {
  switch (x) {
    case op::get:
      return "get";
    case op::put:
      return "put";
    case op::append:
      return "append";
    case op::del:
      return "del";
    case op::cas:
      return "cas";
    case op::open:
      return "open";
  }
  return "op(" + std::to_string(static_cast<unsigned>(x)) + ")";
}

std::string to_string(reason x) {
  switch (x) {
    case reason::none:
      return "none";
    case reason::malformed:
      return "malformed";
    case reason::empty_key:
      return "empty_key";
    case reason::bad_fields:
      return "bad_fields";
    case reason::bad_session:
      return "bad_session";
    case reason::key_too_large:
      return "key_too_large";
    case reason::value_too_large:
      return "value_too_large";
    case reason::expected_too_large:
      return "expected_too_large";
    case reason::stale_seq:
      return "stale_seq";
    case reason::seq_reused:
      return "seq_reused";
    case reason::session_expired:
      return "session_expired";
  }
  return "reason(" + std::to_string(static_cast<unsigned>(x)) + ")";
}

std::string to_string(const command& c) {
  auto result = to_string(c.kind) + " c=" + std::to_string(c.client_id)
                + " s=" + std::to_string(c.seq) + " k=" + printable(c.key);
  if (!c.value.empty())
    result += " v=" + std::to_string(c.value.size()) + "B";
  if (!c.expected.empty())
    result += " e=" + std::to_string(c.expected.size()) + "B";
  if (c.expect_absent)
    result += " expect_absent";
  return result;
}

std::string to_string(const reply& r) {
  auto result = raft::to_string(r.error);
  if (r.why != reason::none)
    result += "/" + to_string(r.why);
  result += std::string{" found="} + (r.found ? "1" : "0")
            + " ok=" + (r.ok ? "1" : "0");
  if (!r.value.empty())
    result += " v=" + std::to_string(r.value.size()) + "B";
  return result;
}

std::ostream& operator<<(std::ostream& os, op x) {
  return os << to_string(x);
}

std::ostream& operator<<(std::ostream& os, reason x) {
  return os << to_string(x);
}

std::ostream& operator<<(std::ostream& os, const command& c) {
  return os << to_string(c);
}

std::ostream& operator<<(std::ostream& os, const reply& r) {
  return os << to_string(r);
}

} // namespace raft::kv
