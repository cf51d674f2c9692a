// Log compaction (§7 of the extended Raft paper, Figure 13 InstallSnapshot
// RPC), one rule per TEST_CASE, tables where the rule has cases
// (docs/architecture.md §8.1): the service's snapshot, the leader's
// chunked transfer and the follower's install with its durability side.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "messages/crc32.hpp"
#include "tests/core/core_harness.hpp"
#include "tests/core/role_setup.hpp"
#include "tests/core/snapshot_helpers.hpp"

using namespace raft;
using namespace raft::core_test;


// -- building blocks ----------------------------------------------------------

TEST_CASE("crc32: the IEEE CRC-32 of zlib, incremental", "[paper-7][crc32]") {
  CHECK(raft::crc32("") == 0u);
  CHECK(raft::crc32("123456789") == 0xCBF43926u);
  CHECK(raft::crc32("The quick brown fox jumps over the lazy dog")
        == 0x414FA339u);
  CHECK(raft::crc32("6789", raft::crc32("12345")) == 0xCBF43926u);
  std::string zeros(32, '\0');
  CHECK(raft::crc32(zeros) == 0x190A55ADu);
}

TEST_CASE("raft_log: compact_to keeps the entries after the new base",
          "[paper-7][raft_log]") {
  core::raft_log log{{}, make_log({1, 1, 2, 2})};
  log.compact_to(lid(1, 2));
  CHECK(log.base() == lid(1, 2));
  CHECK(log.first_index() == 3_i);
  CHECK(log.last() == lid(2, 4));
  CHECK(all_entries(log) == make_log({2, 2}, 3));
  CHECK_THROWS_AS(log.compact_to(lid(1, 3)), std::logic_error); // wrong term
  CHECK_THROWS_AS(log.compact_to(lid(2, 5)), std::logic_error); // beyond
  log.compact_to(lid(2, 4));
  CHECK(entry_count(log) == 0);
  CHECK(log.last() == lid(2, 4));
}

TEST_CASE("raft_log: install retains the suffix after a matching "
          "last_included, else discards the log",
          "[paper-7][raft_log]") {
  // Figure 13 steps 6-7.
  struct row {
    const char* what;
    log_id snap;
    bool kept;
    log_entries after;
  };
  auto r = GENERATE(
    row{"matching entry in the middle", lid(2, 3), true, make_log({2}, 4)},
    row{"matching last entry", lid(2, 4), true, {}},
    row{"same index, other term", lid(3, 3), false, {}},
    row{"beyond the log", lid(2, 9), false, {}});
  INFO(r.what);
  core::raft_log log{{}, make_log({1, 1, 2, 2})};
  CHECK(log.install(r.snap) == r.kept);
  CHECK(log.base() == r.snap);
  CHECK(all_entries(log) == r.after);
  CHECK_THROWS_AS(log.install(lid(1, 1)), std::logic_error);
}

// -- §7: the service's snapshot ------------------------------------------------

TEST_CASE("paper 7: a service snapshot through an applied index compacts "
          "the log and persists the snapshot with the hard state",
          "[paper-7]") {
  // "Each server takes snapshots independently, covering just the committed
  // entries in its log." Ignored: nothing new, or not applied yet.
  struct row {
    const char* what;
    std::uint64_t index;
    bool taken;
    log_id base;
  };
  auto r = GENERATE(row{"at the base", 0, false, lid(0, 0)},
                    row{"beyond applied", 7, false, lid(0, 0)},
                    row{"in the middle", 4, true, lid(1, 4)},
                    row{"through the last entry", 6, true, lid(2, 6)});
  INFO(r.what);
  auto h = committed_leader();
  auto before = all_entries(h->log());
  std::string data = "state@" + std::to_string(r.index);
  bool taken = false;
  auto o = h.snapshot(r.index, data, &taken);
  CHECK(taken == r.taken);
  CHECK(h->snapshot_point() == r.base);
  // raft-ctl status (issue 6) reports the snapshot point; {0, 0} without one.
  CHECK(h->status().snapshot == r.base);
  CHECK(h->status().last_index == 6_i);
  CHECK(h->log().last() == lid(2, 6));
  CHECK(h->commit_index() == 6_i);
  CHECK(h->applied_index() == 6_i);
  if (!r.taken) {
    CHECK_FALSE(o.persist);
    CHECK(all_entries(h->log()) == before);
    return;
  }
  CHECK(h->snapshot_data() == data);
  CHECK(transcript(o)
        == lines{line(batch(hs(2, 1), r.base, data, 0, {}, lid(2, 6)))});
  CHECK(all_entries(h->log()) == slice_of(before, r.index + 1, 6));
  h.ack_all();
  CHECK(h.durable_base() == r.base);
  CHECK(h.durable_snapshot() == data);
  CHECK(h.durable_log() == all_entries(h->log()));
  // An older or equal snapshot afterwards changes nothing.
  o = h.snapshot(r.index, "again", &taken);
  CHECK_FALSE(taken);
  CHECK_FALSE(o.persist);
  CHECK(h->snapshot_data() == data);
}

