// Transcripts of the core's output for the core tests: every part of an
// output as one line (messages/to_string.cpp), so a test can compare a whole
// output with what the paper's rule says it must be.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "actors/core/output.hpp"
#include "messages/to_string.hpp"

namespace raft::core_test {

using core::output;

inline std::string describe(const log_entries& xs) {
  std::string result = "{";
  for (const auto& e : xs) {
    if (result.size() > 1)
      result += ", ";
    result += to_string(e);
  }
  return result + "}";
}

/// One line per message, with the entries of an append_entries spelled out.
inline std::string line(const envelope& m) {
  auto result = to_string(m);
  if (auto x = std::get_if<append_entries>(&m.msg); x && !x->entries.empty())
    result += " " + describe(x->entries);
  return result;
}

inline std::string line(server_id from, server_id to, rpc_message msg) {
  return line(envelope{from, to, std::move(msg)});
}

inline std::string line(std::uint32_t from, std::uint32_t to,
                        rpc_message msg) {
  return line(server_id{from}, server_id{to}, std::move(msg));
}

inline std::string line(const persist_batch& b) {
  auto result = to_string(b);
  if (!b.entries.empty())
    result += " " + describe(b.entries);
  return result;
}

/// Messages sorted by destination (stable: the order of messages to one
/// peer matters and is kept).
inline std::vector<envelope> by_destination(std::vector<envelope> xs) {
  std::stable_sort(xs.begin(), xs.end(),
                   [](const envelope& a, const envelope& b) {
                     return a.to < b.to;
                   });
  return xs;
}

/// The whole output as transcript lines: "persist ...", one line per
/// message (sorted by destination), "apply {...}".
inline std::vector<std::string> transcript(const output& o) {
  std::vector<std::string> result;
  if (o.persist)
    result.push_back(line(*o.persist));
  for (const auto& m : by_destination(o.messages))
    result.push_back(line(m));
  if (o.apply_snapshot)
    result.push_back(to_string(*o.apply_snapshot));
  if (!o.committed.empty())
    result.push_back("apply " + describe(o.committed));
  for (const auto& r : o.reads_ready)
    result.push_back(core::to_string(r));
  for (const auto& r : o.reads_failed)
    result.push_back(core::to_string(r));
  return result;
}

using lines = std::vector<std::string>;

/// Several outputs folded into one (persist batches kept in order).
struct effects {
  std::vector<persist_batch> batches;
  std::vector<envelope> messages;
  std::vector<apply_msg> snapshots;
  log_entries committed;
  std::vector<core::read_state> reads_ready;
  std::vector<core::read_failure> reads_failed;

  void add(output o) {
    reads_ready.insert(reads_ready.end(), o.reads_ready.begin(),
                       o.reads_ready.end());
    reads_failed.insert(reads_failed.end(), o.reads_failed.begin(),
                        o.reads_failed.end());
    if (o.persist)
      batches.push_back(std::move(*o.persist));
    if (o.apply_snapshot)
      snapshots.push_back(std::move(*o.apply_snapshot));
    messages.insert(messages.end(), o.messages.begin(), o.messages.end());
    committed.insert(committed.end(), o.committed.begin(), o.committed.end());
  }

  std::vector<std::string> transcript() const {
    std::vector<std::string> result;
    for (const auto& b : batches)
      result.push_back(line(b));
    for (const auto& m : by_destination(messages))
      result.push_back(line(m));
    for (const auto& a : snapshots)
      result.push_back(to_string(a));
    if (!committed.empty())
      result.push_back("apply " + describe(committed));
    for (const auto& r : reads_ready)
      result.push_back(core::to_string(r));
    for (const auto& r : reads_failed)
      result.push_back(core::to_string(r));
    return result;
  }

  /// Only the message lines.
  std::vector<std::string> sent() const {
    std::vector<std::string> result;
    for (const auto& m : by_destination(messages))
      result.push_back(line(m));
    return result;
  }
};

inline std::vector<std::string> sent(const output& o) {
  std::vector<std::string> result;
  for (const auto& m : by_destination(o.messages))
    result.push_back(line(m));
  return result;
}

/// The lines of `xs`, each followed by a newline (for INFO of a list of
/// violations).
inline std::string joined(const std::vector<std::string>& xs) {
  std::string result;
  for (const auto& x : xs)
    result += x + "\n";
  return result;
}

} // namespace raft::core_test
