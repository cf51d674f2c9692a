// kv_state_machine: the apply_msg plumbing and the snapshot policy.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>

#include "actors/kv/kv_state_machine.hpp"
#include "tests/kv/kv_helpers.hpp"

using namespace raft;
using namespace raft::kv;
using namespace raft::kv::test;

namespace {

apply_msg command_msg(std::uint64_t index, std::string bytes) {
  return apply_msg::of_command(index_t{index}, term_t{1}, std::move(bytes));
}

apply_msg snapshot_msg(std::uint64_t index, std::string bytes) {
  return apply_msg::of_snapshot(log_id{term_t{1}, index_t{index}},
                                std::move(bytes));
}

/// Applies `c` at `index` and decodes the reply.
reply run(kv_state_machine& sm, std::uint64_t index, const command& c) {
  auto out = decode_reply(sm.apply(command_msg(index, encode(c))));
  REQUIRE(out);
  return *out;
}

kv_options with_max_raft_state(std::int64_t n) {
  kv_options opts;
  opts.max_raft_state = n;
  return opts;
}

} // namespace

TEST_CASE("kv machine: commands arrive as apply_msg and replies are encoded",
          "[kv][machine]") {
  kv_state_machine sm;
  CHECK(session_id_of(run(sm, 1, open_command())) == 1);
  CHECK(run(sm, 2, as(1, 1, put("a", "1"))).ok);
  CHECK(run(sm, 3, as(1, 2, append("a", "2"))).ok);
  CHECK(run(sm, 4, as(1, 2, append("a", "2"))).ok); // retry: once
  auto r = run(sm, 5, get("a"));
  CHECK(r.value == "12");
  CHECK(sm.size() == 1);
  CHECK(sm.session_count() == 1);
  CHECK(sm.state().last_index == index_t{5});
  CHECK(sm.validate(encode(open_command())) == errc::none);
  CHECK(sm.validate(encode(as(1, 1, open_command()))) == errc::bad_request);
}

TEST_CASE("kv machine: malformed command bytes get bad_request and change "
          "nothing",
          "[kv][machine]") {
  kv_state_machine sm;
  run(sm, 1, put("a", "1"));
  auto before = sm.state().data;
  for (std::string bytes : {std::string{}, std::string{"\x02"},
                            std::string{"garbage"},
                            encode(put("a", "2")).substr(0, 5)}) {
    auto out = decode_reply(sm.apply(command_msg(2, bytes)));
    REQUIRE(out);
    CHECK(*out == failure(reason::malformed));
    CHECK(out->error == errc::bad_request);
    CHECK(sm.state().data == before);
  }
}

TEST_CASE("kv machine: an oversized committed command changes nothing",
          "[kv][machine][limits]") {
  kv_options opts;
  opts.limits.max_key_bytes = 4;
  kv_state_machine sm{opts};
  CHECK(run(sm, 1, put("abcd", "1")).ok);
  CHECK(run(sm, 2, put("abcde", "1")) == failure(reason::key_too_large));
  CHECK(sm.size() == 1);
}

TEST_CASE("kv machine: a snapshot message replaces the state",
          "[kv][machine][snapshot]") {
  kv_state_machine a;
  CHECK(session_id_of(run(a, 1, open_command())) == 1);
  run(a, 2, as(1, 1, append("a", "x")));
  run(a, 3, put("b", "2"));
  kv_state_machine b;
  run(b, 1, put("junk", "1"));
  CHECK(b.apply(snapshot_msg(3, a.snapshot())).empty());
  CHECK(b.state() == a.state());
  CHECK(b.snapshots_installed() == 1);
  // The session came along: the retry is deduplicated on b too.
  CHECK(run(b, 4, as(1, 1, append("a", "x"))).ok);
  CHECK(b.state().data.at("a") == "x");
}

TEST_CASE("kv machine: an undecodable snapshot throws and keeps the state",
          "[kv][machine][snapshot]") {
  kv_state_machine sm;
  run(sm, 1, put("a", "1"));
  auto before = sm.state();
  CHECK_THROWS_AS(sm.apply(snapshot_msg(5, "not a snapshot")),
                  std::runtime_error);
  CHECK_THROWS_WITH(sm.apply(snapshot_msg(5, "KV")),
                    Catch::Contains("does not decode"));
  CHECK(sm.state() == before);
}

TEST_CASE("kv machine: a message with neither flag does nothing",
          "[kv][machine]") {
  kv_state_machine sm;
  CHECK(sm.apply(apply_msg{}).empty());
  CHECK(sm.state() == kv_state{});
}

TEST_CASE("kv machine: should_snapshot thresholds", "[kv][machine][policy]") {
  kv_state_machine never{with_max_raft_state(-1)};
  CHECK_FALSE(never.should_snapshot(0));
  CHECK_FALSE(never.should_snapshot(UINT64_MAX));
  kv_state_machine zero{with_max_raft_state(0)};
  CHECK_FALSE(zero.should_snapshot(0));
  CHECK_FALSE(zero.should_snapshot(1000));
  kv_state_machine k{with_max_raft_state(1000)};
  CHECK_FALSE(k.should_snapshot(0));
  CHECK_FALSE(k.should_snapshot(999));
  CHECK(k.should_snapshot(1000));
  CHECK(k.should_snapshot(1001));
  kv_state_machine one{with_max_raft_state(1)};
  CHECK_FALSE(one.should_snapshot(0));
  CHECK(one.should_snapshot(1));
}

