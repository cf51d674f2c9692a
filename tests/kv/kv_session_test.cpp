// Client sessions: opening them (op::open, Raft thesis §6.3), exactly-once
// for retried writes, stale and reused sequence numbers, unknown sessions,
// deterministic LRU eviction.
#include <catch2/catch.hpp>

#include "actors/kv/kv_snapshot.hpp"
#include "tests/kv/kv_helpers.hpp"

using namespace raft;
using namespace raft::kv;
using namespace raft::kv::test;

TEST_CASE("kv session: an open returns its log index as the session id",
          "[kv][session][open]") {
  store s;
  s.run(put("a", "1")); // index 1
  s.next_index = 7;
  auto r = s.run(open_command()); // index 7
  CHECK(r.error == errc::none);
  CHECK(r.ok);
  CHECK(r.value == "7");
  CHECK(session_id_of(r) == 7);
  REQUIRE(s.st.sessions.count(7) == 1);
  const auto& sess = s.st.sessions.at(7);
  CHECK(sess.last_seq == 0);
  CHECK(sess.kind == op::open);
  CHECK(sess.last_index == index_t{7});
  CHECK(sess.last_reply.value.empty());
  CHECK(s.st.data.at("a") == "1"); // an open touches no data
  // The session works from any seq >= 1.
  CHECK(s.run(as(7, 1, put("a", "2"))).ok);
  CHECK(s.st.sessions.at(7).last_seq == 1);
}

TEST_CASE("kv session: two opens give different ids, so does a retried open",
          "[kv][session][open]") {
  store s;
  auto a = s.open();
  auto b = s.open(); // e.g. a retry of the first: just another session
  CHECK(a == 1);
  CHECK(b == 2);
  CHECK(s.st.sessions.size() == 2);
  CHECK(s.run(as(a, 1, append("k", "a"))).ok);
  CHECK(s.run(as(b, 1, append("k", "b"))).ok);
  CHECK(s.st.data.at("k") == "ab");
}

TEST_CASE("kv session: a command for an unknown id is session_expired and "
          "changes nothing, whatever its seq",
          "[kv][session][open]") {
  store s;
  s.run(put("a", "x"));
  auto before = s.st;
  for (std::uint64_t seq : {1, 2, 100}) {
    CHECK(s.run(as(5, seq, put("a", "y")))
          == failure(reason::session_expired));
    CHECK(s.run(as(5, seq, get("a"))) == failure(reason::session_expired));
  }
  CHECK(s.st.data == before.data);
  CHECK(s.st.sessions.empty());
  // An id that is a past log index but was never an open: still unknown.
  CHECK(s.run(as(1, 1, put("a", "y"))) == failure(reason::session_expired));
  CHECK(s.st.data.at("a") == "x");
}

TEST_CASE("kv session: a retried append is applied once with the same reply",
          "[kv][session]") {
  store s;
  auto id = s.open(); // index 1
  auto first = s.run(as(id, 1, append("a", "x")));
  auto retry = s.run(as(id, 1, append("a", "x")));
  CHECK(first.error == errc::none);
  CHECK(retry == first);
  CHECK(s.st.data.at("a") == "x");
  CHECK(s.run(as(id, 2, append("a", "y"))).error == errc::none);
  CHECK(s.run(as(id, 2, append("a", "y"))).error == errc::none);
  CHECK(s.st.data.at("a") == "xy");
  const auto& sess = s.st.sessions.at(id);
  CHECK(sess.last_seq == 2);
  CHECK(sess.kind == op::append);
  CHECK(sess.last_index == index_t{5}); // the retry counts as a use
}

TEST_CASE("kv session: a retried del and cas return the first outcome",
          "[kv][session]") {
  store s;
  s.run(put("a", "1"));
  auto id = s.open();
  auto d = s.run(as(id, 1, del("a")));
  CHECK(d.ok);
  CHECK(s.run(as(id, 1, del("a"))) == d); // not "did not exist"
  s.run(put("b", "1"));
  auto c = s.run(as(id, 2, cas("b", "1", "2")));
  CHECK(c.ok);
  CHECK(s.run(as(id, 2, cas("b", "1", "2"))) == c); // not "mismatch"
  CHECK(s.st.data.at("b") == "2");
}

TEST_CASE("kv session: a retried get reads the current value",
          "[kv][session]") {
  store s;
  s.run(put("a", "1"));
  auto id = s.open();
  auto r = s.run(as(id, 1, get("a")));
  CHECK(r.value == "1");
  CHECK(s.st.sessions.at(id).last_reply.value.empty()); // nothing cached
  s.run(put("a", "2"));
  CHECK(s.run(as(id, 1, get("a"))).value == "2");
  CHECK(s.st.sessions.at(id).last_seq == 1);
}

TEST_CASE("kv session: an older seq is stale and changes nothing",
          "[kv][session]") {
  store s;
  auto id = s.open();
  s.run(as(id, 1, append("a", "x")));
  s.run(as(id, 2, append("a", "y")));
  auto before = s.st;
  CHECK(s.run(as(id, 1, append("a", "x"))) == failure(reason::stale_seq));
  CHECK(s.st.data == before.data);
  CHECK(s.st.sessions == before.sessions);
  CHECK(s.run(as(id, 1, get("a"))).why == reason::stale_seq);
}

