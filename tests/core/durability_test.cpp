// raft::core::durability_tracker on its own: which messages wait for which
// persist batch, what a batch carries, how far the durable index reaches
// while batches are in flight, and the acknowledgement contract. The node
// tests check the same rules through the node (core_harness.hpp checks every
// message against a fake persister); these pin the class's own invariants.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "actors/core/durability.hpp"
#include "tests/core/core_harness.hpp"

using namespace raft;
using namespace raft::core_test;
using raft::core::durability_tracker;
using raft::core::needs_durability;
using raft::core::raft_log;

namespace {

/// A follower's reply that needs durability, and a leader's request that
/// does not.
envelope ack_to_leader(std::uint64_t term, std::uint64_t index) {
  return envelope{1_s, 2_s, ae_ok(term, index - 1, index)};
}
envelope heartbeat_to(std::uint32_t to, std::uint64_t term) {
  return envelope{1_s, server_id{to}, ae(term, 1, lid(0, 0), {}, 0)};
}

struct fixture {
  hard_state hard = hs(1, 0);
  raft_log log{log_id{}, make_log({1, 1})};
  durability_tracker d{1_s, hard, log.last_index()};

  output take() {
    output out;
    d.take(hard, log, out);
    CHECK_FALSE(d.has_output(hard, log));
    return out;
  }
};

} // namespace

TEST_CASE("durability: needs_durability classifies every RPC",
          "[durability]") {
  // Figure 2 / thesis §3.8: replies and a candidate's request promise
  // durable state; a leader's requests go in parallel with its own write
  // (thesis §10.2.1); InstallSnapshot progress reports promise nothing.
  install_snapshot_reply progress_report;
  progress_report.next_offset = 4;
  install_snapshot_reply installed;
  installed.installed = true;
  install_snapshot chunk;
  struct row {
    rpc_message msg;
    bool waits;
  };
  auto r = GENERATE_COPY(row{rv(2, 1, lid(1, 2)), true},
                         row{rv_reply(2, true), true},
                         row{rv_reply(2, false), true},
                         row{ae(2, 1, lid(1, 2), {}, 0), false},
                         row{ae_ok(2, 1, 2), true},
                         row{ae_reject(2, 1, 0, 0, 1), true},
                         row{rpc_message{chunk}, false},
                         row{rpc_message{installed}, true},
                         row{rpc_message{progress_report}, false});
  INFO(to_string(envelope{1_s, 2_s, r.msg}));
  CHECK(needs_durability(r.msg) == r.waits);
}

TEST_CASE("durability: a restored state is durable and emits nothing",
          "[durability]") {
  fixture f;
  CHECK_FALSE(f.d.has_output(f.hard, f.log));
  CHECK(f.d.durable_index() == 2_i);
  CHECK(f.d.batches_emitted() == 0);
  CHECK(f.d.next_batch() == 1);
  CHECK(f.d.is_durable(0));
  CHECK_FALSE(f.d.is_durable(1));
  CHECK_FALSE(f.d.snapshot_apply_pending());
}

TEST_CASE("durability: a batch carries the hard state and the new entries",
          "[durability]") {
  fixture f;
  f.hard = hs(2, 3);
  f.log.append(entry(2, 3));
  f.log.append(entry(2, 4));
  REQUIRE(f.d.has_output(f.hard, f.log));
  auto out = f.take();
  REQUIRE(out.persist);
  CHECK(line(*out.persist)
        == line(batch(hs(2, 3), 0, make_log({2, 2}, 3), lid(2, 4))));
  CHECK(f.d.batches_emitted() == 1);
  // Not durable until acknowledged: the new entries do not count yet.
  CHECK(f.d.durable_index() == 2_i);
  f.d.on_persisted(2_t, 4_i);
  CHECK(f.d.durable_index() == 4_i);
  CHECK(f.d.batches_durable() == 1);
  CHECK(f.d.is_durable(1));
}

TEST_CASE("durability: replies wait for the batch of their input, requests "
          "do not, and order is kept",
          "[durability]") {
  fixture f;
  f.hard = hs(2, 0);
  f.log.append(entry(2, 3));
  f.d.send(ack_to_leader(2, 3));
  f.d.send(heartbeat_to(3, 2));
  f.d.send(ack_to_leader(2, 3));
  auto out = f.take();
  REQUIRE(out.persist);
  // The heartbeat leaves; both acks wait for batch 1.
  CHECK(out.messages == std::vector<envelope>{heartbeat_to(3, 2)});
  CHECK(f.d.held_messages() == 2);
  // A later input with nothing to persist: its ack still waits behind the
  // held ones (FIFO), even though it adds no batch.
  f.d.send(ack_to_leader(2, 3));
  out = f.take();
  CHECK_FALSE(out.persist);
  CHECK(out.messages.empty());
  CHECK(f.d.held_messages() == 3);
  f.d.on_persisted(2_t, 3_i);
  REQUIRE(f.d.has_output(f.hard, f.log));
  out = f.take();
  CHECK(out.messages
        == std::vector<envelope>{ack_to_leader(2, 3), ack_to_leader(2, 3),
                                 ack_to_leader(2, 3)});
  CHECK(f.d.held_messages() == 0);
}

