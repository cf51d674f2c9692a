// The snapshot codec: round trips with sessions, deduplication after a
// restore, byte-identical snapshots on replicas, strictness, size.
#include <catch2/catch.hpp>

#include "actors/kv/kv_snapshot.hpp"
#include "tests/kv/kv_helpers.hpp"

using namespace raft;
using namespace raft::kv;
using namespace raft::kv::test;

namespace {

/// Applies `n` random (mostly valid) session commands to `s`, opening
/// sessions as needed (and again after an eviction).
void random_history(store& s, std::mt19937_64& rng, int n) {
  std::uniform_int_distribution<std::uint64_t> client(1, 6);
  std::uniform_int_distribution<int> op_dist(0, 4);
  std::uniform_int_distribution<int> coin(0, 3);
  if (s.next_index == 1) // large indexes, so large session ids: long varints
    s.next_index = (rng() >> 2) | 1;
  // Client slot -> (session id, last seq).
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> clients;
  for (int i = 0; i < n; ++i) {
    auto& [id, seq] = clients[client(rng)];
    if (id == 0) {
      id = s.open();
      seq = 0;
      continue;
    }
    if (coin(rng) != 0 || seq == 0)
      ++seq;
    auto key = random_string(rng, 3, true);
    auto value = random_string(rng, 4, true);
    command c;
    switch (op_dist(rng)) {
      case 0:
        c = get(key);
        break;
      case 1:
        c = put(key, value);
        break;
      case 2:
        c = append(key, value);
        break;
      case 3:
        c = del(key);
        break;
      default:
        c = coin(rng) == 0 ? cas_absent(key, value)
                           : cas(key, random_string(rng, 2, true), value);
    }
    if (s.run(as(id, seq, c)).why == reason::session_expired)
      id = 0;
  }
}

} // namespace

TEST_CASE("kv snapshot: an empty state round trips", "[kv][snapshot]") {
  kv_state st;
  auto bytes = encode_snapshot(st);
  CHECK(bytes == std::string{"KV\x01\x00\x00\x00", 6});
  auto back = decode_snapshot(bytes);
  REQUIRE(back);
  CHECK(*back == st);
}

TEST_CASE("kv snapshot: random states round trip exactly with sessions",
          "[kv][snapshot]") {
  for (auto seed : seeds()) {
    INFO(replay(seed));
    std::mt19937_64 rng{seed};
    for (int round = 0; round < 50; ++round) {
      store s;
      random_history(s, rng, 200);
      auto bytes = encode_snapshot(s.st);
      auto back = decode_snapshot(bytes);
      REQUIRE(back);
      REQUIRE(*back == s.st);
      REQUIRE(encode_snapshot(*back) == bytes);
      REQUIRE_FALSE(s.st.sessions.empty());
    }
  }
}

TEST_CASE("kv snapshot: indexes out of order still give a valid snapshot",
          "[kv][snapshot]") {
  kv_state st;
  kv_limits limits;
  apply(st, open_command(), index_t{9}, limits);
  apply(st, as(9, 1, put("a", "1")), index_t{10}, limits);
  apply(st, open_command(), index_t{3}, limits);
  apply(st, as(3, 1, put("b", "1")), index_t{4}, limits);
  CHECK(st.last_index == index_t{10});
  CHECK(st.sessions.size() == 2);
  auto back = decode_snapshot(encode_snapshot(st));
  REQUIRE(back);
  CHECK(*back == st);
}

TEST_CASE("kv snapshot: a retry after a restore is still deduplicated",
          "[kv][snapshot][session]") {
  store s;
  auto c77 = s.open();
  auto c88 = s.open();
  s.run(as(c77, 1, append("a", "x")));
  s.run(as(c88, 1, put("b", "1")));
  auto restored = decode_snapshot(encode_snapshot(s.st));
  REQUIRE(restored);
  store t;
  t.st = *restored;
  t.next_index = s.next_index;
  CHECK(t.run(as(c77, 1, append("a", "x"))).ok);
  CHECK(t.st.data.at("a") == "x");
  CHECK(t.run(as(c88, 1, put("b", "2"))).ok); // cached: b stays "1"
  CHECK(t.st.data.at("b") == "1");
  CHECK(t.run(as(c77, 2, append("a", "y"))).ok);
  CHECK(t.st.data.at("a") == "xy");
}

TEST_CASE("kv snapshot: registered sessions keep their ids, used or not",
          "[kv][snapshot][session][open]") {
  store s;
  s.next_index = 300; // ids above 127: two-byte varints
  auto used = s.open();   // 300
  auto unused = s.open(); // 301: opened, nothing run yet
  REQUIRE(s.run(as(used, 4, put("k", "v"))).ok);
  auto bytes = encode_snapshot(s.st);
  auto back = decode_snapshot(bytes);
  REQUIRE(back);
  CHECK(*back == s.st);
  CHECK(encode_snapshot(*back) == bytes);
  REQUIRE(back->sessions.count(300) == 1);
  REQUIRE(back->sessions.count(301) == 1);
  CHECK(back->sessions.at(unused).last_seq == 0);
  CHECK(back->sessions.at(unused).kind == op::open);
  CHECK(back->sessions.at(used).last_seq == 4);
  store t;
  t.st = *back;
  t.next_index = s.next_index;
  // Both ids still work after the restore; an unknown one still does not;
  // and a new open gets a fresh id (its index), not an old one.
  CHECK(t.run(as(used, 4, put("k", "again"))).ok); // cached
  CHECK(t.st.data.at("k") == "v");
  CHECK(t.run(as(unused, 1, put("u", "1"))).ok);
  CHECK(t.run(as(299, 1, put("z", "1"))) == failure(reason::session_expired));
  auto fresh = t.open();
  CHECK(fresh == t.next_index - 1);
  CHECK(fresh != used);
  CHECK(fresh != unused);
}

