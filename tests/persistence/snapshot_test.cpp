// Snapshot installs in both stores (issue 4): keep the suffix or drop the
// log, compaction of covered segments, the snapshot file as the install's
// first write and HARDSTATE as its commit point, refusal of a damaged or
// missing snapshot file, and what inspect_directory reports.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

#include "persistence/faulty_file_system.hpp"
#include "persistence/memory_store.hpp"
#include "tests/persistence/helpers.hpp"

using namespace raft;
using namespace raft::persistence;
using namespace raft::persistence::testing;

namespace {

/// A batch installing a snapshot through {term, index} with `data`, then
/// appending `es`; `last_index`: the last index after it.
persist_batch install(hard_state h, std::uint64_t index, std::uint64_t term,
                      std::string data, log_entries es,
                      std::uint64_t last_index) {
  auto b = batch(h, std::move(es), last_index);
  b.snapshot.push_back(
    snapshot_install{log_id{term_t{term}, index_t{index}}, std::move(data)});
  return b;
}

log_id at(std::uint64_t index, std::uint64_t term) {
  return log_id{term_t{term}, index_t{index}};
}

std::vector<std::string> files_with(const std::string& dir,
                                    const std::string& prefix) {
  std::vector<std::string> result;
  for (auto& f : std::filesystem::directory_iterator(dir)) {
    auto n = f.path().filename().string();
    if (n.compare(0, prefix.size(), prefix) == 0)
      result.push_back(n);
  }
  std::sort(result.begin(), result.end());
  return result;
}

std::string snap_file(std::uint64_t index, std::uint64_t term) {
  return format::snapshot_name(at(index, term));
}

} // namespace

TEST_CASE("storage: memory_store installs a snapshot, keeping or dropping "
          "the log") {
  memory_store s;
  s.write(batch(hs(1), entries(1, 6, 1), 6));
  s.sync();
  auto log_bytes = s.raft_state_size();
  SECTION("the log holds last_included: the suffix is kept") {
    s.write(install(hs(2), 4, 1, "state@4", {}, 6));
    CHECK(s.durable_base() == log_id{}); // staged only
    auto copy = s.durable_copy();
    CHECK(copy->load().snapshot.empty());
    s.sync();
    auto st = s.load();
    CHECK(st.base == at(4, 1));
    CHECK(st.snapshot == "state@4");
    CHECK(st.entries == entries(5, 6, 1));
    CHECK(s.snapshot_size() == 7);
    // raft_state_size: hard state + log only, never the snapshot.
    CHECK(s.raft_state_size()
          == memory_store::header_bytes
               + memory_store::encoded_size(entry(5, 1))
               + memory_store::encoded_size(entry(6, 1)));
    CHECK(s.raft_state_size() < log_bytes);
    auto survivor = s.durable_copy();
    CHECK(survivor->load().snapshot == "state@4");
    CHECK(survivor->load().base == at(4, 1));
    CHECK(survivor->snapshot_size() == 7);
  }
  SECTION("another term at last_included: the whole log goes") {
    s.write(install(hs(3), 4, 2, "state@4t2", entries(5, 5, 3), 5));
    s.sync();
    auto st = s.load();
    CHECK(st.base == at(4, 2));
    CHECK(st.entries == entries(5, 5, 3));
    CHECK(s.durable_last_index() == index_t{5});
  }
  SECTION("beyond the log: the whole log goes") {
    s.write(install(hs(3), 9, 2, "state@9", {}, 9));
    s.write(batch(hs(3), entries(10, 11, 3), 11));
    s.sync();
    CHECK(s.load().base == at(9, 2));
    CHECK(s.load().entries == entries(10, 11, 3));
  }
  SECTION("installs within the staged view, then truncation after it") {
    s.write(batch(hs(2), entries(7, 9, 2), 9));
    s.write(install(hs(2), 8, 2, "state@8", {}, 9));
    s.write(batch(hs(3), entries(9, 9, 3), 9, 9));
    s.sync();
    CHECK(s.load().base == at(8, 2));
    CHECK(s.load().entries == entries(9, 9, 3));
  }
  SECTION("write() refuses installs that do not move the base forward") {
    s.write(install(hs(2), 4, 1, "state@4", {}, 6));
    CHECK_THROWS_AS(s.write(install(hs(2), 3, 1, "x", {}, 6)), store_error);
    CHECK_THROWS_AS(s.write(install(hs(2), 4, 2, "x", {}, 4)), store_error);
    CHECK_THROWS_AS(s.write(batch(hs(2), {}, 3, 4)), store_error);
    auto two = install(hs(2), 5, 1, "x", {}, 6);
    two.snapshot.push_back(two.snapshot.front());
    CHECK_THROWS_AS(s.write(two), store_error);
    CHECK(s.staged_batches() == 1);
  }
}