// -- §7: leader side -----------------------------------------------------------

TEST_CASE("paper 7: the leader sends InstallSnapshot when the entry a "
          "follower needs is compacted, without holding up the others",
          "[paper-7]") {
  // "the leader must occasionally send snapshots to followers that lag
  // behind ... when it has already discarded the next log entry that it
  // needs to send to a follower."
  auto h = committed_leader();
  bool taken = false;
  std::string snap = "snapshot-of-6";
  h.snapshot(6, snap, &taken);
  REQUIRE(taken);
  h.ack_all();
  // Follower 3 finally answers the first probe: its log is empty.
  auto o = h.step(3, ae_reject(2, 5, 0, 0, 1));
  CHECK(transcript(o)
        == lines{chunk_line(3, 2, lid(2, 6), snap, 0, snap.size())});
  CHECK(line(o.messages.at(0))
        == "1->3 install_snapshot term=2 last=2/6 offset=0 bytes=13 "
           "done=true total=13 crc="
             + crc_hex(snap));
  // Replication to follower 2 goes on while the chunk is in flight; no
  // second chunk goes to 3 before its answer.
  o = h.propose("y");
  CHECK(sent(o) == lines{line(1, 2, ae(2, 1, lid(2, 6), {entry(2, 7, "y")}, 6))});
  h.ack_all();
  // A heartbeat resends the chunk (it or its answer may be lost).
  auto e = h.ticks(h->cfg().heartbeat_ticks);
  CHECK(e.sent()
        == lines{line(1, 2, ae(2, 1, lid(2, 7), {}, 6)),
                 chunk_line(3, 2, lid(2, 6), snap, 0, snap.size())});
  // Installed: match = 6, and AppendEntries resume right after it.
  o = h.step(3, is_reply(2, lid(2, 6), snap.size(), true));
  CHECK(sent(o)
        == lines{line(1, 3, ae(2, 1, lid(2, 6), {entry(2, 7, "y")}, 6))});
  const auto& l = std::get<core::leader>(h->state());
  CHECK(l.followers.at(3_s).match_index == 6_i);
  CHECK(l.followers.at(3_s).state == core::progress::mode::probe);
  o = h.step(3, ae_ok(2, 6, 7));
  CHECK(h->commit_index() == 7_i);
}

TEST_CASE("paper 7: the leader sends a snapshot in chunks, one in flight, "
          "resuming where the follower says it stands",
          "[paper-7]") {
  // Figure 13: "Send the snapshot in chunks"; `offset` and `done`.
  struct row {
    const char* what;
    install_snapshot_reply reply;
    std::vector<std::uint64_t> next; // offsets sent next (empty: nothing)
  };
  std::string snap = "0123456789"; // chunks of 4: [0,4) [4,8) [8,10)
  auto r = GENERATE_COPY(
    row{"first chunk taken", is_reply(2, lid(2, 6), 4, false), {4}},
    row{"two chunks held", is_reply(2, lid(2, 6), 8, false), {8}},
    row{"follower lost the chunk", is_reply(2, lid(2, 6), 0, false), {0}},
    row{"answer about another snapshot", is_reply(2, lid(1, 5), 4, false),
        {}});
  INFO(r.what);
  auto h = committed_leader(4);
  bool taken = false;
  h.snapshot(6, snap, &taken);
  REQUIRE(taken);
  h.ack_all();
  auto o = h.step(3, ae_reject(2, 5, 0, 0, 1));
  CHECK(sent(o) == lines{chunk_line(3, 2, lid(2, 6), snap, 0, 4)});
  o = h.step(3, r.reply);
  lines want;
  for (auto off : r.next)
    want.push_back(chunk_line(3, 2, lid(2, 6), snap, off, 4));
  CHECK(sent(o) == want);
}

