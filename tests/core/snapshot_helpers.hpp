// Builders shared by the snapshot tests of the core (§7, Figure 13).
#pragma once

#include <cstdio>
#include <string>

#include "messages/crc32.hpp"
#include "tests/core/core_harness.hpp"
#include "tests/core/role_setup.hpp"

namespace raft::core_test {

inline install_snapshot chunk(std::uint64_t term, std::uint32_t leader, log_id last,
                       const std::string& snap, std::uint64_t offset,
                       std::size_t len) {
  install_snapshot m;
  m.term = term_t{term};
  m.leader_id = server_id{leader};
  m.last_included = last;
  m.offset = offset;
  m.data = snap.substr(offset, len);
  m.done = offset + m.data.size() == snap.size();
  m.total_size = snap.size();
  m.crc32 = raft::crc32(snap);
  return m;
}

/// The whole snapshot in one chunk.
inline install_snapshot whole(std::uint64_t term, std::uint32_t leader, log_id last,
                       const std::string& snap) {
  return chunk(term, leader, last, snap, 0, snap.size());
}

inline install_snapshot_reply is_reply(std::uint64_t term, log_id last,
                                std::uint64_t next, bool installed) {
  install_snapshot_reply r;
  r.term = term_t{term};
  r.last_included = last;
  r.next_offset = next;
  r.installed = installed;
  return r;
}

inline std::string crc_hex(const std::string& snap) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x",
                static_cast<unsigned>(raft::crc32(snap)));
  return buf;
}

/// "1->3 install_snapshot term=2 last=2/6 offset=0 bytes=4 done=false ..."
inline std::string chunk_line(std::uint32_t to, std::uint64_t term, log_id last,
                       const std::string& snap, std::uint64_t offset,
                       std::size_t len) {
  return line(1, to, chunk(term, 1, last, snap, offset, len));
}

/// Server 1, leader of term 2 in a 3-server cluster, log 1 1 1 1 1 2: entry
/// 6 ("x") is committed and applied through follower 2; follower 3 never
/// answered (its progress still probes at next_index 6).
inline harness committed_leader(std::size_t chunk_bytes = 1024 * 1024) {
  role_setup s;
  s.term = 2;
  s.log = make_log({1, 1, 1, 1, 1});
  s.followers_caught_up = false;
  s.cfg.snapshot_chunk_bytes = chunk_bytes;
  auto h = make_in_role(raft::role::leader, s);
  h.step(2, ae_ok(2, 5, 5));
  h.propose("x");
  h.ack_all();
  h.step(2, ae_ok(2, 5, 6));
  h.ack_all();
  REQUIRE(h->commit_index() == 6_i);
  REQUIRE(h->applied_index() == 6_i);
  return h;
}

/// Follower 1 of leader 2 in term 2 with `log` (nothing committed).
inline harness follower_with(log_entries log, std::uint64_t term = 2) {
  role_setup s;
  s.term = term;
  s.log = std::move(log);
  return make_in_role(raft::role::follower, s);
}

/// Follower 1 (follower_with(1 1)) and its output after the first chunk,
/// bytes [0, 4), of snapshot 2/6 `snap` from leader 2 in term 2.
struct after_first_chunk {
  harness h;
  output out;
};
inline after_first_chunk receive_first_chunk(const std::string& snap) {
  auto h = follower_with(make_log({1, 1}));
  auto o = h.step(2, chunk(2, 2, lid(2, 6), snap, 0, 4));
  return {std::move(h), std::move(o)};
}

} // namespace raft::core_test
