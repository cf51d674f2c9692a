// Client sessions: exactly-once for retried writes, stale and reused
// sequence numbers, deterministic LRU eviction.
#include <catch2/catch.hpp>

#include "actors/kv/kv_snapshot.hpp"
#include "tests/kv/kv_helpers.hpp"

using namespace raft;
using namespace raft::kv;
using namespace raft::kv::test;

TEST_CASE("kv session: a retried append is applied once with the same reply",
          "[kv][session]") {
  store s;
  auto first = s.run(as(9, 1, append("a", "x")));
  auto retry = s.run(as(9, 1, append("a", "x")));
  CHECK(first.error == errc::none);
  CHECK(retry == first);
  CHECK(s.st.data.at("a") == "x");
  CHECK(s.run(as(9, 2, append("a", "y"))).error == errc::none);
  CHECK(s.run(as(9, 2, append("a", "y"))).error == errc::none);
  CHECK(s.st.data.at("a") == "xy");
  const auto& sess = s.st.sessions.at(9);
  CHECK(sess.last_seq == 2);
  CHECK(sess.kind == op::append);
  CHECK(sess.last_index == index_t{4}); // the retry counts as a use
}

TEST_CASE("kv session: a retried del and cas return the first outcome",
          "[kv][session]") {
  store s;
  s.run(put("a", "1"));
  auto d = s.run(as(1, 1, del("a")));
  CHECK(d.ok);
  CHECK(s.run(as(1, 1, del("a"))) == d); // not "did not exist"
  s.run(put("b", "1"));
  auto c = s.run(as(1, 2, cas("b", "1", "2")));
  CHECK(c.ok);
  CHECK(s.run(as(1, 2, cas("b", "1", "2"))) == c); // not "mismatch"
  CHECK(s.st.data.at("b") == "2");
}

TEST_CASE("kv session: a retried get reads the current value",
          "[kv][session]") {
  store s;
  s.run(put("a", "1"));
  auto r = s.run(as(3, 1, get("a")));
  CHECK(r.value == "1");
  CHECK(s.st.sessions.at(3).last_reply.value.empty()); // nothing cached
  s.run(put("a", "2"));
  CHECK(s.run(as(3, 1, get("a"))).value == "2");
  CHECK(s.st.sessions.at(3).last_seq == 1);
}

TEST_CASE("kv session: an older seq is stale and changes nothing",
          "[kv][session]") {
  store s;
  s.run(as(4, 1, append("a", "x")));
  s.run(as(4, 2, append("a", "y")));
  auto before = s.st;
  CHECK(s.run(as(4, 1, append("a", "x"))) == failure(reason::stale_seq));
  CHECK(s.st.data == before.data);
  CHECK(s.st.sessions == before.sessions);
  CHECK(s.run(as(4, 1, get("a"))).why == reason::stale_seq);
}

TEST_CASE("kv session: a reused seq with another op is rejected",
          "[kv][session]") {
  store s;
  s.run(as(4, 1, put("a", "x")));
  CHECK(s.run(as(4, 1, append("a", "y"))) == failure(reason::seq_reused));
  CHECK(s.st.data.at("a") == "x");
}

TEST_CASE("kv session: gaps in seq are allowed and seq 1 opens a session",
          "[kv][session]") {
  store s;
  CHECK(s.run(as(5, 2, put("a", "x"))) == failure(reason::session_expired));
  CHECK(s.st.data.empty());
  CHECK(s.st.sessions.empty());
  CHECK(s.run(as(5, 1, put("a", "x"))).ok);
  CHECK(s.run(as(5, 7, put("a", "y"))).ok);
  CHECK(s.st.sessions.at(5).last_seq == 7);
}

TEST_CASE("kv session: a failed command consumes its seq and its error is "
          "cached",
          "[kv][session]") {
  store s;
  s.limits.max_value_bytes = 2;
  auto r = s.run(as(6, 1, put("a", "xyz")));
  CHECK(r == failure(reason::value_too_large));
  CHECK(s.run(as(6, 1, put("a", "xyz"))) == r);
  CHECK(s.st.sessions.at(6).last_reply == r);
  CHECK(s.st.data.empty());
}

TEST_CASE("kv session: the least recently used session is evicted",
          "[kv][session]") {
  store s;
  s.limits.max_sessions = 3;
  s.run(as(10, 1, append("a", "1"))); // index 1
  s.run(as(20, 1, append("a", "2"))); // index 2
  s.run(as(30, 1, append("a", "3"))); // index 3
  s.run(as(10, 1, append("a", "1"))); // index 4: a retry uses session 10
  s.run(as(40, 1, append("a", "4"))); // index 5: evicts 20 (last use 2)
  CHECK(s.st.sessions.size() == 3);
  CHECK(s.st.sessions.count(20) == 0);
  CHECK(s.st.data.at("a") == "1234");
  // Client 20's next request cannot be deduplicated: a clear error, no
  // silent double apply.
  CHECK(s.run(as(20, 2, append("a", "2")))
        == failure(reason::session_expired));
  CHECK(s.st.data.at("a") == "1234");
  // Session 10 survived and still deduplicates.
  CHECK(s.run(as(10, 1, append("a", "1"))).ok);
  CHECK(s.st.data.at("a") == "1234");
}

TEST_CASE("kv session: two replicas evict the same sessions",
          "[kv][session][determinism]") {
  for (auto seed : seeds()) {
    INFO(replay(seed));
    std::mt19937_64 rng{seed};
    std::uniform_int_distribution<std::uint64_t> client(1, 40);
    std::uniform_int_distribution<int> step(0, 9);
    store a;
    store b;
    a.limits.max_sessions = b.limits.max_sessions = 8;
    // Client slot -> (its current client id, its last seq).
    std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> clients;
    std::size_t expired = 0;
    for (int i = 0; i < 3000; ++i) {
      auto slot = client(rng);
      auto& [id, seq] = clients[slot];
      if (id == 0)
        id = slot;
      auto k = step(rng);
      if (seq == 0 || k >= 3)
        ++seq; // a new request; otherwise a retry of the last one
      auto key = "k" + std::to_string(slot % 3);
      auto c = k == 9 ? as(id, seq, get(key)) : as(id, seq, append(key, "x"));
      auto ra = a.run(c);
      auto rb = b.run(c);
      REQUIRE(ra == rb);
      REQUIRE(a.st.sessions.size() <= 8);
      if (ra.why == reason::session_expired) {
        ++expired; // start over as a new client
        id += 100;
        seq = 0;
      }
    }
    CHECK(expired > 0);
    CHECK(a.st == b.st);
    CHECK(encode_snapshot(a.st) == encode_snapshot(b.st));
  }
}
