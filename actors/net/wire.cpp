#include "actors/net/wire.hpp"

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace raft::net {

namespace {

/// Parses a decimal number in [lo, hi]; false on anything else.
bool parse_uint(const std::string& s, unsigned long lo, unsigned long hi,
                unsigned long& out) {
  if (s.empty() || s.size() > 10)
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  errno = 0;
  auto v = std::strtoul(s.c_str(), nullptr, 10);
  if (errno != 0 || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

} // namespace

bool parse_host_port(const std::string& text, member_address& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  unsigned long port = 0;
  if (!parse_uint(text.substr(colon + 1), 1, 65535, port))
    return false;
  out.host = text.substr(0, colon);
  out.port = static_cast<std::uint16_t>(port);
  return true;
}

bool parse_cluster_map(const std::string& text, cluster_map& out,
                       std::string& why) {
  out.clear();
  std::istringstream in{text};
  std::string item;
  while (std::getline(in, item, ',')) {
    auto eq = item.find('=');
    unsigned long id = 0;
    member_address addr;
    if (eq == std::string::npos
        || !parse_uint(item.substr(0, eq), 1, 0xFFFFFFFFul, id)
        || !parse_host_port(item.substr(eq + 1), addr)) {
      why = "bad --cluster entry '" + item + "' (expected ID=HOST:PORT, ID >= 1)";
      return false;
    }
    auto sid = server_id{static_cast<std::uint32_t>(id)};
    if (!out.emplace(sid, addr).second) {
      why = "--cluster names server " + std::to_string(id) + " twice";
      return false;
    }
  }
  if (out.empty()) {
    why = "--cluster is empty";
    return false;
  }
  return true;
}

} // namespace raft::net
