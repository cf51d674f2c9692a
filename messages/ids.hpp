// Strong types for the three numbers Raft juggles: terms, log indexes and
// server ids. A term can never be passed where an index is expected (Scylla
// raft.hh does the same with `term_t`/`index_t`/`server_id`).
//
// Pure data: no CAF, no Boost. `inspect` is a template that CAF finds by ADL;
// Boost.Serialization support lives in persistence/serialization.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace raft {

/// A value of type `Rep` that is only comparable with values of the same
/// `Tag`. Arithmetic is offered only where the type opts in (index_t).
template <class Tag, class Rep>
struct strong_value {
  using rep_type = Rep;
  Rep value = 0;

  constexpr strong_value() = default;
  constexpr explicit strong_value(Rep v) : value(v) {}

  friend constexpr bool operator==(strong_value a, strong_value b) {
    return a.value == b.value;
  }
  friend constexpr bool operator!=(strong_value a, strong_value b) {
    return a.value != b.value;
  }
  friend constexpr bool operator<(strong_value a, strong_value b) {
    return a.value < b.value;
  }
  friend constexpr bool operator<=(strong_value a, strong_value b) {
    return a.value <= b.value;
  }
  friend constexpr bool operator>(strong_value a, strong_value b) {
    return a.value > b.value;
  }
  friend constexpr bool operator>=(strong_value a, strong_value b) {
    return a.value >= b.value;
  }
  friend std::ostream& operator<<(std::ostream& os, strong_value x) {
    return os << x.value;
  }
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f,
                                                 strong_value& x) {
    return f(x.value);
  }
};

struct term_tag {};
struct index_tag {};
struct server_id_tag {};

/// A Raft term (§5.1). Term 0 is "before any election"; the first elected
/// leader has term >= 1. Terms only grow on a server.
using term_t = strong_value<term_tag, std::uint64_t>;

/// A log index (§5.3). Index 0 is the empty-log sentinel: the first real
/// entry has index 1, and "prev_log_index = 0" means "the start of the log".
struct index_t : strong_value<index_tag, std::uint64_t> {
  using strong_value::strong_value;
  constexpr index_t() = default;
  constexpr index_t(strong_value<index_tag, std::uint64_t> x)
    : strong_value(x.value) {}
  constexpr index_t next() const { return index_t{value + 1}; }
  /// The index before this one; index 0 stays 0.
  constexpr index_t prev() const { return index_t{value == 0 ? 0 : value - 1}; }
  constexpr index_t operator+(std::uint64_t n) const { return index_t{value + n}; }
  /// Number of entries in (b, a]; 0 when a <= b.
  friend constexpr std::uint64_t distance(index_t b, index_t a) {
    return a.value > b.value ? a.value - b.value : 0;
  }
};

/// A cluster member. Ids are chosen by the operator and are >= 1;
/// `no_server` (0) means "none" (no vote cast, no known leader).
using server_id = strong_value<server_id_tag, std::uint32_t>;

inline constexpr server_id no_server{};

inline std::string to_string(term_t x) { return std::to_string(x.value); }
inline std::string to_string(index_t x) { return std::to_string(x.value); }
inline std::string to_string(server_id x) { return std::to_string(x.value); }

} // namespace raft

namespace std {
template <class Tag, class Rep>
struct hash<raft::strong_value<Tag, Rep>> {
  size_t operator()(raft::strong_value<Tag, Rep> x) const noexcept {
    return std::hash<Rep>{}(x.value);
  }
};
template <>
struct hash<raft::index_t> {
  size_t operator()(raft::index_t x) const noexcept {
    return std::hash<std::uint64_t>{}(x.value);
  }
};
} // namespace std