TEST_CASE("kv snapshot: replicas applying the same commands snapshot the "
          "same bytes",
          "[kv][snapshot][determinism]") {
  for (auto seed : seeds()) {
    INFO(replay(seed));
    std::mt19937_64 rng_a{seed};
    std::mt19937_64 rng_b{seed};
    store a;
    store b;
    random_history(a, rng_a, 1000);
    random_history(b, rng_b, 1000);
    CHECK(encode_snapshot(a.st) == encode_snapshot(b.st));
  }
}

TEST_CASE("kv snapshot: a small store snapshot stays well under 500 bytes",
          "[kv][snapshot][size]") {
  // kvraft TestSnapshotSize3B: 1 key, a couple of clients.
  store s;
  s.next_index = 0x1234567890abcdefULL; // long session ids and indexes
  auto c1 = s.open();
  auto c2 = s.open();
  for (std::uint64_t i = 1; i <= 200; ++i) {
    s.run(as(c1, 2 * i - 1, put("x", "0")));
    s.run(as(c2, 2 * i - 1, get("x")));
    s.run(as(c1, 2 * i, put("x", "1")));
    s.run(as(c2, 2 * i, get("x")));
  }
  auto bytes = encode_snapshot(s.st);
  INFO("snapshot bytes: " << bytes.size());
  CHECK(bytes.size() < 100);
  CHECK(s.st.sessions.size() == 2);
}

TEST_CASE("kv snapshot: malformed snapshots are rejected without throwing",
          "[kv][snapshot]") {
  store s;
  auto c1 = s.open(); // 1
  auto c2 = s.open(); // 2
  s.run(as(c1, 1, put("a", "1")));
  s.run(as(c2, 1, put("b", "2")));
  auto good = encode_snapshot(s.st);
  REQUIRE(decode_snapshot(good));
  for (std::size_t n = 0; n < good.size(); ++n)
    CHECK_FALSE(decode_snapshot(std::string_view{good}.substr(0, n)));
  CHECK_FALSE(decode_snapshot(good + '\0'));
  auto bad = [&](std::size_t at, char to) {
    auto b = good;
    b[at] = to;
    return decode_snapshot(b);
  };
  CHECK_FALSE(bad(0, 'X'));  // magic
  CHECK_FALSE(bad(2, 2));    // version
  // Layout: K V 1 | last=4 | 2 | 1 a 1 1 | 1 b 1 2 | 2 | session 1 (id 1,
  // seq 1, last_index 3, put, none, none, ok) | session 2
  REQUIRE(good.substr(5, 8) == std::string{"\x01" "a\x01" "1\x01" "b\x01" "2"});
  REQUIRE(good.substr(13, 8)
          == std::string{"\x02\x01\x01\x03\x01\x00\x00\x02", 8});
  CHECK_FALSE(bad(6, 'c'));  // keys out of order ("c" then "b")
  CHECK_FALSE(bad(10, 'a')); // duplicate key
  CHECK_FALSE(bad(14, 2));   // client ids 2, 2
  CHECK_FALSE(bad(14, 0));   // client id 0
  CHECK_FALSE(bad(15, 0));   // seq 0 with a put
  CHECK_FALSE(bad(16, 5));   // session last_index 5 > state last_index 4
  CHECK_FALSE(bad(17, 5));   // op open with seq 1
  CHECK_FALSE(bad(17, 6));   // op 6
  CHECK_FALSE(bad(18, 5));   // errc too_large with reason none
  CHECK_FALSE(bad(20, 4));   // reserved flag bit
  CHECK(bad(20, 0));         // flags 0 are fine
  // An opened, unused session: seq 0 goes with op open and nothing else.
  auto opened = good;
  opened[15] = 0; // seq 0
  opened[17] = 5; // open
  CHECK(decode_snapshot(opened));
  opened[17] = 1; // put
  CHECK_FALSE(decode_snapshot(opened));
}

TEST_CASE("kv snapshot: random garbage never crashes", "[kv][snapshot][fuzz]") {
  for (auto seed : seeds()) {
    INFO(replay(seed));
    std::mt19937_64 rng{seed};
    std::uniform_int_distribution<std::size_t> len(0, 48);
    std::uniform_int_distribution<int> byte(0, 255);
    store s;
    random_history(s, rng, 20);
    auto good = encode_snapshot(s.st);
    for (int i = 0; i < 50000; ++i) {
      std::string b;
      if (i % 2 == 0) {
        b = "KV\x01";
        b.resize(3 + len(rng));
        for (std::size_t j = 3; j < b.size(); ++j)
          b[j] = static_cast<char>(byte(rng));
      } else { // flip one byte of a good snapshot
        b = good;
        b[std::uniform_int_distribution<std::size_t>(0, b.size() - 1)(rng)]
          = static_cast<char>(byte(rng));
      }
      std::optional<kv_state> st;
      REQUIRE_NOTHROW(st = decode_snapshot(b));
      if (st)
        REQUIRE(encode_snapshot(*st) == b);
    }
  }
}
