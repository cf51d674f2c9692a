// Building blocks of the core tests: id literals, configs, entries and logs,
// and one maker per message (core_harness.hpp includes this).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "actors/core/config.hpp"
#include "messages/crc32.hpp"
#include "actors/core/raft_log.hpp"
#include "messages/node_messages.hpp"
#include "messages/raft_messages.hpp"

namespace raft::core_test {

using core::config;

// -- building blocks ---------------------------------------------------------

inline constexpr term_t operator""_t(unsigned long long x) {
  return term_t{static_cast<std::uint64_t>(x)};
}
inline constexpr index_t operator""_i(unsigned long long x) {
  return index_t{static_cast<std::uint64_t>(x)};
}
inline constexpr server_id operator""_s(unsigned long long x) {
  return server_id{static_cast<std::uint32_t>(x)};
}

/// Config of server `self` in the cluster {1, ..., n}.
inline config cluster_config(std::uint32_t self, std::uint32_t n,
                             std::uint64_t seed = 1) {
  config cfg;
  cfg.id = server_id{self};
  for (std::uint32_t i = 1; i <= n; ++i)
    cfg.members.push_back(server_id{i});
  cfg.rng_seed = seed;
  return cfg;
}

/// The entry a test log holds at (term, index): data "c<index>t<term>", so
/// entries of different terms at one index differ in data too.
inline log_entry entry(std::uint64_t term, std::uint64_t index) {
  log_entry e;
  e.term = term_t{term};
  e.index = index_t{index};
  e.data = "c" + std::to_string(index) + "t" + std::to_string(term);
  return e;
}

inline log_entry entry(std::uint64_t term, std::uint64_t index,
                       std::string data) {
  auto e = entry(term, index);
  e.data = std::move(data);
  return e;
}

/// A log starting at `first` whose entries have the given terms.
inline log_entries make_log(std::initializer_list<std::uint64_t> terms,
                            std::uint64_t first = 1) {
  log_entries result;
  auto i = first;
  for (auto t : terms)
    result.push_back(entry(t, i++));
  return result;
}

inline log_entries slice_of(const log_entries& xs, std::uint64_t from,
                            std::uint64_t to) {
  log_entries result;
  for (const auto& e : xs)
    if (e.index.value >= from && e.index.value <= to)
      result.push_back(e);
  return result;
}

inline log_entries all_entries(const core::raft_log& log) {
  log_entries result;
  for (auto i = log.first_index(); i <= log.last_index(); i = i.next())
    result.push_back(log.at(i));
  return result;
}

/// How many entries the log holds after its base.
inline std::uint64_t entry_count(const core::raft_log& log) {
  return log.last_index().value - log.base().index.value;
}

inline append_entries ae(std::uint64_t term, std::uint32_t leader,
                         log_id prev, log_entries entries,
                         std::uint64_t commit) {
  append_entries m;
  m.term = term_t{term};
  m.leader_id = server_id{leader};
  m.prev_log_index = prev.index;
  m.prev_log_term = prev.term;
  m.entries = std::move(entries);
  m.leader_commit = index_t{commit};
  return m;
}

inline append_entries_reply ae_ok(std::uint64_t term, std::uint64_t prev,
                                  std::uint64_t match) {
  append_entries_reply r;
  r.term = term_t{term};
  r.success = true;
  r.prev_log_index = index_t{prev};
  r.match_index = index_t{match};
  return r;
}

inline append_entries_reply ae_reject(std::uint64_t term, std::uint64_t prev,
                                      std::uint64_t xterm,
                                      std::uint64_t xindex,
                                      std::uint64_t xlen) {
  append_entries_reply r;
  r.term = term_t{term};
  r.success = false;
  r.prev_log_index = index_t{prev};
  r.conflict_term = term_t{xterm};
  r.conflict_index = index_t{xindex};
  r.log_length = index_t{xlen};
  return r;
}

inline request_vote rv(std::uint64_t term, std::uint32_t cand, log_id last) {
  return request_vote{term_t{term}, server_id{cand}, last.index, last.term};
}

inline request_vote_reply rv_reply(std::uint64_t term, bool granted) {
  return request_vote_reply{term_t{term}, granted};
}

inline log_id lid(std::uint64_t term, std::uint64_t index) {
  return log_id{term_t{term}, index_t{index}};
}

inline persist_batch batch(hard_state hs, std::uint64_t truncate_from,
                           log_entries entries, log_id last) {
  return persist_batch{hs, index_t{truncate_from}, std::move(entries), last,
                       {}};
}

/// A batch that installs a snapshot first.
inline persist_batch batch(hard_state hs, log_id snap, std::string data,
                           std::uint64_t truncate_from, log_entries entries,
                           log_id last) {
  return persist_batch{hs, index_t{truncate_from}, std::move(entries), last,
                       {snapshot_install{snap, std::move(data)}}};
}

/// A batch that installs the snapshot received from the leader (`data`,
/// staged in the persister's staging area chunk by chunk) first.
inline persist_batch staged_batch(hard_state hs, log_id snap,
                                  const std::string& data,
                                  std::uint64_t truncate_from,
                                  log_entries entries, log_id last) {
  return persist_batch{
    hs, index_t{truncate_from}, std::move(entries), last,
    {snapshot_install::staged_bytes(snap, data.size(), raft::crc32(data))}};
}

inline hard_state hs(std::uint64_t term, std::uint32_t vote) {
  return hard_state{term_t{term}, server_id{vote}};
}

} // namespace raft::core_test
