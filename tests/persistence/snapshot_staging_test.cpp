// Receiving a snapshot through the store's staging area (Figure 13 steps
// 2-5): chunks are staged, not held in memory; a batch whose install is
// `staged` takes them over after checking snapshot, size and CRC; a crash
// mid-transfer leaves nothing; the disk store reads the bytes back and
// refuses ones the disk changed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "persistence/memory_store.hpp"
#include "tests/persistence/helpers.hpp"
#include "messages/crc32.hpp"

using namespace raft;
using namespace raft::persistence;
using namespace raft::persistence::testing;

namespace {

log_id at(std::uint64_t index, std::uint64_t term) {
  return log_id{term_t{term}, index_t{index}};
}

snapshot_chunk piece(log_id id, const std::string& data, std::size_t offset,
                     std::size_t len) {
  return snapshot_chunk{id, offset, data.substr(offset, len)};
}

/// A batch installing the staged snapshot `id` of `data` (size and CRC as
/// the core announces them), appending nothing; the log ends at `last`.
persist_batch staged_install(hard_state h, log_id id, const std::string& data,
                             std::uint64_t last) {
  auto b = batch(h, {}, last);
  b.snapshot.push_back(
    snapshot_install::staged_bytes(id, data.size(), raft::crc32(data)));
  return b;
}

/// Stages `data` for `id` in chunks of `n` bytes.
void stage_all(store& s, log_id id, const std::string& data, std::size_t n) {
  for (std::size_t off = 0; off < data.size(); off += n)
    s.stage_snapshot_chunk(piece(id, data, off, n));
}

bool has_file_with(const std::string& dir, const std::string& suffix) {
  for (auto& f : std::filesystem::directory_iterator(dir)) {
    auto n = f.path().filename().string();
    if (n.size() >= suffix.size()
        && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  }
  return false;
}

} // namespace

TEST_CASE("storage: memory_store installs a staged snapshot and refuses a "
          "staging area that does not match") {
  memory_store s;
  s.write(batch(hs(1), entries(1, 3, 1), 3));
  s.sync();
  std::string data = "the state machine through 8";
  auto id = at(8, 2);
  stage_all(s, id, data, 5);
  SECTION("a matching install takes the bytes over") {
    s.write(staged_install(hs(2), id, data, 8));
    // Staged only: a crash now keeps the old state.
    CHECK(s.durable_copy()->load().base == log_id{});
    s.sync();
    auto st = s.load();
    CHECK(st.base == id);
    CHECK(st.snapshot == data);
    CHECK(st.entries.empty());
    CHECK(s.snapshot_data() == data);
  }
  SECTION("a wrong size, snapshot or CRC stages nothing") {
    auto wrong_size = staged_install(hs(2), id, data + "x", 8);
    auto wrong_id = staged_install(hs(2), at(8, 3), data, 8);
    auto wrong_crc = staged_install(hs(2), id, data, 8);
    wrong_crc.snapshot.front().crc32 ^= 1u;
    for (auto* b : {&wrong_size, &wrong_id, &wrong_crc}) {
      CHECK(error_of([&] { s.write(*b); }).find("does not match the staging")
            != std::string::npos);
      CHECK(s.staged_batches() == 0u);
    }
    // The staging area is still intact: the right install works.
    s.write(staged_install(hs(2), id, data, 8));
    s.sync();
    CHECK(s.load().snapshot == data);
  }
  SECTION("a chunk that does not continue the staging area is refused") {
    CHECK(error_of([&] {
            s.stage_snapshot_chunk(snapshot_chunk{id, 3, "zz"});
          }).find("does not continue")
          != std::string::npos);
    CHECK(error_of([&] {
            s.stage_snapshot_chunk(
              snapshot_chunk{at(9, 2), data.size(), "zz"});
          }).find("does not continue")
          != std::string::npos);
  }
  SECTION("a crash drops the staging area") {
    auto survivor = s.durable_copy();
    CHECK(error_of([&] {
            survivor->write(staged_install(hs(2), id, data, 8));
          }).find("does not match the staging")
          != std::string::npos);
  }
}

TEST_CASE("storage: disk_store installs a staged snapshot from its staging "
          "file and survives a restart") {
  temp_dir tmp;
  auto opts = options(tmp.path());
  std::string data(300000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>('a' + (i * 7) % 26);
  auto id = at(12, 3);
  {
    auto s = disk_store::open(opts);
    s->write(batch(hs(1), entries(1, 5, 1), 5));
    s->sync();
    stage_all(*s, id, data, 65536);
    CHECK(std::filesystem::exists(tmp.path() + "/"
                                  + format::snapshot_staging_file));
    s->write(staged_install(hs(3), id, data, 12));
    // The staging name is free again once the install took it over.
    CHECK_FALSE(std::filesystem::exists(tmp.path() + "/"
                                        + format::snapshot_staging_file));
    s->sync();
    CHECK(s->snapshot_data() == data);
    CHECK(s->load().base == id);
    CHECK(std::filesystem::exists(tmp.path() + "/"
                                  + format::snapshot_name(id)));
    CHECK_FALSE(has_file_with(tmp.path(), ".tmp"));
  }
  auto s = disk_store::open(opts);
  auto st = s->load();
  CHECK(st.base == id);
  CHECK(st.snapshot == data);
  CHECK(st.entries.empty());
  CHECK(st.hard == hs(3));
}

TEST_CASE("storage: a transfer interrupted by a crash leaves no trace on "
          "disk") {
  temp_dir tmp;
  auto opts = options(tmp.path());
  std::string data(100000, 'q');
  auto id = at(9, 2);
  SECTION("crash while chunks are staged") {
    auto s = disk_store::open(opts);
    s->write(batch(hs(1), entries(1, 4, 1), 4));
    s->sync();
    s->stage_snapshot_chunk(piece(id, data, 0, 40000));
    s->crash();
  }
  SECTION("crash after the install was written but before its sync") {
    auto s = disk_store::open(opts);
    s->write(batch(hs(1), entries(1, 4, 1), 4));
    s->sync();
    stage_all(*s, id, data, 40000);
    s->write(staged_install(hs(2), id, data, 9));
    s->crash();
  }
  auto s = disk_store::open(opts);
  auto st = s->load();
  CHECK(st.base == log_id{});
  CHECK(st.snapshot.empty());
  CHECK(st.entries == entries(1, 4, 1));
  CHECK_FALSE(has_file_with(tmp.path(), ".tmp"));
  CHECK_FALSE(has_file_with(tmp.path(), ".snap"));
}

TEST_CASE("storage: disk_store refuses staged bytes the disk changed, and a "
          "new transfer may start before the last install is synced") {
  temp_dir tmp;
  auto opts = options(tmp.path());
  std::string data(5000, 'x');
  auto id = at(7, 2);
  SECTION("a changed byte in the staged file fails the sync") {
    auto s = disk_store::open(opts);
    stage_all(*s, id, data, 1000);
    // The disk flips a byte of the staged data behind the store's back.
    {
      auto path = tmp.path() + "/" + format::snapshot_staging_file;
      auto bytes = read_bytes(path);
      bytes[format::snapshot_header_bytes + 1234] ^= 0x20;
      write_bytes(path, bytes);
    }
    s->write(staged_install(hs(2), id, data, 7));
    auto err = error_of([&] { s->sync(); });
    CHECK(err.find("reads back wrong") != std::string::npos);
    CHECK(err.find("check the disk") != std::string::npos);
  }
  SECTION("staging the next snapshot before the sync keeps both apart") {
    auto s = disk_store::open(opts);
    stage_all(*s, id, data, 1000);
    s->write(staged_install(hs(2), id, data, 7));
    std::string next(3000, 'y');
    s->stage_snapshot_chunk(piece(at(9, 2), next, 0, 1000));
    s->sync();
    CHECK(s->snapshot_data() == data);
    s->stage_snapshot_chunk(piece(at(9, 2), next, 1000, 2000));
    s->write(staged_install(hs(2), at(9, 2), next, 9));
    s->sync();
    CHECK(s->snapshot_data() == next);
    CHECK(s->load().base == at(9, 2));
  }
}
