// Recovery: a torn tail is dropped and reported; every other defect refuses
// to open, naming the file (and offset). Never a silent loss of an earlier
// record.
#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/persistence/helpers.hpp"

using namespace raft;
using namespace raft::persistence;
using namespace raft::persistence::testing;

namespace {

/// Writes entries 1..n (term 1) with the given segment size and closes.
void make_log(const std::string& dir, std::uint64_t n,
              std::size_t segment_bytes) {
  auto s = disk_store::open(options(dir, nullptr, segment_bytes));
  s->write(batch(hs(1, 1), entries(1, n, 1), n));
  s->sync();
}

std::size_t record_size() {
  return format::encode_record(entry(1, 1)).size();
}

} // namespace

TEST_CASE("storage: a last record torn at every byte offset is dropped") {
  temp_dir tmp;
  make_log(tmp.data(), 5, 64 << 20);
  auto seg = tmp.data() + "/" + format::segment_name(index_t{1});
  auto full = read_bytes(seg);
  auto rec = record_size();
  REQUIRE(full.size() == format::segment_header_bytes + 5 * rec);
  auto prev_end = full.size() - rec;
  for (auto len = prev_end; len < full.size(); ++len) {
    INFO("segment cut to " << len << " bytes (last record starts at "
                           << prev_end << ")");
    write_bytes(seg, full.substr(0, len));
    auto view = inspect_directory(tmp.data());
    CHECK(view.ok == (len == prev_end));
    CHECK(view.bad_is_tail == (len != prev_end));
    {
      auto s = disk_store::open(options(tmp.data()));
      CHECK(s->load().entries == entries(1, 4, 1));
      CHECK(s->recovery().last_index == index_t{4});
      CHECK(s->recovery().dropped_torn_tail == (len != prev_end));
      if (len != prev_end) {
        auto& d = s->recovery().torn_tail_detail;
        CHECK(d.find(format::segment_name(index_t{1}) + " offset "
                     + std::to_string(prev_end))
              == 0);
        CHECK(d.find("dropped " + std::to_string(len - prev_end) + " bytes")
              != std::string::npos);
      }
      // Appending continues right after the last good record.
      s->write(batch(hs(1, 1), entries(5, 5, 1), 5));
      s->sync();
    }
    CHECK(read_bytes(seg) == full);
  }
}

TEST_CASE("storage: an incomplete new segment is dropped as a torn tail") {
  temp_dir tmp;
  make_log(tmp.data(), 3, 64 << 20);
  auto next = tmp.data() + "/" + format::segment_name(index_t{4});
  auto header = format::encode_segment_header(index_t{4});
  for (std::size_t len = 0; len <= header.size(); ++len) {
    INFO("new segment of " << len << " bytes");
    write_bytes(next, header.substr(0, len));
    auto s = disk_store::open(options(tmp.data()));
    CHECK(s->load().entries == entries(1, 3, 1));
    CHECK(s->recovery().dropped_torn_tail == (len < header.size()));
    CHECK(std::filesystem::exists(next) == (len == header.size()));
  }
}