TEST_CASE("kv machine: take_snapshot answers once the observed state is "
          "large enough",
          "[kv][machine][policy]") {
  kv_state_machine sm{with_max_raft_state(1000)};
  run(sm, 1, put("a", "1"));
  CHECK_FALSE(sm.take_snapshot(index_t{1})); // nothing observed yet
  sm.observe_raft_state(999);
  CHECK_FALSE(sm.take_snapshot(index_t{1}));
  sm.observe_raft_state(1000);
  auto snap = sm.take_snapshot(index_t{1});
  REQUIRE(snap);
  CHECK(*snap == sm.snapshot());
  CHECK(sm.observed_raft_state() == 0);
  CHECK_FALSE(sm.take_snapshot(index_t{1})); // until observed again
  kv_state_machine never;
  never.observe_raft_state(UINT64_MAX);
  CHECK_FALSE(never.take_snapshot(index_t{1}));
}

TEST_CASE("kv machine: zero limits are refused", "[kv][machine][limits]") {
  kv_options opts;
  opts.limits.max_sessions = 0;
  CHECK_THROWS_AS(kv_state_machine{opts}, std::invalid_argument);
  opts = kv_options{};
  opts.limits.max_key_bytes = 0;
  CHECK_THROWS_AS(kv_state_machine{opts}, std::invalid_argument);
}

TEST_CASE("kv machine: two replicas fed the same apply stream agree",
          "[kv][machine][determinism]") {
  for (auto seed : seeds()) {
    INFO(replay(seed));
    std::mt19937_64 rng{seed};
    kv_options opts;
    opts.limits.max_sessions = 4;
    kv_state_machine a{opts};
    auto b = std::make_unique<kv_state_machine>(opts);
    // Client slot -> (session id, last seq); id 0: open one first.
    std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> clients;
    std::uint64_t index = 0;
    for (int i = 0; i < 2000; ++i) {
      // Half well-formed session traffic (opens, retries), half random
      // commands (mostly invalid) and truncated bytes.
      std::string bytes;
      std::pair<std::uint64_t, std::uint64_t>* session = nullptr;
      if (i % 2 == 0) {
        auto slot = 1 + rng() % 6;
        session = &clients[slot];
        auto& [id, seq] = *session;
        if (id == 0) {
          bytes = encode(open_command());
        } else {
          if (seq == 0 || rng() % 4 != 0)
            ++seq;
          bytes = encode(as(id, seq, append("k" + std::to_string(slot % 2),
                                            "x")));
        }
      } else {
        bytes = encode(random_command(rng));
        if (i % 3 == 0)
          bytes = bytes.substr(0, bytes.size() / 2);
      }
      auto m = command_msg(++index, bytes);
      auto out = a.apply(m);
      REQUIRE(out == b->apply(m));
      if (session != nullptr) {
        auto r = decode_reply(out);
        REQUIRE(r);
        if (session->first == 0) {
          *session = {session_id_of(*r), 0}; // the open's index
          REQUIRE(session->first == index);
        } else if (r->why == reason::session_expired) {
          session->first = 0; // evicted: open a new one
        }
      }
      if (i == 1000) { // b restarts from a's snapshot
        b = std::make_unique<kv_state_machine>(opts);
        b->apply(snapshot_msg(index, a.snapshot()));
        REQUIRE(b->state() == a.state());
      }
    }
    CHECK(a.state().data.count("k0") == 1);
    CHECK(a.state().data.count("k1") == 1);
    CHECK(a.snapshot() == b->snapshot());
  }
}

TEST_CASE("kv machine: with read_index a get without a session is read-only "
          "and answered from the state without changing it",
          "[kv][read-index]") {
  kv_options o;
  o.read_index = true;
  kv_state_machine m{o};
  command put; // without a session: this test is about reads
  put.kind = op::put;
  put.key = "k";
  put.value = "v";
  m.apply(command_msg(1, encode(put)));
  command get;
  get.kind = op::get;
  get.key = "k";
  CHECK(m.is_read_only(encode(get)));
  auto before = m.snapshot();
  auto r = decode_reply(m.query(encode(get)));
  REQUIRE(r);
  CHECK(r->error == errc::none);
  CHECK(r->found);
  CHECK(r->value == "v");
  CHECK(m.snapshot() == before);
  get.key = "absent";
  r = decode_reply(m.query(encode(get)));
  REQUIRE(r);
  CHECK_FALSE(r->found);
  // Writes and gets with a session go through the log; so does everything
  // without read_index.
  CHECK_FALSE(m.is_read_only(encode(put)));
  command session_get = get;
  session_get.client_id = 7;
  session_get.seq = 2;
  CHECK_FALSE(m.is_read_only(encode(session_get)));
  CHECK_FALSE(m.is_read_only("garbage"));
  kv_state_machine log_reads{};
  CHECK_FALSE(log_reads.is_read_only(encode(get)));
}