TEST_CASE("storage: snapshot install round trip, keeping the suffix or "
          "dropping the log") {
  temp_dir tmp;
  auto opts = options(tmp.data());
  {
    auto s = disk_store::open(opts);
    s->write(batch(hs(1, 1), entries(1, 8, 1), 8));
    s->sync();
  }
  SECTION("the log holds last_included: entries after it survive") {
    {
      auto s = disk_store::open(opts);
      s->write(install(hs(2, 1), 5, 1, "state@5", {}, 8));
      s->write(batch(hs(2, 1), entries(9, 10, 2), 10));
      s->sync();
      auto st = s->load();
      CHECK(st.base == at(5, 1));
      CHECK(st.snapshot == "state@5");
      CHECK(st.entries.size() == 5);
      CHECK(s->snapshot_size() == 7);
      std::size_t expected = format::hard_state_bytes;
      for (auto& e : st.entries)
        expected += format::encode_record(e).size();
      CHECK(s->raft_state_size() == expected);
    }
    auto s = disk_store::open(opts);
    auto st = s->load();
    CHECK(st.hard == hs(2, 1));
    CHECK(st.base == at(5, 1));
    CHECK(st.snapshot == "state@5");
    auto want = entries(6, 8, 1);
    for (auto& e : entries(9, 10, 2))
      want.push_back(e);
    CHECK(st.entries == want);
    CHECK(s->recovery().snapshot_file == snap_file(5, 1));
    CHECK(s->recovery().first_index == index_t{6});
    CHECK(s->recovery().last_index == index_t{10});
    // The one segment holds 1..10 and is kept whole (it holds 6).
    CHECK(files_with(tmp.data(), "log-")
          == std::vector<std::string>{format::segment_name(index_t{1})});
    CHECK(files_with(tmp.data(), "snapshot-")
          == std::vector<std::string>{snap_file(5, 1)});
  }
  SECTION("another term at last_included: the log is dropped") {
    {
      auto s = disk_store::open(opts);
      s->write(install(hs(3, 2), 6, 2, "state@6t2", {}, 6));
      s->sync();
      CHECK(s->load().entries.empty());
      CHECK(files_with(tmp.data(), "log-").empty());
      s->write(batch(hs(3, 2), entries(7, 8, 3), 8));
      s->sync();
    }
    auto s = disk_store::open(opts);
    auto st = s->load();
    CHECK(st.base == at(6, 2));
    CHECK(st.snapshot == "state@6t2");
    CHECK(st.entries == entries(7, 8, 3));
    CHECK(files_with(tmp.data(), "log-")
          == std::vector<std::string>{format::segment_name(index_t{7})});
  }
  SECTION("last_included among entries staged after a cut") {
    // 5..8 are cut and rewritten in term 2; the install keeps 7..8 of them.
    {
      auto s = disk_store::open(opts);
      s->write(batch(hs(2), entries(5, 8, 2), 8, 5));
      s->write(install(hs(2), 6, 2, "state@6", entries(9, 9, 2), 9));
      s->sync();
      CHECK(s->load().entries == entries(7, 9, 2));
    }
    auto s = disk_store::open(opts);
    CHECK_FALSE(s->recovery().dropped_stale_log);
    CHECK(s->load().base == at(6, 2));
    CHECK(s->load().entries == entries(7, 9, 2));
  }
  SECTION("a later install replaces the earlier snapshot file") {
    auto s = disk_store::open(opts);
    s->write(install(hs(2), 3, 1, "state@3", {}, 8));
    s->sync();
    s->write(install(hs(2), 7, 1, "state@7", {}, 8));
    s->sync();
    CHECK(files_with(tmp.data(), "snapshot-")
          == std::vector<std::string>{snap_file(7, 1)});
    CHECK(s->load().entries == entries(8, 8, 1));
  }
  SECTION("write() refuses installs that do not move the base forward") {
    auto s = disk_store::open(opts);
    s->write(install(hs(2), 4, 1, "state@4", {}, 8));
    CHECK_THROWS_AS(s->write(install(hs(2), 3, 1, "x", {}, 8)), store_error);
    CHECK_THROWS_AS(s->write(install(hs(2), 4, 2, "x", {}, 4)), store_error);
    CHECK_THROWS_AS(s->write(install(hs(2), 0, 0, "x", {}, 8)), store_error);
    CHECK_THROWS_AS(s->write(batch(hs(2), {}, 3, 4)), store_error);
    s->sync();
    CHECK(s->load().base == at(4, 1));
  }
}