TEST_CASE("paper 7: a newer snapshot restarts a transfer in flight at "
          "offset 0",
          "[paper-7]") {
  std::string old_snap = "0123456789";
  std::string new_snap = "abcdefghijkl";
  auto h = committed_leader(4);
  bool taken = false;
  h.snapshot(6, old_snap, &taken);
  REQUIRE(taken);
  h.ack_all();
  h.step(3, ae_reject(2, 5, 0, 0, 1));
  auto o = h.step(3, is_reply(2, lid(2, 6), 4, false));
  CHECK(sent(o) == lines{chunk_line(3, 2, lid(2, 6), old_snap, 4, 4)});
  // Entry 7 commits through follower 2; the service snapshots through it.
  h.propose("y");
  h.ack_all();
  h.step(2, ae_ok(2, 6, 7));
  h.ack_all();
  h.snapshot(7, new_snap, &taken);
  REQUIRE(taken);
  h.ack_all();
  // The follower's answer about the old snapshot brings the new one.
  o = h.step(3, is_reply(2, lid(2, 6), 8, false));
  CHECK(sent(o) == lines{chunk_line(3, 2, lid(2, 7), new_snap, 0, 4)});
  o = h.step(3, is_reply(2, lid(2, 7), 4, false));
  CHECK(sent(o) == lines{chunk_line(3, 2, lid(2, 7), new_snap, 4, 4)});
  o = h.step(3, is_reply(2, lid(2, 7), 8, false));
  CHECK(sent(o) == lines{chunk_line(3, 2, lid(2, 7), new_snap, 8, 4)});
  CHECK(std::get<install_snapshot>(o.messages.at(0).msg).done);
  o = h.step(3, is_reply(2, lid(2, 7), 12, true));
  CHECK(sent(o) == lines{line(1, 3, ae(2, 1, lid(2, 7), {}, 7))});
}

TEST_CASE("paper 7: a restarted leader sends the snapshot it restored",
          "[paper-7]") {
  // §7 / restart: commit and applied start at the base; the first output
  // hands the snapshot to the fresh state machine.
  stored_state st;
  st.hard = hs(2, 0);
  st.base = lid(2, 5);
  st.entries = make_log({2, 2}, 6);
  st.snapshot = "restored-5";
  harness h{cluster_config(1, 3), st};
  CHECK(h->commit_index() == 5_i);
  CHECK(h->applied_index() == 5_i);
  CHECK(h->snapshot_point() == lid(2, 5));
  CHECK(h->status().snapshot == lid(2, 5));
  auto o = h.tick();
  REQUIRE(o.apply_snapshot);
  CHECK(to_string(*o.apply_snapshot) == "apply snapshot 2/5 bytes=10");
  CHECK(o.apply_snapshot->snapshot == "restored-5");
  CHECK(h.applied() == 5_i);
  // Elected, it probes at 7; follower 3 is empty: the snapshot goes out.
  for (int i = 0; i < 200 && h->role() == raft::role::follower; ++i)
    h.tick();
  h.ack_all();
  h.step(2, rv_reply(3, true));
  h.ack_all();
  REQUIRE(h->is_leader());
  o = h.step(3, ae_reject(3, 7, 0, 0, 1));
  CHECK(sent(o) == lines{line(1, 3, whole(3, 1, lid(2, 5), "restored-5"))});
}

// -- §7: follower side (Figure 13 receiver implementation) ---------------------

TEST_CASE("paper 7: a chunk of a stale term is refused with the current "
          "term",
          "[paper-7]") {
  // Figure 13 step 1: "Reply immediately if term < currentTerm".
  auto role = GENERATE(from_range(all_roles));
  INFO("receiver is " << to_string(role));
  role_setup s;
  s.term = 3;
  s.log = make_log({1, 2});
  auto h = make_in_role(role, s);
  auto before_role = h->role();
  auto o = h.step(2, whole(2, 2, lid(2, 5), "snap"));
  h.ack_all();
  CHECK(transcript(o)
        == lines{line(1, 2, is_reply(3, lid(2, 5), 0, false))});
  CHECK(h->role() == before_role);
  CHECK(h->snapshot_point() == lid(0, 0));
  CHECK(h->log().last() == lid(2, 2));
}

