// Helpers shared by the node_*.cpp files (not part of the core's API).
#pragma once

#include <string>

#include "actors/core/config.hpp"

namespace raft::core::detail {

/// An overload set for std::visit with no catch-all: a new alternative of
/// the visited variant breaks the build at every visit that must handle it.
template <class... Fs>
struct overload : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overload(Fs...) -> overload<Fs...>;

/// "index 7 term 2", for exception messages.
inline std::string str(log_id id) {
  return "index " + to_string(id.index) + " term " + to_string(id.term);
}

/// "node 3: ", the prefix of every exception message.
inline std::string where(const config& cfg) {
  return "node " + to_string(cfg.id) + ": ";
}

} // namespace raft::core::detail