TEST_CASE("storage: a bit flip anywhere is detected, only the tail dropped") {
  temp_dir tmp;
  auto rec = record_size();
  // 5 records in 2 segments: 3 in the first, 2 in the second.
  auto segment_bytes = format::segment_header_bytes + 3 * rec;
  make_log(tmp.data(), 5, segment_bytes);
  auto seg1 = format::segment_name(index_t{1});
  auto seg2 = format::segment_name(index_t{4});
  REQUIRE(std::filesystem::exists(tmp.data() + "/" + seg2));
  std::size_t opened = 0;
  std::size_t refused = 0;
  for (std::string file : {std::string{"IDENTITY"}, std::string{"HARDSTATE"},
                           seg1, seg2}) {
    auto path = tmp.data() + "/" + file;
    auto original = read_bytes(path);
    auto last_record = original.size() - rec; // start of the last record
    for (std::size_t off = 0; off < original.size(); ++off) {
      for (int bit = 0; bit < 8; ++bit) {
        INFO(file << " byte " << off << " bit " << bit);
        auto flipped = original;
        flipped[off] = static_cast<char>(flipped[off] ^ (1 << bit));
        write_bytes(path, flipped);
        bool tail = file == seg2 && off >= last_record;
        auto view = inspect_directory(tmp.data());
        CHECK_FALSE(view.ok);
        CHECK(view.bad_file == file);
        CHECK(view.bad_is_tail == tail);
        std::unique_ptr<disk_store> s;
        auto err = error_of(
          [&] { s = disk_store::open(options(tmp.data(), nullptr,
                                             segment_bytes)); });
        if (tail) {
          REQUIRE(err.empty());
          ++opened;
          CHECK(s->load().entries == entries(1, 4, 1));
          CHECK(s->recovery().dropped_torn_tail);
          CHECK(s->recovery().torn_tail_detail.find(
                  file + " offset " + std::to_string(last_record))
                == 0);
        } else {
          ++refused;
          CHECK_FALSE(err.empty());
          CHECK(err.find(file) != std::string::npos);
          CHECK(err.find('\n') == std::string::npos);
          if (file == seg1 || file == seg2)
            CHECK(err.find(file + " offset ") != std::string::npos);
        }
        s.reset();
        write_bytes(path, original);
      }
    }
  }
  CHECK(opened == 8 * rec);
  CHECK(refused > opened);
}

TEST_CASE("storage: inspect_directory reports without touching anything") {
  temp_dir tmp;
  make_log(tmp.data(), 5, format::segment_header_bytes + 2 * record_size());
  auto before = std::filesystem::last_write_time(tmp.data() + "/LOCK");
  auto view = inspect_directory(tmp.data());
  CHECK(view.ok);
  CHECK(view.has_identity);
  CHECK(view.cluster_id == "test-cluster");
  CHECK(view.node == server_id{1});
  CHECK(view.format_version == 1);
  CHECK(view.hard == hs(1, 1));
  CHECK(view.entries == entries(1, 5, 1));
  CHECK(view.first_index == index_t{1});
  CHECK(view.last_index == index_t{5});
  REQUIRE(view.segments.size() == 3);
  CHECK(view.segments[1].first_index == index_t{3});
  CHECK(view.segments[1].last_index == index_t{4});
  CHECK(view.segments[1].records == 2);
  // Works while the directory is open (no LOCK taken) and changes nothing.
  auto s = disk_store::open(options(tmp.data()));
  auto seg = tmp.data() + "/" + format::segment_name(index_t{5});
  auto bytes = read_bytes(seg);
  write_bytes(seg, bytes.substr(0, bytes.size() - 3));
  auto torn = inspect_directory(tmp.data());
  CHECK_FALSE(torn.ok);
  CHECK(torn.bad_is_tail);
  CHECK(torn.bad_file == format::segment_name(index_t{5}));
  CHECK(torn.last_index == index_t{4});
  CHECK(read_bytes(seg).size() == bytes.size() - 3);
  (void) before;
}

TEST_CASE("storage: a gap in segment indexes refuses to open") {
  temp_dir tmp;
  auto rec = record_size();
  make_log(tmp.data(), 6, format::segment_header_bytes + 2 * rec);
  auto middle = tmp.data() + "/" + format::segment_name(index_t{3});
  std::filesystem::remove(middle);
  auto err = error_of([&] { disk_store::open(options(tmp.data())); });
  CHECK(err.find(format::segment_name(index_t{5})) != std::string::npos);
  CHECK(err.find("gap in segment indexes") != std::string::npos);
  auto view = inspect_directory(tmp.data());
  CHECK_FALSE(view.ok);
  CHECK_FALSE(view.bad_is_tail);
}