TEST_CASE("paper 7: a follower takes chunks at the expected offset only and "
          "tells the leader where to resume",
          "[paper-7]") {
  // Figure 13 steps 2-4, "offset: byte offset where chunk is positioned".
  std::string snap = "0123456789";
  struct row {
    const char* what;
    std::uint64_t offset; // of the second chunk (the first is [0, 4))
    std::uint64_t next;   // next_offset answered
  };
  auto r = GENERATE(row{"the expected offset", 4, 8},
                    row{"a duplicate of the first chunk", 0, 4},
                    row{"a gap", 8, 4});
  INFO(r.what);
  auto [h, o] = receive_first_chunk(snap);
  CHECK(transcript(o) == lines{line(1, 2, is_reply(2, lid(2, 6), 4, false))});
  o = h.step(2, chunk(2, 2, lid(2, 6), snap, r.offset, 4));
  CHECK(transcript(o)
        == lines{line(1, 2, is_reply(2, lid(2, 6), r.next, false))});
  CHECK(h->snapshot_point() == lid(0, 0));
  // A first chunk at an offset other than 0 starts nothing.
  auto h2 = follower_with(make_log({1, 1}));
  o = h2.step(2, chunk(2, 2, lid(2, 6), snap, 4, 4));
  CHECK(transcript(o) == lines{line(1, 2, is_reply(2, lid(2, 6), 0, false))});
}

TEST_CASE("paper 7: a snapshot whose size or CRC does not match is "
          "rejected and requested again from offset 0",
          "[paper-7]") {
  std::string snap = "0123456789";
  struct row {
    const char* what;
    std::uint64_t total;
    std::uint32_t crc;
  };
  auto r = GENERATE_COPY(row{"bad crc", 10, raft::crc32(snap) ^ 1u},
                         row{"crc of other bytes", 10, raft::crc32("x")},
                         row{"announced size too large", 12,
                             raft::crc32(snap)});
  INFO(r.what);
  auto h = follower_with(make_log({1, 1}));
  auto m = whole(2, 2, lid(2, 6), snap);
  m.crc32 = r.crc;
  m.total_size = r.total;
  if (r.total != snap.size())
    m.done = true; // the leader claims the end before the announced size
  auto o = h.step(2, m);
  CHECK(transcript(o) == lines{line(1, 2, is_reply(2, lid(2, 6), 0, false))});
  CHECK(h->snapshot_point() == lid(0, 0));
  CHECK(all_entries(h->log()) == make_log({1, 1}));
  CHECK_FALSE(h->snapshot_apply_pending());
  // The good bytes afterwards install.
  o = h.step(2, whole(2, 2, lid(2, 6), snap));
  CHECK(h->snapshot_point() == lid(2, 6));
}

TEST_CASE("paper 7: a new leader or term discards a half-received snapshot",
          "[paper-7]") {
  std::string snap = "0123456789";
  struct row {
    const char* what;
    std::uint64_t term;
    std::uint32_t leader;
    std::uint64_t next;
  };
  auto r = GENERATE(row{"same leader, same term: goes on", 2, 2, 8},
                    row{"same leader, next term: starts over", 3, 2, 0},
                    row{"new leader of the next term: starts over", 3, 3, 0});
  INFO(r.what);
  auto h = receive_first_chunk(snap).h;
  auto o = h.step(r.leader, chunk(r.term, r.leader, lid(2, 6), snap, 4, 4));
  auto e = h.ack_all();
  e.add(std::move(o));
  CHECK(e.sent()
        == lines{line(1, r.leader, is_reply(r.term, lid(2, 6), r.next,
                                            false))});
}

