#include "tests/kit/linearizability/checker.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <stdexcept>
#include <thread>
#include <utility>

#include "tests/kit/linearizability/reads.hpp"
#include "tests/kit/linearizability/search.hpp"

namespace raft::testing::lin {

namespace {

using clock_type = std::chrono::steady_clock;

/// The deadline `budget` after `start`, or time_point::max() for no limit.
clock_type::time_point deadline_of(clock_type::time_point start,
                                   std::chrono::milliseconds budget) {
  auto room = std::chrono::duration_cast<std::chrono::milliseconds>(
    clock_type::time_point::max() - start);
  if (budget >= room)
    return clock_type::time_point::max();
  return start + budget;
}

} // namespace

const char* to_string(verdict v) {
  switch (v) {
    case verdict::ok:
      return "ok";
    case verdict::illegal:
      return "illegal";
    case verdict::unknown:
      return "unknown";
  }
  return "?";
}

const key_result* check_result::find(const std::string& key) const {
  for (const auto& k : keys)
    if (k.key == key)
      return &k;
  return nullptr;
}

check_result check(const std::vector<operation>& history,
                   std::chrono::milliseconds budget) {
  auto start = clock_type::now();
  auto deadline = deadline_of(start, budget);
  // Partition by key (std::map: sorted, so the result is deterministic).
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < history.size(); ++i) {
    const auto& op = history[i];
    if (!op.out.unknown && op.ret < op.call)
      throw std::invalid_argument("lin::check: operation "
                                  + std::to_string(i) + " (" + to_string(op)
                                  + ") returns before its call");
    auto& ops = by_key[op.in.key];
    if (!(op.out.unknown && op.in.op == kv_input::kind::get))
      ops.push_back(i);
  }
  std::vector<detail::partition> parts;
  parts.reserve(by_key.size());
  for (auto& [key, ops] : by_key)
    parts.push_back({key, detail::drop_unobserved(history, std::move(ops))});
  // Largest keys first, so a big key does not start last.
  std::vector<std::size_t> order(parts.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) {
    return parts[a].ops.size() > parts[b].ops.size();
  });
  check_result result;
  result.keys.resize(parts.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (auto i = next++; i < order.size(); i = next++) {
      result.keys[order[i]] = detail::search_key(history, parts[order[i]],
                                                 deadline);
    }
  };
  auto threads = std::max(1u, std::thread::hardware_concurrency());
  auto n = std::min<std::size_t>(threads, parts.size());
  if (n <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < n; ++i)
      pool.emplace_back(worker);
    for (auto& t : pool)
      t.join();
  }
  result.v = verdict::ok;
  for (const auto& k : result.keys) {
    if (k.v == verdict::illegal)
      result.v = verdict::illegal;
    else if (k.v == verdict::unknown && result.v == verdict::ok)
      result.v = verdict::unknown;
  }
  result.elapsed = clock_type::now() - start;
  return result;
}

// -- describe ----------------------------------------------------------------

namespace {

std::string interval(const operation& op) {
  auto ret = op.out.unknown || op.ret == never_returned
               ? std::string{"?"}
               : std::to_string(op.ret);
  return "[client " + std::to_string(op.client)
         + ", t=" + std::to_string(op.call) + ".." + ret + "]";
}

} // namespace

std::string describe(const check_result& result) {
  std::size_t ops = 0;
  for (const auto& k : result.keys)
    ops += k.operations;
  auto secs = std::chrono::duration<double>(result.elapsed).count();
  if (result.v == verdict::ok)
    return "ok: " + std::to_string(result.keys.size()) + " keys, "
           + std::to_string(ops) + " operations linearizable ("
           + std::to_string(secs) + " s)";
  std::string text;
  std::string timed_out;
  for (const auto& k : result.keys) {
    if (k.v == verdict::unknown) {
      timed_out += (timed_out.empty() ? "" : ", ") + quote(k.key) + " ("
                   + std::to_string(k.operations) + " ops)";
      continue;
    }
    if (k.v != verdict::illegal)
      continue;
    if (!text.empty())
      text += '\n';
    text += "illegal: key " + quote(k.key) + ": after "
            + std::to_string(k.prefix.size()) + " linearized ops (value "
            + (k.state ? quote(*k.state) : std::string{"absent"}) + "), ";
    if (k.unreachable && !k.stuck_operations.empty()) {
      const auto& r = k.stuck_operations.front();
      text += to_string(r) + ' ' + interval(r)
              + " can never be linearized: no operation left can produce "
                "what it read (stuck at t="
              + std::to_string(k.stuck_at) + ")";
      continue;
    }
    text += "none of ";
    constexpr std::size_t shown = 5;
    for (std::size_t i = 0; i < k.stuck_operations.size() && i < shown; ++i) {
      if (i > 0)
        text += ", ";
      text += to_string(k.stuck_operations[i]) + ' '
              + interval(k.stuck_operations[i]);
    }
    if (k.stuck_operations.size() > shown)
      text += " and " + std::to_string(k.stuck_operations.size() - shown)
              + " more";
    text += " can go next (stuck at t=" + std::to_string(k.stuck_at) + ")";
  }
  if (!timed_out.empty()) {
    if (!text.empty())
      text += '\n';
    text += "unknown: the check ran out of time (" + std::to_string(secs)
            + " s) on key(s) " + timed_out;
  }
  return text;
}

} // namespace raft::testing::lin
