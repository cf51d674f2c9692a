// A deterministic, fault-injecting network for the core simulation
// (docs/architecture.md §8.2, after etcd raft_test.go `network` and Scylla's
// randomized_nemesis_test min-heap network).
//
// Messages are delivered in order of logical delivery time (milliseconds)
// from a std::map keyed by (time, sequence number): two runs with the same
// seed and the same sends deliver the same messages at the same times. Only
// ordered containers are used, so iteration order never depends on hashing
// or addresses.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "messages/raft_messages.hpp"

namespace raft::sim {

/// The simulation's only randomness: a seeded generator with helpers that do
/// not depend on the standard library's distribution implementations.
class rng {
public:
  explicit rng(std::uint64_t seed) : gen_(seed) {}

  std::uint64_t next() { return gen_(); }

  /// Uniform in [0, n); 0 when n == 0.
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : gen_() % n; }

  /// Uniform in [lo, hi] (inclusive); lo when hi < lo.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    if (hi <= lo)
      return lo;
    return lo
           + static_cast<std::int64_t>(
             below(static_cast<std::uint64_t>(hi - lo) + 1));
  }

  /// True with probability p / 1000.
  bool per_mille(int p) {
    return p > 0 && below(1000) < static_cast<std::uint64_t>(p);
  }

private:
  std::mt19937_64 gen_;
};

struct network_options {
  /// Normal one-way delay, uniform in [min_delay, max_delay] ms.
  std::int64_t min_delay = 1;
  std::int64_t max_delay = 10;
  /// Messages lost at send time, per mille.
  int drop_per_mille = 0;
  /// Messages delivered twice (the copy with its own delay), per mille.
  int duplicate_per_mille = 0;
  /// Messages held back for up to long_delay_max ms (reordering), per mille.
  int long_delay_per_mille = 0;
  std::int64_t long_delay_max = 200;
};

class network {
public:
  struct counters {
    std::uint64_t sent = 0;
    std::uint64_t dropped = 0;     ///< lost at random
    std::uint64_t cut = 0;         ///< lost to a cut link
    std::uint64_t duplicated = 0;
    std::uint64_t delayed = 0;     ///< given a long delay
    std::uint64_t delivered = 0;
  };

  explicit network(std::uint64_t seed) : rng_(seed) {}

  network_options options;

  // -- topology ---------------------------------------------------------------

  /// Cuts the link between a and b in both directions.
  void cut(server_id a, server_id b) { cut_.insert(key(a, b)); }

  /// Restores the link between a and b.
  void heal(server_id a, server_id b) { cut_.erase(key(a, b)); }

  /// Cuts every link of `a`.
  void isolate(server_id a, const std::vector<server_id>& all) {
    for (auto b : all)
      if (b != a)
        cut(a, b);
  }

  /// Cuts every link between the two sides of a partition.
  void partition(const std::set<server_id>& side,
                 const std::vector<server_id>& all) {
    for (auto a : all)
      for (auto b : all)
        if (a < b && side.count(a) != side.count(b))
          cut(a, b);
  }

  /// Restores every link.
  void heal_all() { cut_.clear(); }

  bool connected(server_id a, server_id b) const {
    return cut_.count(key(a, b)) == 0;
  }

  // -- traffic ----------------------------------------------------------------

  /// Hands `env`, sent at time `now`, to the network.
  void send(const envelope& env, std::int64_t now) {
    ++stats_.sent;
    if (!connected(env.from, env.to)) {
      ++stats_.cut;
      return;
    }
    if (rng_.per_mille(options.drop_per_mille)) {
      ++stats_.dropped;
      return;
    }
    enqueue(env, now);
    if (rng_.per_mille(options.duplicate_per_mille)) {
      ++stats_.duplicated;
      enqueue(env, now);
    }
  }

  /// Delivery time of the next queued message.
  std::optional<std::int64_t> next_time() const {
    if (queue_.empty())
      return std::nullopt;
    return queue_.begin()->first.first;
  }

  /// Removes the earliest message if it is due at `now`. A message whose
  /// link was cut while it was in flight is lost (returns nothing, counts as
  /// cut); call again for the next one.
  std::optional<envelope> pop_due(std::int64_t now) {
    if (queue_.empty() || queue_.begin()->first.first > now)
      return std::nullopt;
    auto env = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    if (!connected(env.from, env.to)) {
      ++stats_.cut;
      return std::nullopt;
    }
    ++stats_.delivered;
    return env;
  }

  /// Drops everything in flight.
  void clear() { queue_.clear(); }

  std::size_t in_flight() const { return queue_.size(); }

  const counters& stats() const { return stats_; }

private:
  static std::pair<server_id, server_id> key(server_id a, server_id b) {
    return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
  }

  void enqueue(const envelope& env, std::int64_t now) {
    auto delay = rng_.between(options.min_delay, options.max_delay);
    if (rng_.per_mille(options.long_delay_per_mille)) {
      ++stats_.delayed;
      delay += rng_.between(0, options.long_delay_max);
    }
    queue_.emplace(std::make_pair(now + delay, seq_++), env);
  }

  rng rng_;
  std::map<std::pair<std::int64_t, std::uint64_t>, envelope> queue_;
  std::uint64_t seq_ = 0;
  std::set<std::pair<server_id, server_id>> cut_;
  counters stats_;
};

} // namespace raft::sim