TEST_CASE("paper 7: an installed snapshot keeps the log suffix after a "
          "matching last_included, else replaces the whole log",
          "[paper-7]") {
  // Figure 13 steps 6-7; the persist batch lets the store do the same
  // (persist_batch::snapshot) and rewrites what it must after it.
  struct row {
    const char* what;
    log_id snap;
    log_entries after;          // the log after the install
    std::uint64_t truncate;     // of the persist batch
  };
  auto r = GENERATE(
    row{"matching entry in the middle: keep 4..5", lid(2, 3),
        make_log({2, 2}, 4), 0},
    row{"matching last entry", lid(2, 5), {}, 0},
    row{"other term at that index: discard", lid(3, 3), {}, 4},
    row{"beyond the log: discard", lid(3, 7), {}, 0});
  INFO(r.what);
  auto h = follower_with(make_log({1, 1, 2, 2, 2}), 3);
  std::string snap = "S" + to_string(r.snap);
  auto o = h.step(2, whole(3, 2, r.snap, snap));
  auto last = r.after.empty() ? r.snap
                              : log_id{r.after.back().term,
                                       r.after.back().index};
  CHECK(transcript(o)
        == lines{line(staged_batch(hs(3, 0), r.snap, snap, r.truncate, {},
                                   last))});
  // The bytes went to the persister's staging area, not into the batch.
  CHECK(o.snapshot_chunks
        == std::vector<snapshot_chunk>{snapshot_chunk{r.snap, 0, snap}});
  CHECK(h->snapshot_bytes_pending());
  CHECK(h->snapshot_point() == r.snap);
  CHECK(h->status().snapshot == r.snap);
  CHECK(all_entries(h->log()) == r.after);
  CHECK(h->commit_index() == r.snap.index);
  h.ack_all();
  CHECK(h.durable_base() == r.snap);
  CHECK(h.durable_log() == r.after);
}

TEST_CASE("paper 7: installed = true and the snapshot's apply leave only "
          "once the install is durable",
          "[paper-7][durability]") {
  std::string snap = "0123456789";
  auto [h, o] = receive_first_chunk(snap);
  CHECK(sent(o) == lines{line(1, 2, is_reply(2, lid(2, 6), 4, false))});
  o = h.step(2, chunk(2, 2, lid(2, 6), snap, 4, 6));
  REQUIRE(o.persist);
  CHECK(o.persist->snapshot.size() == 1);
  CHECK(o.messages.empty());
  CHECK_FALSE(o.apply_snapshot);
  CHECK(h->applied_index() == 0_i);
  CHECK(h->snapshot_apply_pending());
  // A leader's resend before the disk answers is answered after it, too.
  o = h.step(2, chunk(2, 2, lid(2, 6), snap, 8, 2));
  CHECK(o.messages.empty());
  o = h.ack_next();
  CHECK(transcript(o)
        == lines{line(1, 2, is_reply(2, lid(2, 6), 10, true)),
                 line(1, 2, is_reply(2, lid(2, 6), 10, true)),
                 "apply snapshot 2/6 bytes=10"});
  CHECK(o.apply_snapshot->snapshot == snap);
  CHECK(h->applied_index() == 6_i);
  CHECK_FALSE(h->snapshot_apply_pending());
}

TEST_CASE("paper 7: a snapshot never moves the applied index backwards",
          "[paper-7]") {
  SECTION("a snapshot within the committed prefix is only acknowledged") {
    auto h = follower_with(make_log({1, 1, 2, 2, 2}), 3);
    h.step(2, ae(3, 2, lid(2, 5), {}, 5));
    h.ack_all();
    REQUIRE(h->applied_index() == 5_i);
    auto o = h.step(2, whole(3, 2, lid(2, 4), "old"));
    CHECK(transcript(o) == lines{line(1, 2, is_reply(3, lid(2, 4), 3, true))});
    CHECK(h->snapshot_point() == lid(0, 0));
    CHECK(h->applied_index() == 5_i);
    CHECK(h.snapshots_applied().empty());
  }
  SECTION("entries committed during the install follow the snapshot") {
    auto h = follower_with(make_log({1, 1, 2}), 3);
    h.step(2, ae(3, 2, lid(2, 3), {}, 2));
    h.ack_all();
    REQUIRE(h->applied_index() == 2_i);
    auto o = h.step(2, whole(3, 2, lid(2, 5), "five"));
    REQUIRE(o.persist);
    // Entry 6 and commit 6 arrive before the install is durable.
    o = h.step(2, ae(3, 2, lid(2, 5), {entry(2, 6)}, 6));
    CHECK(o.committed.empty());
    CHECK_FALSE(o.apply_snapshot);
    auto e = h.ack_all();
    CHECK(e.transcript()
          == lines{line(1, 2, is_reply(3, lid(2, 5), 4, true)),
                   line(1, 2, ae_ok(3, 5, 6)), "apply snapshot 2/5 bytes=4",
                   "apply {" + to_string(entry(2, 6)) + "}"});
    CHECK(h->applied_index() == 6_i);
  }
}
