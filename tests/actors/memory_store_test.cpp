// raft::persistence::memory_store: staged vs durable, validation, crash
// copies, encoded size.
#include <catch2/catch.hpp>

#include <string>

#include "messages/node_messages.hpp"
#include "persistence/memory_store.hpp"

namespace {

using raft::entry_kind;
using raft::hard_state;
using raft::index_t;
using raft::log_entries;
using raft::log_entry;
using raft::log_id;
using raft::persist_batch;
using raft::server_id;
using raft::term_t;
using raft::persistence::memory_store;
using raft::persistence::store_error;

log_entry entry(std::uint64_t term, std::uint64_t index, std::string data) {
  log_entry e;
  e.term = term_t{term};
  e.index = index_t{index};
  e.data = std::move(data);
  return e;
}

/// A batch appending `es` (after truncating from `truncate`, if non-zero).
persist_batch batch(std::uint64_t term, log_entries es,
                    std::uint64_t truncate = 0,
                    std::uint64_t last_index = 0) {
  persist_batch b;
  b.hard_state = hard_state{term_t{term}, server_id{1}};
  b.truncate_from = index_t{truncate};
  b.entries = std::move(es);
  if (!b.entries.empty())
    b.last = log_id{b.entries.back().term, b.entries.back().index};
  else
    b.last = log_id{term_t{term}, index_t{last_index}};
  return b;
}

} // namespace

TEST_CASE("memory_store: load sees only synced writes", "[memory_store]") {
  memory_store s;
  CHECK(s.load().entries.empty());
  CHECK(s.raft_state_size() == memory_store::header_bytes);
  s.write(batch(1, {entry(1, 1, "a"), entry(1, 2, "bb")}));
  CHECK(s.staged_batches() == 1);
  CHECK(s.load().entries.empty());
  CHECK(s.load().hard.current_term == term_t{0});
  s.sync();
  CHECK(s.staged_batches() == 0);
  CHECK(s.sync_count() == 1);
  auto st = s.load();
  REQUIRE(st.entries.size() == 2);
  CHECK(st.entries[1] == entry(1, 2, "bb"));
  CHECK(st.hard == hard_state{term_t{1}, server_id{1}});
  CHECK(s.raft_state_size()
        == memory_store::header_bytes + 2 * memory_store::entry_overhead_bytes
             + 3);
}

TEST_CASE("memory_store: staged batches chain and truncate",
          "[memory_store]") {
  memory_store s;
  s.write(batch(1, {entry(1, 1, "a"), entry(1, 2, "b"), entry(1, 3, "c")}));
  s.sync();
  // Staged view: 1..3; replace 3 and append 4, then replace 4 again.
  s.write(batch(2, {entry(2, 3, "x"), entry(2, 4, "y")}, 3));
  s.write(batch(3, {entry(3, 4, "z")}, 4));
  // Truncation only (no entries): the log ends at 3.
  s.write(batch(3, {}, 4, 3));
  s.write(batch(3, {entry(3, 4, "w")}));
  s.sync();
  auto st = s.load();
  REQUIRE(st.entries.size() == 4);
  CHECK(st.entries[2] == entry(2, 3, "x"));
  CHECK(st.entries[3] == entry(3, 4, "w"));
  CHECK(st.hard.current_term == term_t{3});
  CHECK(s.raft_state_size()
        == memory_store::header_bytes + 4 * memory_store::entry_overhead_bytes
             + 4);
  CHECK(s.durable_last_index() == index_t{4});
}

TEST_CASE("memory_store: write rejects batches that do not fit",
          "[memory_store]") {
  memory_store s;
  s.write(batch(1, {entry(1, 1, "a"), entry(1, 2, "b")}));
  SECTION("a gap") {
    CHECK_THROWS_AS(s.write(batch(1, {entry(1, 4, "d")})), store_error);
  }
  SECTION("an overlap without truncation") {
    CHECK_THROWS_AS(s.write(batch(1, {entry(1, 2, "b")})), store_error);
  }
  SECTION("non-consecutive entries") {
    CHECK_THROWS_AS(s.write(batch(1, {entry(1, 3, "c"), entry(1, 5, "e")})),
                    store_error);
  }
  SECTION("a wrong last index") {
    auto b = batch(1, {entry(1, 3, "c")});
    b.last.index = index_t{7};
    CHECK_THROWS_AS(s.write(b), store_error);
  }
  SECTION("truncating into the snapshot") {
    raft::stored_state init;
    init.base = log_id{term_t{1}, index_t{5}};
    memory_store snap{init};
    CHECK_THROWS_AS(snap.write(batch(1, {}, 5, 5)), store_error);
    CHECK_NOTHROW(snap.write(batch(1, {entry(1, 6, "f")}, 6)));
  }
  // A rejected batch stages nothing.
  s.sync();
  CHECK(s.load().entries.size() == 2);
}

TEST_CASE("memory_store: the error message says what is wrong",
          "[memory_store]") {
  memory_store s;
  CHECK_THROWS_WITH(s.write(batch(1, {entry(1, 2, "b")})),
                    Catch::Contains("entry 2 where 1 was expected"));
}

TEST_CASE("memory_store: durable_copy is a crash", "[memory_store]") {
  memory_store s;
  s.write(batch(1, {entry(1, 1, "a")}));
  s.sync();
  s.write(batch(2, {entry(2, 2, "b")}));
  auto copy = s.durable_copy();
  CHECK(copy->load().entries.size() == 1);
  CHECK(copy->load().hard.current_term == term_t{1});
  CHECK(copy->staged_batches() == 0);
  CHECK(copy->raft_state_size() == s.raft_state_size());
  // The original still syncs its staged batch; the copy is independent.
  s.sync();
  CHECK(s.load().entries.size() == 2);
  CHECK(copy->load().entries.size() == 1);
  // The copy continues where the durable state ended.
  copy->write(batch(3, {entry(3, 2, "c")}));
  copy->sync();
  CHECK(copy->load().entries[1] == entry(3, 2, "c"));
}

TEST_CASE("memory_store: initial state is validated", "[memory_store]") {
  raft::stored_state init;
  init.entries = {entry(1, 1, "a"), entry(1, 3, "c")};
  CHECK_THROWS_AS(memory_store{init}, store_error);
}
