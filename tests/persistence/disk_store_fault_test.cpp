// A failed write or fsync makes sync() throw and poisons the store; a reopen
// shows only what earlier successful syncs covered.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "persistence/faulty_file_system.hpp"
#include "tests/persistence/helpers.hpp"

using namespace raft;
using namespace raft::persistence;
using namespace raft::persistence::testing;

namespace {

using op = faulty_file_system::op;

struct fault_case {
  const char* name;
  op which;
  std::uint64_t nth;
  int err;
  bool sticky;
  bool partial;
  /// The failing batch changes the hard state.
  bool new_hard_state;
  /// Tiny segments: the failing batch rolls over to new segments.
  bool roll;
  /// The failure hits after HARDSTATE was renamed: it may be new on disk.
  bool hard_state_may_be_new;
  /// The fault also blocks the rollback (ftruncate), so complete records of
  /// the failed write may survive: never acknowledged, but not an error for
  /// Raft (an unacknowledged append may or may not survive a crash).
  bool may_keep_unacked = false;
};

const fault_case cases[] = {
  {"EIO on the record write", op::write, 1, EIO, false, false, false, false,
   false},
  {"ENOSPC halfway through the record write, sticky", op::write, 1, ENOSPC,
   true, true, false, false, false, true},
  {"ENOSPC halfway through the record write, once", op::write, 1, ENOSPC,
   false, true, false, false, false},
  {"EIO on fdatasync of the segment", op::sync, 1, EIO, false, false, false,
   false, false},
  {"EIO on every sync from now on", op::sync, 1, EIO, true, false, true, true,
   false},
  {"EIO on fsync of the new hard state", op::sync, 1, EIO, false, false, true,
   false, false},
  {"ENOSPC writing the new hard state", op::write, 1, ENOSPC, false, false,
   true, false, false},
  {"EIO on the directory fsync after the rename", op::sync, 2, EIO, false,
   false, true, false, true},
  {"EIO on the directory fsync of a new segment", op::sync, 2, EIO, false,
   false, false, true, false},
  {"EIO on the third sync of a rolling append", op::sync, 3, EIO, false,
   false, false, true, false},
  {"ENOSPC on the second segment's write, partial", op::write, 2, ENOSPC,
   false, true, false, true, false},
  {"EIO on every mutation from now on", op::any_mutation, 1, EIO, true, false,
   true, true, false},
};

} // namespace

TEST_CASE("storage: a failed write or fsync poisons the store") {
  for (auto& c : cases) {
    INFO("case: " << c.name);
    temp_dir tmp;
    auto fs = std::make_shared<faulty_file_system>();
    auto opts = options(tmp.data(), fs, c.roll ? 90 : 64 << 20);
    auto s = disk_store::open(opts);
    s->write(batch(hs(1, 1), entries(1, 3, 1), 3));
    s->sync();
    auto acked = s->load();
    fs->inject(c.which, c.nth, c.err, c.sticky, c.partial);
    s->write(batch(c.new_hard_state ? hs(2, 2) : hs(1, 1), entries(4, 9, 1),
                   9));
    auto err = error_of([&] { s->sync(); });
    CHECK(fs->failures() >= 1);
    CHECK(err.find("sync failed") != std::string::npos);
    CHECK(err.find(tmp.data()) != std::string::npos);
    // Poisoned: nothing is reported durable, nothing more is accepted.
    CHECK_THROWS_AS(s->load(), store_error);
    CHECK_THROWS_AS(s->sync(), store_error);
    CHECK_THROWS_AS(s->raft_state_size(), store_error);
    CHECK_THROWS_AS(s->write(batch(hs(1, 1), {}, 3)), store_error);
    CHECK(s->sync_count() == 1);
    s->crash(); // releases LOCK
    fs->heal();
    auto r = disk_store::open(opts);
    auto got = r->load().entries;
    if (c.may_keep_unacked) {
      // A prefix of the staged log that contains the acknowledged one.
      REQUIRE(got.size() >= acked.entries.size());
      auto staged = entries(1, 9, 1);
      CHECK(std::equal(got.begin(), got.end(), staged.begin()));
    } else {
      CHECK(got == acked.entries);
    }
    if (c.hard_state_may_be_new)
      CHECK((r->load().hard == acked.hard || r->load().hard == hs(2, 2)));
    else
      CHECK(r->load().hard == acked.hard);
    CHECK_FALSE(std::filesystem::exists(tmp.data() + "/HARDSTATE.tmp"));
    // And the reopened store works.
    r->write(batch(hs(3, 0), entries(4, 4, 3), 4, 4));
    r->sync();
    r.reset();
    CHECK(disk_store::open(opts)->load().entries.size() == 4);
  }
}

TEST_CASE("storage: a failing filesystem during open is one clear error") {
  temp_dir tmp;
  auto fs = std::make_shared<faulty_file_system>();
  fs->inject(op::sync, 1, EIO, true);
  auto err = error_of([&] { disk_store::open(options(tmp.data(), fs)); });
  CHECK(err.find("data directory " + tmp.data()) == 0);
  CHECK(err.find("Input/output error") != std::string::npos);
  CHECK(err.find('\n') == std::string::npos);
  fs->heal();
  CHECK_NOTHROW(disk_store::open(options(tmp.data(), fs)));
}
