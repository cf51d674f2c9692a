// persister_actor: load, group commit (one sync per mailbox drain,
// docs/architecture.md §2.3), ordered acknowledgements, and loud failure.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "actors/persister_actor.hpp"
#include "messages/crc32.hpp"
#include "persistence/disk_store.hpp"
#include "persistence/faulty_file_system.hpp"
#include "tests/actors/caf_fixture.hpp"

using namespace raft;
using namespace raft::test;
using raft::actors::persister_actor;

namespace {

/// A batch appending entry `index` in `term`.
persist_batch append_one(std::uint64_t term, std::uint64_t index) {
  persist_batch b;
  b.hard_state = hard_state{term_t{term}, server_id{1}};
  b.entries = {entry(term, index, "cmd" + std::to_string(index))};
  b.last = log_id{term_t{term}, index_t{index}};
  return b;
}

} // namespace

TEST_CASE_METHOD(caf_fixture,
                 "persister: batches queued in one drain share one sync",
                 "[persister][group-commit]") {
  auto store = std::make_shared<counting_store>();
  auto p = sys.spawn(persister_actor, store);
  constexpr std::uint64_t n = 5;
  for (std::uint64_t i = 1; i <= n; ++i)
    self->send(p, append_one(1, i));
  sched.run();
  CHECK(store->writes == static_cast<int>(n));
  CHECK(store->syncs == 1);
  // One acknowledgement per batch, in order.
  for (std::uint64_t i = 1; i <= n; ++i)
    CHECK(receive_now<persisted>() == persisted{term_t{1}, index_t{i}});
  CHECK(self_mailbox_empty());
  // A later batch gets a sync of its own.
  self->send(p, append_one(2, n + 1));
  sched.run();
  CHECK(store->syncs == 2);
  CHECK(receive_now<persisted>() == persisted{term_t{2}, index_t{n + 1}});
  // Everything acknowledged is durable.
  auto st = store->inner.load();
  CHECK(st.entries.size() == n + 1);
  CHECK(st.hard.current_term == term_t{2});
}

TEST_CASE_METHOD(caf_fixture,
                 "persister: sync_each_batch syncs every batch on its own",
                 "[persister][group-commit]") {
  auto store = std::make_shared<counting_store>();
  auto p = sys.spawn(actors::persister_actor_with_policy, store,
                     actors::flush_policy::sync_each_batch);
  constexpr std::uint64_t n = 5;
  for (std::uint64_t i = 1; i <= n; ++i)
    self->send(p, append_one(1, i));
  sched.run();
  CHECK(store->writes == static_cast<int>(n));
  CHECK(store->syncs == static_cast<int>(n));
  for (std::uint64_t i = 1; i <= n; ++i)
    CHECK(receive_now<persisted>() == persisted{term_t{1}, index_t{i}});
  CHECK(self_mailbox_empty());
  CHECK(store->inner.load().entries.size() == n);
}

