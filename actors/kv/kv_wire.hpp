// raft::kv::wire -- the two primitives every KV encoding is built from:
// unsigned LEB128 varints and length-prefixed byte strings; and, built on
// them, a reply's outcome, which both a reply and a snapshot's session
// carry. Internal to raft_kv (kv_command.cpp, kv_snapshot.cpp); not part of
// the public API.
//
// The reader never throws and never reads past its input: every get_*
// returns false on truncated, overlong or otherwise non-canonical input, and
// the caller turns that into std::nullopt. Canonical means: a varint uses the
// fewest bytes (no trailing 0x80 groups, no 11th byte, no bits above 64), so
// every value has exactly one encoding and decode(encode(x)) == x as well as
// encode(decode(b)) == b.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/kv/kv_command.hpp"

namespace raft::kv::wire {

/// Appends `x` as an unsigned LEB128 varint (1 byte below 128, at most 10).
inline void put_varint(std::string& out, std::uint64_t x) {
  while (x >= 0x80) {
    out.push_back(static_cast<char>((x & 0x7f) | 0x80));
    x >>= 7;
  }
  out.push_back(static_cast<char>(x));
}

/// Appends `s` as varint(length) followed by its bytes.
inline void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s.data(), s.size());
}

/// Appends one raw byte.
inline void put_byte(std::string& out, std::uint8_t b) {
  out.push_back(static_cast<char>(b));
}

/// Bytes a varint of `x` takes.
constexpr std::size_t varint_size(std::uint64_t x) {
  std::size_t n = 1;
  while (x >= 0x80) {
    x >>= 7;
    ++n;
  }
  return n;
}

/// A bounds-checked cursor over encoded bytes. All getters return false (and
/// leave the output unspecified) instead of reading out of bounds.
class reader {
public:
  explicit reader(std::string_view in) : in_(in) {}

  /// True when every byte has been consumed (decoders reject trailing
  /// garbage).
  bool at_end() const { return pos_ == in_.size(); }

  bool get_byte(std::uint8_t& out) {
    if (pos_ >= in_.size())
      return false;
    out = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }

  /// Reads a canonical varint: at most 10 bytes, no bits beyond 64, no
  /// redundant trailing zero group.
  bool get_varint(std::uint64_t& out) {
    std::uint64_t result = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = 0;
      if (!get_byte(b))
        return false;
      auto payload = static_cast<std::uint64_t>(b & 0x7f);
      if (shift == 63 && payload > 1)
        return false; // bits beyond 64
      result |= payload << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift != 0)
          return false; // overlong: a trailing zero group
        out = result;
        return true;
      }
    }
    return false; // an 11th byte would be needed
  }

  /// Reads varint(length) + bytes; false if the length exceeds the input.
  bool get_string(std::string& out) {
    std::uint64_t n = 0;
    if (!get_varint(n) || n > in_.size() - pos_)
      return false;
    out.assign(in_.data() + pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }

private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

// -- a reply's outcome --------------------------------------------------------
//
//   outcome := error:u8 (raft::errc)  reason:u8 (kv::reason)
//              flags:u8 (bit 0 found, bit 1 ok; higher bits the caller's)

/// Bits of the outcome's flags byte.
inline constexpr std::uint8_t found_bit = 0x01;
inline constexpr std::uint8_t ok_bit = 0x02;

/// Appends r.error, r.why and the flags byte: found_bit, ok_bit and
/// `more_flags` (bits above ok_bit, the caller's own).
inline void put_outcome(std::string& out, const reply& r,
                        std::uint8_t more_flags) {
  put_byte(out, static_cast<std::uint8_t>(r.error));
  put_byte(out, static_cast<std::uint8_t>(r.why));
  std::uint8_t flags = more_flags;
  if (r.found)
    flags |= found_bit;
  if (r.ok)
    flags |= ok_bit;
  put_byte(out, flags);
}

/// Reads what put_outcome() wrote into r.error, r.why, r.found and r.ok,
/// and the caller's flag bits into `more_flags`. False on an unknown errc
/// or reason, or a set flag bit outside found_bit, ok_bit and
/// `allowed_flags`.
inline bool get_outcome(reader& in, reply& r, std::uint8_t allowed_flags,
                        std::uint8_t& more_flags) {
  std::uint8_t error = 0;
  std::uint8_t why = 0;
  std::uint8_t flags = 0;
  const auto known = static_cast<std::uint8_t>(found_bit | ok_bit
                                               | allowed_flags);
  if (!in.get_byte(error)
      || error > static_cast<std::uint8_t>(raft::errc::bad_request)
      || !in.get_byte(why)
      || why > static_cast<std::uint8_t>(reason::session_expired)
      || !in.get_byte(flags) || (flags & ~known) != 0)
    return false;
  r.error = static_cast<raft::errc>(error);
  r.why = static_cast<reason>(why);
  r.found = (flags & found_bit) != 0;
  r.ok = (flags & ok_bit) != 0;
  more_flags = static_cast<std::uint8_t>(flags & allowed_flags);
  return true;
}

} // namespace raft::kv::wire
