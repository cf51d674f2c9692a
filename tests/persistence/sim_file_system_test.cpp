// The page-cache model the crash property test relies on.
#include <catch2/catch.hpp>

#include "persistence/sim_file_system.hpp"

using namespace raft::persistence;

TEST_CASE("storage: sim_file_system loses what was not synced") {
  sim_file_system fs;
  std::mt19937_64 rng{1};
  REQUIRE(fs.mkdir("/d"));
  auto fd = fs.open("/d/a", open_mode::create);
  fs.pwrite(fd, "hello", 5, 0);
  fs.fsync(fd);
  // The name is not durable yet: the file disappears.
  fs.power_loss(rng);
  CHECK_FALSE(fs.exists("/d/a"));
  CHECK(fs.open_handles() == 0);
  CHECK_THROWS_AS(fs.pwrite(fd, "x", 1, 0), io_error);
  fd = fs.open("/d/a", open_mode::create);
  fs.pwrite(fd, "hello", 5, 0);
  fs.fsync(fd);
  fs.fsync_directory("/d");
  fs.pwrite(fd, " world", 6, 5);
  fs.power_loss(rng, false);
  CHECK(fs.read_file("/d/a") == "hello");
  // A rename is durable only after the directory fsync.
  fd = fs.open("/d/b", open_mode::create);
  fs.pwrite(fd, "new", 3, 0);
  fs.fsync(fd);
  fs.close(fd);
  fs.rename("/d/b", "/d/a");
  CHECK(fs.read_file("/d/a") == "new");
  fs.power_loss(rng);
  CHECK(fs.read_file("/d/a") == "hello");
  // Torn appends keep a prefix of the unsynced bytes.
  bool saw_partial = false;
  for (int i = 0; i < 50; ++i) {
    fd = fs.open("/d/a", open_mode::read_write);
    fs.pwrite(fd, "0123456789", 10, 5);
    fs.power_loss(rng);
    auto content = fs.read_file("/d/a");
    REQUIRE(content.size() >= 5);
    CHECK(std::string{"hello0123456789"}.compare(0, content.size(), content)
          == 0);
    saw_partial = saw_partial || (content.size() > 5 && content.size() < 15);
    fd = fs.open("/d/a", open_mode::read_write);
    fs.ftruncate(fd, 5);
    fs.fsync(fd);
  }
  CHECK(saw_partial);
  // Locks conflict between open file descriptions; close releases them.
  auto l1 = fs.open("/d/lock", open_mode::create);
  auto l2 = fs.open("/d/lock", open_mode::create);
  CHECK(fs.try_lock(l1));
  CHECK_FALSE(fs.try_lock(l2));
  fs.close(l1);
  CHECK(fs.try_lock(l2));
  // die_after: the machine stops accepting mutations.
  fs.die_after(1);
  fd = fs.open("/d/a", open_mode::read_write);
  fs.pwrite(fd, "x", 1, 0);
  CHECK_THROWS_AS(fs.fsync(fd), io_error);
  fs.power_loss(rng);
  CHECK(fs.read_file("/d/a") == "hello");
}