TEST_CASE("kv session: a reused seq with another op is rejected",
          "[kv][session]") {
  store s;
  auto id = s.open();
  s.run(as(id, 1, put("a", "x")));
  CHECK(s.run(as(id, 1, append("a", "y"))) == failure(reason::seq_reused));
  CHECK(s.st.data.at("a") == "x");
}

TEST_CASE("kv session: gaps in seq are allowed", "[kv][session]") {
  store s;
  auto id = s.open();
  CHECK(s.run(as(id, 2, put("a", "x"))).ok); // the first need not be 1
  CHECK(s.run(as(id, 7, put("a", "y"))).ok);
  CHECK(s.st.sessions.at(id).last_seq == 7);
  CHECK(s.st.data.at("a") == "y");
}

TEST_CASE("kv session: a failed command consumes its seq and its error is "
          "cached",
          "[kv][session]") {
  store s;
  s.limits.max_value_bytes = 2;
  auto id = s.open();
  auto r = s.run(as(id, 1, put("a", "xyz")));
  CHECK(r == failure(reason::value_too_large));
  CHECK(s.run(as(id, 1, put("a", "xyz"))) == r);
  CHECK(s.st.sessions.at(id).last_reply == r);
  CHECK(s.st.data.empty());
}

TEST_CASE("kv session: the least recently used session is evicted",
          "[kv][session]") {
  store s;
  s.limits.max_sessions = 3;
  auto c10 = s.open();                  // index 1
  auto c20 = s.open();                  // index 2
  s.run(as(c10, 1, append("a", "1")));  // index 3
  s.run(as(c20, 1, append("a", "2")));  // index 4
  auto c30 = s.open();                  // index 5
  s.run(as(c30, 1, append("a", "3")));  // index 6
  s.run(as(c10, 1, append("a", "1")));  // index 7: a retry uses session c10
  auto c40 = s.open();                  // index 8: evicts c20 (last use 4)
  s.run(as(c40, 1, append("a", "4")));
  CHECK(s.st.sessions.size() == 3);
  CHECK(s.st.sessions.count(c20) == 0);
  CHECK(s.st.data.at("a") == "1234");
  // Client c20's next request cannot be deduplicated: a clear error, no
  // silent double apply.
  CHECK(s.run(as(c20, 2, append("a", "2")))
        == failure(reason::session_expired));
  CHECK(s.st.data.at("a") == "1234");
  // Session c10 survived and still deduplicates.
  CHECK(s.run(as(c10, 1, append("a", "1"))).ok);
  CHECK(s.st.data.at("a") == "1234");
}

TEST_CASE("kv session: a retried first write after its session was evicted "
          "is not applied again",
          "[kv][session][open]") {
  // The bug of implicit sessions: seq 1 for an unknown id used to open the
  // session again and apply the write a second time.
  store s;
  s.limits.max_sessions = 2;
  auto id = s.open();
  CHECK(s.run(as(id, 1, append("k", "x"))).ok); // applied; reply lost
  // Other clients push the session out.
  for (int i = 0; i < 3; ++i) {
    auto other = s.open();
    REQUIRE(other != 0);
    s.run(as(other, 1, put("o" + std::to_string(i), "1")));
  }
  REQUIRE(s.st.sessions.count(id) == 0);
  // The retry (or a delayed duplicate) of seq 1 arrives.
  CHECK(s.run(as(id, 1, append("k", "x")))
        == failure(reason::session_expired));
  CHECK(s.st.data.at("k") == "x"); // once
  CHECK(s.st.sessions.count(id) == 0);
}

TEST_CASE("kv session: an open after an eviction does not revive the old id",
          "[kv][session][open]") {
  store s;
  s.limits.max_sessions = 1;
  auto first = s.open();
  CHECK(s.run(as(first, 1, put("k", "1"))).ok);
  // A duplicated open (the client's retry) evicts the first session...
  auto again = s.open();
  CHECK(again != first);
  CHECK(s.st.sessions.count(first) == 0);
  CHECK(s.st.sessions.count(again) == 1);
  // ...and the old id stays dead: nothing runs under it.
  CHECK(s.run(as(first, 1, put("k", "2")))
        == failure(reason::session_expired));
  CHECK(s.run(as(first, 2, put("k", "2")))
        == failure(reason::session_expired));
  CHECK(s.st.data.at("k") == "1");
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
    // Client slot -> (its current session id, its last seq).
    std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> clients;
    std::size_t expired = 0;
    for (int i = 0; i < 3000; ++i) {
      auto slot = client(rng);
      auto& [id, seq] = clients[slot];
      if (id == 0) { // open a session (on both, at the same index)
        auto ra = a.run(open_command());
        REQUIRE(b.run(open_command()) == ra);
        id = session_id_of(ra);
        REQUIRE(id != 0);
        seq = 0;
        continue;
      }
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
        ++expired; // start over with a new session
        id = 0;
      }
    }
    CHECK(expired > 0);
    CHECK(a.st == b.st);
    CHECK(encode_snapshot(a.st) == encode_snapshot(b.st));
  }
}