TEST_CASE("storage: compaction deletes the segments a snapshot covers") {
  temp_dir tmp;
  // Tiny segments: a new one after every record.
  auto opts = options(tmp.data(), nullptr, 1);
  auto s = disk_store::open(opts);
  s->write(batch(hs(1), entries(1, 10, 1), 10));
  s->sync();
  CHECK(files_with(tmp.data(), "log-").size() == 10);
  s->write(install(hs(1), 6, 1, "state@6", {}, 10));
  s->sync();
  auto segs = files_with(tmp.data(), "log-");
  CHECK(segs.size() == 4);
  CHECK(segs.front() == format::segment_name(index_t{7}));
  CHECK(s->load().entries == entries(7, 10, 1));
  // Appends, truncation and reopen work on the compacted log.
  s->write(batch(hs(2), entries(9, 11, 2), 11, 9));
  s->sync();
  s.reset();
  s = disk_store::open(opts);
  auto want = entries(7, 8, 1);
  for (auto& e : entries(9, 11, 2))
    want.push_back(e);
  CHECK(s->load().entries == want);
  CHECK(s->load().snapshot == "state@6");
  // A snapshot covering the whole log removes every segment; the next
  // append starts a new one after the base.
  s->write(install(hs(2), 11, 2, "state@11", {}, 11));
  s->sync();
  CHECK(files_with(tmp.data(), "log-").empty());
  CHECK(s->raft_state_size() == format::hard_state_bytes);
  s->write(batch(hs(2), entries(12, 12, 2), 12));
  s->sync();
  CHECK(files_with(tmp.data(), "log-")
        == std::vector<std::string>{format::segment_name(index_t{12})});
  s.reset();
  s = disk_store::open(opts);
  CHECK(s->load().base == at(11, 2));
  CHECK(s->load().entries == entries(12, 12, 2));
}

TEST_CASE("storage: a crash between snapshot file and HARDSTATE leaves the "
          "old state") {
  temp_dir tmp;
  auto opts = options(tmp.data());
  stored_state before;
  {
    auto s = disk_store::open(opts);
    s->write(batch(hs(1), entries(1, 5, 1), 5));
    s->write(install(hs(1), 2, 1, "state@2", {}, 5));
    s->sync();
    before = s->load();
  }
  // What an install of {1, 4} leaves when the power goes right after its
  // snapshot file was renamed: the file, and the old HARDSTATE.
  auto hard = read_bytes(tmp.data() + "/HARDSTATE");
  {
    auto s = disk_store::open(opts);
    s->write(install(hs(2), 4, 1, "state@4", {}, 5));
    s->sync();
  }
  write_bytes(tmp.data() + "/HARDSTATE", hard);
  write_bytes(tmp.data() + "/" + snap_file(2, 1),
              format::encode_snapshot(snapshot_install{at(2, 1), "state@2"}));
  write_bytes(tmp.data() + "/" + snap_file(9, 9) + ".tmp", "half");
  CHECK(files_with(tmp.data(), "snapshot-").size() == 3);
  auto s = disk_store::open(opts);
  auto st = s->load();
  CHECK(st.base == before.base);
  CHECK(st.snapshot == "state@2");
  CHECK(st.entries == before.entries);
  CHECK(st.hard == before.hard);
  CHECK(files_with(tmp.data(), "snapshot-")
        == std::vector<std::string>{snap_file(2, 1)});
  auto& removed = s->recovery().removed_files;
  CHECK(std::count(removed.begin(), removed.end(), snap_file(4, 1)) == 1);
  CHECK(std::count(removed.begin(), removed.end(), snap_file(9, 9) + ".tmp")
        == 1);
}

TEST_CASE("storage: an install that dropped the log and was cut short drops "
          "the stale segments") {
  temp_dir tmp;
  auto opts = options(tmp.data(), nullptr, 1);
  {
    auto s = disk_store::open(opts);
    s->write(batch(hs(1), entries(1, 6, 1), 6));
    s->sync();
  }
  // Keep the old segments, install {2, 4} (term 2 at 4: the log is dropped),
  // then put the old segments back: as if the power went after HARDSTATE
  // but before the unlinks were durable.
  std::map<std::string, std::string> old;
  for (auto& n : files_with(tmp.data(), "log-"))
    old[n] = read_bytes(tmp.data() + "/" + n);
  {
    auto s = disk_store::open(opts);
    s->write(install(hs(2), 4, 2, "state@4t2", {}, 4));
    s->sync();
  }
  for (auto& [n, bytes] : old)
    write_bytes(tmp.data() + "/" + n, bytes);
  auto view = inspect_directory(tmp.data());
  CHECK(view.ok);
  CHECK(view.stale_log);
  CHECK(view.entries.empty());
  auto s = disk_store::open(opts);
  CHECK(s->recovery().dropped_stale_log);
  CHECK(s->load().base == at(4, 2));
  CHECK(s->load().entries.empty());
  CHECK(files_with(tmp.data(), "log-").empty());
  s->write(batch(hs(2), entries(5, 5, 2), 5));
  s->sync();
  CHECK(files_with(tmp.data(), "log-")
        == std::vector<std::string>{format::segment_name(index_t{5})});
}

