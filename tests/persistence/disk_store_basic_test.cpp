// The disk store's normal life: initialise, write, sync, reopen, truncate,
// roll over segments, replace the hard state.
#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/persistence/helpers.hpp"

using namespace raft;
using namespace raft::persistence;
using namespace raft::persistence::testing;

namespace {

std::size_t segment_files(const std::string& dir) {
  std::size_t n = 0;
  for (auto& f : std::filesystem::directory_iterator(dir))
    if (format::parse_segment_name(f.path().filename().string()))
      ++n;
  return n;
}

} // namespace

TEST_CASE("storage: a new directory is initialised and starts empty") {
  temp_dir tmp;
  auto s = disk_store::open(options(tmp.data()));
  CHECK(s->recovery().created);
  CHECK(s->recovery().segments == 0);
  CHECK_FALSE(s->recovery().dropped_torn_tail);
  auto st = s->load();
  CHECK(st.hard == hard_state{});
  CHECK(st.base == log_id{});
  CHECK(st.entries.empty());
  CHECK(s->raft_state_size() == format::hard_state_bytes);
  CHECK(std::filesystem::exists(tmp.data() + "/IDENTITY"));
  CHECK(std::filesystem::exists(tmp.data() + "/HARDSTATE"));
  CHECK(std::filesystem::exists(tmp.data() + "/LOCK"));
  s.reset();
  auto again = disk_store::open(options(tmp.data()));
  CHECK_FALSE(again->recovery().created);
}

TEST_CASE("storage: round trip of hard state and entries through reopen") {
  temp_dir tmp;
  stored_state before;
  {
    auto s = disk_store::open(options(tmp.data()));
    s->write(batch(hs(1, 1), entries(1, 3, 1), 3));
    s->write(batch(hs(2, 3), entries(4, 5, 2), 5));
    s->sync();
    CHECK(s->sync_count() == 1);
    before = s->load();
    CHECK(before.entries.size() == 5);
    CHECK(before.hard == hs(2, 3));
    // Staged but never synced: lost on a crash.
    s->write(batch(hs(3, 0), entries(6, 6, 3), 6));
    s->crash();
    CHECK(error_of([&] { s->load(); }) == "store closed");
    CHECK(error_of([&] { s->sync(); }) == "store closed");
    CHECK(error_of([&] { s->raft_state_size(); }) == "store closed");
  }
  auto s = disk_store::open(options(tmp.data()));
  auto after = s->load();
  CHECK(after.hard == before.hard);
  CHECK(after.entries == before.entries);
  CHECK(s->recovery().first_index == index_t{1});
  CHECK(s->recovery().last_index == index_t{5});
  CHECK(s->recovery().segments == 1);
  // raft_state_size: hard state file + frames + payloads.
  std::size_t expected = format::hard_state_bytes;
  for (auto& e : after.entries)
    expected += format::encode_record(e).size();
  CHECK(s->raft_state_size() == expected);
  CHECK(std::filesystem::file_size(tmp.data() + "/"
                                   + format::segment_name(index_t{1}))
        == expected - format::hard_state_bytes + format::segment_header_bytes);
}

TEST_CASE("storage: truncation replaces a suffix, also within staged batches") {
  temp_dir tmp;
  {
    auto s = disk_store::open(options(tmp.data()));
    s->write(batch(hs(1), entries(1, 6, 1), 6));
    s->sync();
    // Cut 4.., append 4..5 of term 2; then cut again inside the staged part.
    s->write(batch(hs(2), entries(4, 5, 2), 5, 4));
    s->write(batch(hs(2), entries(5, 7, 2), 7, 5));
    s->sync();
    auto st = s->load();
    REQUIRE(st.entries.size() == 7);
    CHECK(st.entries[2] == entry(3, 1));
    CHECK(st.entries[3] == entry(4, 2));
    CHECK(st.entries[6] == entry(7, 2));
    // Truncating past the end truncates nothing; to the very start empties.
    s->write(batch(hs(3), {}, 7, 9));
    s->sync();
    CHECK(s->load().entries.size() == 7);
    s->write(batch(hs(3), entries(1, 2, 3), 2, 1));
    s->sync();
  }
  auto s = disk_store::open(options(tmp.data()));
  auto st = s->load();
  CHECK(st.entries == entries(1, 2, 3));
  CHECK(st.hard == hs(3));
}