TEST_CASE_METHOD(caf_fixture, "persister: load returns the durable state",
                 "[persister]") {
  auto store = std::make_shared<counting_store>();
  store->inner.write(append_one(3, 1));
  store->inner.sync();
  store->inner.write(append_one(3, 2)); // staged only: not loaded
  auto p = sys.spawn(persister_actor, store);
  self->send(p, load_atom::value);
  sched.run();
  bool got = false;
  self->receive(
    [&](hard_state& h, log_id& base, std::string& snapshot, log_entries& es) {
      CHECK(snapshot.empty());
      got = true;
      CHECK(h.current_term == term_t{3});
      CHECK(base == log_id{});
      REQUIRE(es.size() == 1);
      CHECK(es[0].index == index_t{1});
    },
    caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK(got);
}

TEST_CASE_METHOD(caf_fixture,
                 "persister: a store failure acknowledges nothing and stops",
                 "[persister][failure]") {
  auto store = std::make_shared<counting_store>();
  SECTION("sync fails") {
    store->fail_syncs = true;
  }
  SECTION("write fails") {
    store->fail_writes = true;
  }
  auto p = sys.spawn(persister_actor, store);
  self->monitor(p);
  self->send(p, append_one(1, 1));
  self->send(p, append_one(1, 2));
  sched.run();
  auto dm = receive_now<caf::down_msg>();
  CHECK(dm.source == p.address());
  CHECK(dm.reason != caf::exit_reason::normal);
  CHECK(self_mailbox_empty()); // no persisted
}

TEST_CASE_METHOD(caf_fixture,
                 "persister: a batch that does not fit the log is fatal",
                 "[persister][failure]") {
  auto store = std::make_shared<persistence::memory_store>();
  auto p = sys.spawn(persister_actor, store);
  self->monitor(p);
  self->send(p, append_one(1, 1));
  self->send(p, append_one(1, 3)); // a gap
  sched.run();
  auto dm = receive_now<caf::down_msg>();
  CHECK(dm.reason != caf::exit_reason::normal);
  CHECK(self_mailbox_empty());
  CHECK(store->load().entries.empty()); // nothing was synced
}

TEST_CASE_METHOD(caf_fixture,
                 "persister: disk full or EIO on the disk store acknowledges "
                 "nothing and stops",
                 "[persister][failure][disk]") {
  using persistence::faulty_file_system;
  char tmpl[] = "/tmp/caf-raft-persister-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = std::string{tmpl} + "/node";
  auto fs = std::make_shared<faulty_file_system>();
  persistence::disk_options o;
  o.dir = dir;
  o.cluster_id = "test";
  o.node = server_id{1};
  o.fs = fs;
  std::shared_ptr<persistence::disk_store> store
    = persistence::disk_store::open(o);
  auto p = sys.spawn(persister_actor,
                     std::static_pointer_cast<persistence::store>(store));
  self->monitor(p);
  // One batch goes through and is acknowledged.
  self->send(p, append_one(1, 1));
  sched.run();
  CHECK(receive_now<persisted>() == persisted{term_t{1}, index_t{1}});
  int err = ENOSPC;
  SECTION("the write fails with ENOSPC") {
    fs->inject(faulty_file_system::op::write, 1, ENOSPC, true);
  }
  SECTION("the fdatasync fails with EIO") {
    err = EIO;
    fs->inject(faulty_file_system::op::sync, 1, EIO, true);
  }
  INFO("errno " << err);
  self->send(p, append_one(1, 2));
  sched.run();
  auto dm = receive_now<caf::down_msg>();
  CHECK(dm.source == p.address());
  CHECK(dm.reason != caf::exit_reason::normal);
  CHECK(self_mailbox_empty()); // entry 2 is never acknowledged
  // The process dies; what is on disk is entry 1 and nothing else.
  store->crash();
  fs->heal();
  o.fs = nullptr;
  auto reopened = persistence::disk_store::open(o);
  auto st = reopened->load();
  REQUIRE(st.entries.size() == 1);
  CHECK(st.entries[0].index == index_t{1});
  reopened.reset();
  std::filesystem::remove_all(tmpl);
}

TEST_CASE_METHOD(caf_fixture,
                 "persister: stages snapshot chunks in order with the batches "
                 "and returns a staged install's bytes before its ack",
                 "[persister][snapshot]") {
  auto store = std::make_shared<counting_store>();
  auto p = sys.spawn(persister_actor, store);
  std::string data = "state machine bytes";
  auto id = log_id{term_t{2}, index_t{9}};
  self->send(p, append_one(1, 1));
  self->send(p, snapshot_chunk{id, 0, data.substr(0, 7)});
  self->send(p, snapshot_chunk{id, 7, data.substr(7)});
  persist_batch install;
  install.hard_state = hard_state{term_t{2}, server_id{}};
  install.last = id;
  install.snapshot.push_back(
    snapshot_install::staged_bytes(id, data.size(), raft::crc32(data)));
  self->send(p, install);
  sched.run();
  CHECK(store->chunks == 2);
  CHECK(store->syncs == 1);
  CHECK(receive_now<persisted>() == persisted{term_t{1}, index_t{1}});
  // The bytes, read back from the store, come before the acknowledgement.
  CHECK(receive_now<snapshot_read_back>() == snapshot_read_back{id, data});
  CHECK(receive_now<persisted>() == persisted{term_t{2}, index_t{9}});
  CHECK(self_mailbox_empty());
  CHECK(store->inner.load().snapshot == data);
}