TEST_CASE("storage: a bit flip in the snapshot file refuses to open") {
  temp_dir tmp;
  auto opts = options(tmp.data());
  {
    auto s = disk_store::open(opts);
    s->write(batch(hs(1), entries(1, 5, 1), 5));
    s->write(install(hs(1), 3, 1, std::string(100, 'x'), {}, 5));
    s->sync();
  }
  auto file = tmp.data() + "/" + snap_file(3, 1);
  auto good = read_bytes(file);
  REQUIRE(good.size() == format::snapshot_header_bytes + 100);
  auto clean = inspect_directory(tmp.data());
  CHECK(clean.ok);
  CHECK(clean.snapshot_file == snap_file(3, 1));
  CHECK(clean.snapshot_present);
  CHECK(clean.snapshot_bytes == 100);
  CHECK(clean.snapshot_crc_ok);
  // One bit in the header (CRC-covered bytes) and one in the data.
  for (std::size_t offset : {std::size_t{20}, std::size_t{70}}) {
    auto bad = good;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x10);
    write_bytes(file, bad);
    auto err = error_of([&] { disk_store::open(opts); });
    INFO(err);
    CHECK(err.find(snap_file(3, 1)) != std::string::npos);
    CHECK(err.find("CRC mismatch") != std::string::npos);
    CHECK(err.find("restore this node from a backup") != std::string::npos);
    auto view = inspect_directory(tmp.data());
    CHECK_FALSE(view.ok);
    CHECK_FALSE(view.bad_is_tail);
    CHECK(view.bad_file == snap_file(3, 1));
    CHECK_FALSE(view.snapshot_crc_ok);
  }
  // Missing: refused too.
  std::filesystem::remove(file);
  auto err = error_of([&] { disk_store::open(opts); });
  CHECK(err.find(snap_file(3, 1) + ": missing") != std::string::npos);
  CHECK_FALSE(inspect_directory(tmp.data()).ok);
  // Restored: opens again.
  write_bytes(file, good);
  auto s = disk_store::open(opts);
  CHECK(s->load().snapshot == std::string(100, 'x'));
}

TEST_CASE("storage: a failure at any point of an install poisons the store "
          "and leaves the old or the new state") {
  for (std::uint64_t nth = 1; nth <= 26; ++nth) {
    for (bool keep : {true, false}) {
      INFO("failing mutation " << nth << (keep ? ", keeping" : ", dropping")
                               << " the suffix");
      temp_dir tmp;
      auto fs = std::make_shared<faulty_file_system>();
      auto opts = options(tmp.data(), fs, 1);
      auto s = disk_store::open(opts);
      s->write(batch(hs(1), entries(1, 6, 1), 6));
      s->sync();
      fs->inject(faulty_file_system::op::any_mutation, nth, EIO);
      auto b = keep ? install(hs(2), 4, 1, "state@4", entries(7, 7, 2), 7)
                    : install(hs(2), 4, 2, "state@4t2", entries(5, 5, 2), 5);
      s->write(b);
      bool failed = !error_of([&] { s->sync(); }).empty();
      if (failed)
        CHECK_THROWS_AS(s->load(), store_error);
      s.reset();
      fs->heal();
      s = disk_store::open(opts);
      auto st = s->load();
      if (st.base == log_id{}) {
        CHECK(failed);
        CHECK(st.snapshot.empty());
        CHECK(st.entries == entries(1, 6, 1));
      } else if (keep) {
        CHECK(st.base == at(4, 1));
        CHECK(st.snapshot == "state@4");
        // 5..6 acknowledged earlier; 7 only if the sync got that far.
        REQUIRE(st.entries.size() >= 2);
        CHECK(log_entries(st.entries.begin(), st.entries.begin() + 2)
              == entries(5, 6, 1));
      } else {
        CHECK(st.base == at(4, 2));
        CHECK(st.snapshot == "state@4t2");
        CHECK((st.entries.empty() || st.entries == entries(5, 5, 2)));
      }
      if (!failed) {
        CHECK(st.base != log_id{});
        CHECK(st.entries.size() == (keep ? 3u : 1u));
      }
      CHECK(files_with(tmp.data(), "snapshot-").size()
            == (st.base == log_id{} ? 0u : 1u));
    }
  }
}