TEST_CASE("storage: write() refuses batches that do not fit the log") {
  temp_dir tmp;
  auto s = disk_store::open(options(tmp.data()));
  s->write(batch(hs(1), entries(1, 3, 1), 3));
  CHECK_THROWS_AS(s->write(batch(hs(1), entries(5, 5, 1), 5)), store_error);
  CHECK_THROWS_AS(s->write(batch(hs(1), entries(3, 3, 1), 3)), store_error);
  CHECK_THROWS_AS(s->write(batch(hs(1), entries(4, 4, 1), 7)), store_error);
  // A refused batch stages nothing.
  s->sync();
  CHECK(s->load().entries == entries(1, 3, 1));
}

TEST_CASE("storage: segments roll over and truncation deletes later ones") {
  temp_dir tmp;
  // Tiny segments: a new one after every two or three records.
  auto opts = options(tmp.data(), nullptr, 100);
  {
    auto s = disk_store::open(opts);
    for (std::uint64_t i = 1; i <= 20; ++i) {
      s->write(batch(hs(1), entries(i, i, 1), i));
      if (i % 3 == 0)
        s->sync();
    }
    s->sync();
  }
  auto files = segment_files(tmp.data());
  CHECK(files >= 5);
  {
    auto s = disk_store::open(opts);
    CHECK(s->recovery().segments == files);
    CHECK(s->load().entries == entries(1, 20, 1));
    // Cut from 7: every segment after the one holding 7 disappears.
    s->write(batch(hs(2), entries(7, 8, 2), 8, 7));
    s->sync();
    CHECK(segment_files(tmp.data()) < files);
  }
  auto s = disk_store::open(opts);
  auto expected = entries(1, 6, 1);
  for (auto& e : entries(7, 8, 2))
    expected.push_back(e);
  CHECK(s->load().entries == expected);
  // A cut at the first record of a segment removes that file, too.
  auto first_of_last = s->recovery().segments;
  s->write(batch(hs(2), {}, 0, 1));
  s->sync();
  CHECK(segment_files(tmp.data()) == 0);
  CHECK(first_of_last > 0);
  s->write(batch(hs(2), entries(1, 1, 2), 1));
  s->sync();
  s.reset();
  CHECK(disk_store::open(opts)->load().entries == entries(1, 1, 2));
}

TEST_CASE("storage: many staged batches share one sync -- group commit") {
  temp_dir tmp;
  auto s = disk_store::open(options(tmp.data()));
  auto before = s->fsync_count();
  s->write(batch(hs(1), entries(1, 1, 1), 1)); // new segment: dir fsync too
  s->sync();
  auto first = s->fsync_count() - before;
  before = s->fsync_count();
  for (std::uint64_t i = 2; i <= 50; ++i)
    s->write(batch(hs(1), entries(i, i, 1), i));
  s->sync();
  CHECK(s->fsync_count() - before == 1); // one fdatasync for 49 batches
  CHECK(first >= 1);
  CHECK(s->sync_count() == 2);
  s->sync(); // nothing staged: no syscall, not counted
  CHECK(s->sync_count() == 2);
}

TEST_CASE("storage: the hard state file is replaced atomically") {
  temp_dir tmp;
  auto s = disk_store::open(options(tmp.data()));
  auto file = tmp.data() + "/HARDSTATE";
  auto ino = std::filesystem::status(file).type();
  CHECK(ino == std::filesystem::file_type::regular);
  s->write(batch(hs(5, 2), {}, 0));
  s->sync();
  CHECK(format::decode_hard_state(read_bytes(file)).hard == hs(5, 2));
  CHECK_FALSE(std::filesystem::exists(file + ".tmp"));
  // Unchanged hard state: no rewrite.
  auto fsyncs = s->fsync_count();
  s->write(batch(hs(5, 2), entries(1, 1, 5), 1));
  s->sync();
  auto segment_only = s->fsync_count() - fsyncs;
  CHECK(segment_only == 2); // new segment: directory fsync + fdatasync
  s->crash();
  // A leftover temp file (a crash before the rename) is ignored and removed.
  write_bytes(file + ".tmp", "garbage");
  auto r = disk_store::open(options(tmp.data()));
  CHECK(r->load().hard == hs(5, 2));
  CHECK_FALSE(std::filesystem::exists(file + ".tmp"));
}
