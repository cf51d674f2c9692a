// open() refuses directories it must not use, with one clear line.
#include <catch2/catch.hpp>

#include <filesystem>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/persistence/helpers.hpp"

using namespace raft;
using namespace raft::persistence;
using namespace raft::persistence::testing;

TEST_CASE("storage: IDENTITY of another cluster or node is refused") {
  temp_dir tmp;
  disk_store::open(options(tmp.data()));
  auto other_cluster = options(tmp.data());
  other_cluster.cluster_id = "another";
  auto err = error_of([&] { disk_store::open(other_cluster); });
  CHECK(err.find("IDENTITY") != std::string::npos);
  CHECK(err.find("cluster 'test-cluster', not 'another'") != std::string::npos);
  auto other_node = options(tmp.data());
  other_node.node = server_id{2};
  err = error_of([&] { disk_store::open(other_node); });
  CHECK(err.find("belongs to node 1, not node 2") != std::string::npos);
  // The refusals changed nothing: the right node still opens.
  CHECK_NOTHROW(disk_store::open(options(tmp.data())));
}

TEST_CASE("storage: an unknown format version is refused") {
  temp_dir tmp;
  disk_store::open(options(tmp.data()));
  format::identity id;
  id.format_version = 2;
  id.cluster_id = "test-cluster";
  id.node = server_id{1};
  write_bytes(tmp.data() + "/IDENTITY", format::encode_identity(id));
  auto err = error_of([&] { disk_store::open(options(tmp.data())); });
  CHECK(err.find("IDENTITY: unknown format version 2 (this build reads "
                 "version 1)")
        != std::string::npos);
}

TEST_CASE("storage: a foreign non-empty directory is refused") {
  temp_dir tmp;
  std::filesystem::create_directory(tmp.data());
  write_bytes(tmp.data() + "/notes.txt", "not ours");
  auto err = error_of([&] { disk_store::open(options(tmp.data())); });
  CHECK(err.find("no IDENTITY") != std::string::npos);
  CHECK(err.find("notes.txt") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp.data() + "/LOCK"));
  // Invalid options and a missing parent are refused as well.
  CHECK_FALSE(error_of([&] {
                auto o = options(tmp.path() + "/missing/parent");
                disk_store::open(o);
              }).empty());
  auto bad_id = options(tmp.path() + "/x");
  bad_id.cluster_id = "has space";
  CHECK_FALSE(error_of([&] { disk_store::open(bad_id); }).empty());
  auto no_node = options(tmp.path() + "/x");
  no_node.node = no_server;
  CHECK_FALSE(error_of([&] { disk_store::open(no_node); }).empty());
}

TEST_CASE("storage: LOCK held by a second open is refused, crash releases it") {
  temp_dir tmp;
  auto first = disk_store::open(options(tmp.data()));
  first->write(batch(hs(1), entries(1, 2, 1), 2));
  first->sync();
  auto err = error_of([&] { disk_store::open(options(tmp.data())); });
  CHECK(err.find("LOCK: locked by pid " + std::to_string(::getpid()))
        != std::string::npos);
  CHECK(err.find("stop that process or use another --data-dir")
        != std::string::npos);
  first->crash();
  first->crash(); // idempotent
  auto second = disk_store::open(options(tmp.data()));
  CHECK(second->load().entries == entries(1, 2, 1));
}

TEST_CASE("storage: LOCK held by another process is refused") {
  temp_dir tmp;
  disk_store::open(options(tmp.data())); // initialise
  int to_child[2];
  int to_parent[2];
  REQUIRE(::pipe(to_child) == 0);
  REQUIRE(::pipe(to_parent) == 0);
  auto pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: hold the store until the parent says so.
    int rc = 0;
    try {
      auto s = disk_store::open(options(tmp.data()));
      char c = 'x';
      if (::write(to_parent[1], &c, 1) != 1 || ::read(to_child[0], &c, 1) != 1)
        rc = 2;
    } catch (...) {
      rc = 1;
    }
    ::_exit(rc);
  }
  char c = 0;
  REQUIRE(::read(to_parent[0], &c, 1) == 1);
  auto err = error_of([&] { disk_store::open(options(tmp.data())); });
  CHECK(err.find("locked by pid " + std::to_string(pid)) != std::string::npos);
  REQUIRE(::write(to_child[1], &c, 1) == 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]})
    ::close(fd);
  CHECK_NOTHROW(disk_store::open(options(tmp.data())));
}
