// A follower receiving a snapshot (Figure 13 steps 2-5) does not hold it in
// memory: every accepted chunk leaves in output::snapshot_chunks for the
// persister's staging area, the node keeps only a count and a running
// CRC-32, the install batch names the staging area (snapshot_install::staged)
// and the bytes come back from the store (on_snapshot_read_back) before the
// state machine gets them.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "tests/core/core_harness.hpp"
#include "tests/core/snapshot_helpers.hpp"

using namespace raft;
using namespace raft::core_test;

TEST_CASE("paper 7: received chunks go to the persister's staging area and "
          "only a count and a CRC stay in the node",
          "[paper-7][staging]") {
  std::string snap = "abcdefghij";
  auto [h, o] = receive_first_chunk(snap);
  CHECK(o.snapshot_chunks
        == std::vector<snapshot_chunk>{{lid(2, 6), 0, "abcd"}});
  CHECK_FALSE(o.persist);
  const auto& f = std::get<core::follower>(h->state());
  REQUIRE(f.incoming);
  CHECK(f.incoming->received == 4u);
  CHECK(f.incoming->received_crc == raft::crc32("abcd"));
  // A chunk at the wrong offset stages nothing.
  o = h.step(2, chunk(2, 2, lid(2, 6), snap, 8, 2));
  CHECK(o.snapshot_chunks.empty());
  CHECK(sent(o) == lines{line(1, 2, is_reply(2, lid(2, 6), 4, false))});
  o = h.step(2, chunk(2, 2, lid(2, 6), snap, 4, 6));
  CHECK(o.snapshot_chunks
        == std::vector<snapshot_chunk>{{lid(2, 6), 4, "efghij"}});
  REQUIRE(o.persist);
  CHECK(*o.persist
        == staged_batch(hs(2, 0), lid(2, 6), snap, 0, {}, lid(2, 6)));
  CHECK(h->snapshot_bytes_pending());
  CHECK(h->snapshot_data().empty());
  CHECK(h->snapshot_crc() == raft::crc32(snap));
  // The harness's persister hands the bytes back before the ack.
  o = h.ack_next();
  REQUIRE(o.apply_snapshot);
  CHECK(o.apply_snapshot->snapshot == snap);
  CHECK_FALSE(h->snapshot_bytes_pending());
  CHECK(h->snapshot_data() == snap);
  CHECK(h.durable_snapshot() == snap);
}

TEST_CASE("paper 7: a new transfer restarts the staging area at offset 0",
          "[paper-7][staging]") {
  auto h = follower_with(make_log({1, 1}));
  std::string first = "0123456789";
  std::string second = "ABCDEFGHIJKL";
  h.step(2, chunk(2, 2, lid(2, 6), first, 0, 4));
  // Another snapshot (the leader compacted again): offset 0 starts over.
  auto o = h.step(2, chunk(2, 2, lid(2, 8), second, 0, 5));
  CHECK(o.snapshot_chunks
        == std::vector<snapshot_chunk>{{lid(2, 8), 0, "ABCDE"}});
  o = h.step(2, chunk(2, 2, lid(2, 8), second, 5, 7));
  REQUIRE(o.persist);
  CHECK(*o.persist
        == staged_batch(hs(2, 0), lid(2, 8), second, 0, {}, lid(2, 8)));
  h.ack_all();
  CHECK(h.durable_snapshot() == second);
  CHECK(h->snapshot_data() == second);
}

TEST_CASE("paper 7: a received snapshot with a bad CRC is not installed and "
          "is requested again from offset 0",
          "[paper-7][staging]") {
  auto h = follower_with(make_log({1, 1}));
  std::string snap = "0123456789";
  auto bad = chunk(2, 2, lid(2, 6), snap, 0, 10);
  bad.crc32 ^= 1u;
  auto o = h.step(2, bad);
  CHECK_FALSE(o.persist);
  CHECK(sent(o) == lines{line(1, 2, is_reply(2, lid(2, 6), 0, false))});
  CHECK(h->snapshot_point() == lid(0, 0));
}

TEST_CASE("paper 7: the bytes of a staged install must come back before its "
          "acknowledgement, and must match the leader's CRC",
          "[paper-7][staging]") {
  std::string snap = "0123456789";
  SECTION("an acknowledgement without the bytes is a broken contract") {
    auto h = follower_with(make_log({1, 1}));
    auto o = h.step(2, whole(2, 2, lid(2, 6), snap));
    REQUIRE(o.persist);
    CHECK_THROWS_AS(h->on_persisted(term_t{2}, index_t{6}), std::logic_error);
  }
  SECTION("bytes that do not match the CRC are a broken contract") {
    auto h = follower_with(make_log({1, 1}));
    h.step(2, whole(2, 2, lid(2, 6), snap));
    CHECK_THROWS_AS(h->on_snapshot_read_back(lid(2, 6), "0123456780"),
                    std::logic_error);
  }
  SECTION("bytes of a superseded snapshot are ignored") {
    auto h = follower_with(make_log({1, 1}));
    h.step(2, whole(2, 2, lid(2, 6), snap));
    h->on_snapshot_read_back(lid(2, 5), "other");
    CHECK(h->snapshot_bytes_pending());
    CHECK(h->snapshot_data().empty());
  }
}
