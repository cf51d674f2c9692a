// raft::kv::wire -- the two primitives every KV encoding is built from:
// unsigned LEB128 varints and length-prefixed byte strings. Internal to
// raft_kv (kv_command.cpp, kv_snapshot.cpp); not part of the public API.
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

} // namespace raft::kv::wire