TEST_CASE("durability: with nothing in flight a reply leaves at once",
          "[durability]") {
  fixture f;
  f.d.send(ack_to_leader(1, 2));
  auto out = f.take();
  CHECK_FALSE(out.persist);
  CHECK(out.messages == std::vector<envelope>{ack_to_leader(1, 2)});
}

TEST_CASE("durability: acknowledgements must match the oldest batch",
          "[durability]") {
  fixture f;
  CHECK_THROWS_AS(f.d.on_persisted(1_t, 2_i), std::logic_error);
  f.hard = hs(2, 0);
  f.take();
  f.log.append(entry(2, 3));
  f.take();
  // Batch 1 ends at 1/2 (a hard-state change only), batch 2 at 2/3.
  CHECK_THROWS_AS(f.d.on_persisted(2_t, 3_i), std::logic_error);
  f.d.on_persisted(1_t, 2_i);
  f.d.on_persisted(2_t, 3_i);
  CHECK(f.d.durable_index() == 3_i);
  CHECK_THROWS_AS(f.d.on_persisted(2_t, 3_i), std::logic_error);
}

TEST_CASE("durability: a truncation lowers the durable index until the "
          "batch rewriting the suffix is durable",
          "[durability]") {
  fixture f;
  // Batch 1 appends 1/3; before it is durable the entry is replaced by
  // 2/3 (a new leader's conflicting entry, §5.3).
  f.log.append(entry(1, 3));
  f.take();
  f.log.truncate_from(3_i);
  f.d.truncated_from(3_i);
  f.log.append(entry(2, 3));
  f.hard = hs(2, 0);
  CHECK(f.d.durable_index() == 2_i);
  auto out = f.take();
  REQUIRE(out.persist);
  CHECK(line(*out.persist)
        == line(batch(hs(2, 0), 3, make_log({2}, 3), lid(2, 3))));
  // Batch 1 durable: the store holds 1/3, memory holds 2/3 -- only index 2
  // is durable and equal.
  f.d.on_persisted(1_t, 3_i);
  CHECK(f.d.durable_index() == 2_i);
  f.d.on_persisted(2_t, 3_i);
  CHECK(f.d.durable_index() == 3_i);
}

TEST_CASE("durability: staged chunks leave at once, ahead of the batch",
          "[durability]") {
  fixture f;
  f.d.stage_chunk(snapshot_chunk{lid(1, 9), 0, "abcd"});
  f.hard = hs(2, 0);
  auto out = f.take();
  REQUIRE(out.snapshot_chunks.size() == 1);
  CHECK(out.snapshot_chunks[0].data == "abcd");
  CHECK(out.persist);
}

TEST_CASE("durability: a received snapshot that drops the log rewrites the "
          "suffix and is applied only once durable",
          "[durability][paper-7]") {
  // The log holds 1/1 1/2 1/3 (1/3 in flight); the leader's snapshot at 2/5
  // does not match, so the whole log goes (Figure 13 step 7).
  fixture f;
  f.log.append(entry(1, 3));
  f.take();
  REQUIRE_FALSE(f.log.install(lid(2, 5)));
  f.hard = hs(2, 0);
  f.d.persist_received_snapshot(
    snapshot_install::staged_bytes(lid(2, 5), 4, raft::crc32("abcd")), false);
  f.d.apply_snapshot_after_persist(apply_msg::of_snapshot(lid(2, 5), {}));
  CHECK(f.d.snapshot_apply_pending());
  CHECK(f.d.durable_index() == 2_i);
  auto out = f.take();
  REQUIRE(out.persist);
  CHECK(line(*out.persist)
        == line(staged_batch(hs(2, 0), lid(2, 5), "abcd", 0, {},
                             lid(2, 5))));
  // The bytes arrive before the acknowledgement (snapshot_read_back).
  REQUIRE(f.d.waiting_snapshot_apply() != nullptr);
  f.d.waiting_snapshot_apply()->snapshot = "abcd";
  f.d.on_persisted(1_t, 3_i);
  // Batch 1 is durable, batch 2 (the install) is not: nothing above the
  // snapshot point counts yet, and the snapshot is not applied.
  CHECK(f.d.durable_index() < 5_i);
  CHECK(f.d.ready_snapshot_apply() == nullptr);
  f.d.on_persisted(2_t, 5_i);
  CHECK(f.d.durable_index() == 5_i);
  REQUIRE(f.d.ready_snapshot_apply() != nullptr);
  auto ready = f.d.take_ready_snapshot_apply();
  REQUIRE(ready);
  CHECK(ready->snapshot == "abcd");
  CHECK_FALSE(f.d.snapshot_apply_pending());
}

TEST_CASE("durability: a received snapshot that keeps a durable suffix "
          "keeps the durable index",
          "[durability][paper-7]") {
  // Log 1/1 1/2, all durable; the snapshot covers 1/1 and matches it.
  fixture f;
  REQUIRE(f.log.install(lid(1, 1)));
  f.d.persist_received_snapshot(snapshot_install::staged_bytes(lid(1, 1), 0, 0),
                                true);
  CHECK(f.d.durable_index() == 2_i);
  auto out = f.take();
  REQUIRE(out.persist);
  CHECK(out.persist->truncate_from == 0_i);
  CHECK(out.persist->entries.empty());
  f.d.on_persisted(1_t, 2_i);
  CHECK(f.d.durable_index() == 2_i);
}
