#include "tests/kit/linearizability/random_history.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>

namespace raft::testing::lin {

std::vector<operation> random_history(const random_history_config& cfg) {
  std::mt19937_64 rng{cfg.seed};
  // Modulo instead of std distributions: the same history on every library.
  auto draw = [&rng](std::uint64_t n) { return n == 0 ? 0 : rng() % n; };
  struct drawn {
    operation op;
    /// The linearization point, if the operation takes effect.
    std::int64_t point = 0;
    bool applies = true;
  };
  std::vector<drawn> ops;
  ops.reserve(cfg.operations);
  std::vector<std::int64_t> free_at(static_cast<std::size_t>(cfg.clients), 0);
  std::map<std::string, std::string> last_put; // a plausible cas "expected"
  for (std::size_t i = 0; i < cfg.operations; ++i) {
    // The client that is free earliest (ties: the lowest number).
    auto c = static_cast<std::size_t>(
      std::min_element(free_at.begin(), free_at.end()) - free_at.begin());
    drawn d;
    d.op.client = static_cast<int>(c);
    auto key = "k" + std::to_string(draw(static_cast<std::uint64_t>(cfg.keys)));
    auto id = std::to_string(i);
    auto p = static_cast<int>(draw(100));
    if (p < cfg.get_percent) {
      d.op.in = kv_get(key);
    } else if ((p -= cfg.get_percent) < cfg.put_percent) {
      d.op.in = kv_put(key, "p" + id);
      last_put[key] = "p" + id;
    } else if ((p -= cfg.put_percent) < cfg.append_percent) {
      d.op.in = kv_append(key, "a" + id + ",");
    } else if ((p -= cfg.append_percent) < cfg.cas_percent) {
      auto it = last_put.find(key);
      d.op.in = kv_cas(key, it == last_put.end() ? "p?" : it->second,
                       "c" + id);
    } else {
      d.op.in = kv_del(key);
    }
    auto duration = 1 + static_cast<std::int64_t>(
                          draw(static_cast<std::uint64_t>(cfg.max_duration)));
    d.op.call = free_at[c];
    d.op.ret = d.op.call + duration;
    d.point = d.op.call + static_cast<std::int64_t>(
                            draw(static_cast<std::uint64_t>(duration) + 1));
    if (static_cast<int>(draw(100)) < cfg.unknown_percent) {
      d.op.out.unknown = true;
      if (d.op.in.op != kv_input::kind::get)
        d.applies = draw(2) == 0;
    }
    free_at[c] = d.op.ret
                 + static_cast<std::int64_t>(
                   draw(static_cast<std::uint64_t>(cfg.max_gap) + 1));
    ops.push_back(std::move(d));
  }
  // Execute in order of the linearization points (ties: order of call).
  std::vector<std::size_t> order(ops.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) {
    return ops[a].point < ops[b].point;
  });
  std::map<std::string, kv_state> kv;
  for (auto i : order) {
    auto& d = ops[i];
    if (!d.applies)
      continue;
    auto out = kv_apply(kv[d.op.in.key], d.op.in);
    if (!d.op.out.unknown)
      d.op.out = std::move(out);
  }
  std::vector<operation> result;
  result.reserve(ops.size());
  for (auto& d : ops)
    result.push_back(std::move(d.op));
  return result;
}

} // namespace raft::testing::lin
