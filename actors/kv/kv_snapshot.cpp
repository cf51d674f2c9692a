// The snapshot codec (format in kv_snapshot.hpp).
#include "actors/kv/kv_snapshot.hpp"

#include "actors/kv/kv_wire.hpp"

namespace raft::kv {

namespace {

constexpr std::uint8_t magic0 = 'K';
constexpr std::uint8_t magic1 = 'V';

bool get_session(wire::reader& in, index_t state_index, session& s) {
  std::uint64_t index = 0;
  std::uint8_t kind = 0;
  std::uint8_t no_flags = 0;
  // last_seq 0 iff the session has run nothing since its open (kind open).
  if (!in.get_varint(s.last_seq) || !in.get_varint(index)
      || index > state_index.value || !in.get_byte(kind)
      || kind > static_cast<std::uint8_t>(op::open)
      || (s.last_seq == 0) != (kind == static_cast<std::uint8_t>(op::open))
      || !wire::get_outcome(in, s.last_reply, 0, no_flags))
    return false;
  s.last_index = index_t{index};
  s.kind = static_cast<op>(kind);
  // The errc is redundant: it must be the one of the reason.
  return s.last_reply.error == error_of(s.last_reply.why);
}

} // namespace

std::string encode_snapshot(const kv_state& st) {
  std::string out;
  out.reserve(16 + data_bytes(st) + 4 * st.data.size()
              + 20 * st.sessions.size());
  wire::put_byte(out, magic0);
  wire::put_byte(out, magic1);
  wire::put_byte(out, snapshot_version);
  wire::put_varint(out, st.last_index.value);
  wire::put_varint(out, st.data.size());
  for (const auto& [key, value] : st.data) {
    wire::put_string(out, key);
    wire::put_string(out, value);
  }
  wire::put_varint(out, st.sessions.size());
  for (const auto& [id, s] : st.sessions) {
    wire::put_varint(out, id);
    wire::put_varint(out, s.last_seq);
    wire::put_varint(out, s.last_index.value);
    wire::put_byte(out, static_cast<std::uint8_t>(s.kind));
    wire::put_outcome(out, s.last_reply, 0);
  }
  return out;
}

std::optional<kv_state> decode_snapshot(std::string_view bytes) noexcept {
  try {
    wire::reader in{bytes};
    std::uint8_t m0 = 0;
    std::uint8_t m1 = 0;
    std::uint8_t version = 0;
    std::uint64_t last_index = 0;
    std::uint64_t n = 0;
    if (!in.get_byte(m0) || m0 != magic0 || !in.get_byte(m1) || m1 != magic1
        || !in.get_byte(version) || version != snapshot_version
        || !in.get_varint(last_index) || !in.get_varint(n))
      return std::nullopt;
    kv_state st;
    st.last_index = index_t{last_index};
    // Each iteration consumes at least one byte or fails, so a huge count
    // in garbage input ends at the end of the input.
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string key;
      std::string value;
      if (!in.get_string(key) || key.empty() || !in.get_string(value))
        return std::nullopt;
      if (!st.data.empty() && !(st.data.rbegin()->first < key))
        return std::nullopt; // not strictly ascending
      st.data.emplace_hint(st.data.end(), std::move(key), std::move(value));
    }
    if (!in.get_varint(n))
      return std::nullopt;
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint64_t id = 0;
      session s;
      if (!in.get_varint(id) || id == 0
          || (!st.sessions.empty() && st.sessions.rbegin()->first >= id)
          || !get_session(in, st.last_index, s))
        return std::nullopt;
      st.sessions.emplace_hint(st.sessions.end(), id, s);
    }
    if (!in.at_end())
      return std::nullopt;
    return st;
  } catch (...) {
    return std::nullopt; // std::bad_alloc only: lengths are bounded by input
  }
}

} // namespace raft::kv
