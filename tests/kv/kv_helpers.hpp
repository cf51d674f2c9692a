// Helpers of the KV tests: command builders, a store that numbers log
// indexes, and a seeded random command generator.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "actors/kv/kv_command.hpp"
#include "actors/kv/kv_limits.hpp"
#include "actors/kv/kv_store.hpp"
#include "tests/support/run_options.hpp"

namespace raft::kv::test {

inline command make(op kind, std::string key, std::string value = {},
                    std::string expected = {}) {
  command c;
  c.kind = kind;
  c.key = std::move(key);
  c.value = std::move(value);
  c.expected = std::move(expected);
  return c;
}

inline command get(std::string k) { return make(op::get, std::move(k)); }
inline command put(std::string k, std::string v) {
  return make(op::put, std::move(k), std::move(v));
}
inline command append(std::string k, std::string v) {
  return make(op::append, std::move(k), std::move(v));
}
inline command del(std::string k) { return make(op::del, std::move(k)); }
inline command cas(std::string k, std::string expected, std::string v) {
  return make(op::cas, std::move(k), std::move(v), std::move(expected));
}
inline command cas_absent(std::string k, std::string v) {
  auto c = make(op::cas, std::move(k), std::move(v));
  c.expect_absent = true;
  return c;
}

/// `c` as request `seq` of client `client`.
inline command as(std::uint64_t client, std::uint64_t seq, command c) {
  c.client_id = client;
  c.seq = seq;
  return c;
}

/// A kv_state plus the next log index to apply at.
struct store {
  kv_state st;
  kv_limits limits;
  std::uint64_t next_index = 1;

  reply run(const command& c) {
    return apply(st, c, index_t{next_index++}, limits);
  }

  /// Opens a session (an op::open at the next index) and returns its id,
  /// which is that index; 0 if the open failed.
  std::uint64_t open() { return session_id_of(run(open_command())); }
};

/// A random string of 0..max bytes, from a small alphabet when `small`
/// (so keys collide), else any byte.
inline std::string random_string(std::mt19937_64& rng, std::size_t max,
                                 bool small) {
  std::uniform_int_distribution<std::size_t> len(0, max);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> letter('a', 'c');
  std::string s(len(rng), '\0');
  for (auto& ch : s)
    ch = static_cast<char>(small ? letter(rng) : byte(rng));
  return s;
}

/// Any command the codec can carry (valid or not): random op, ids from the
/// whole 64-bit range, random bytes.
inline command random_command(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> op_dist(0, 5); // every op, open too
  std::uniform_int_distribution<int> coin(0, 1);
  std::uniform_int_distribution<int> bits(0, 64);
  auto any_u64 = [&] {
    auto b = bits(rng);
    return b == 0 ? std::uint64_t{0} : rng() >> (64 - b);
  };
  command c;
  c.kind = static_cast<op>(op_dist(rng));
  c.client_id = any_u64();
  c.seq = any_u64();
  c.key = random_string(rng, 40, false);
  c.value = random_string(rng, coin(rng) ? 3 : 300, false);
  c.expected = random_string(rng, 20, false);
  c.expect_absent = coin(rng) == 1;
  return c;
}

/// The seeds of a randomized test (--seeds N / --seed S / RAFT_SEED).
inline std::vector<std::uint64_t> seeds(std::uint64_t at_least = 1) {
  return raft::testing::run_options::global().seed_list(at_least);
}

inline std::string replay(std::uint64_t seed) {
  return raft::testing::run_options::replay_hint(seed);
}

} // namespace raft::kv::test
