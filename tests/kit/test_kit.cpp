// Self-tests of the test kit: the simulated network's labrpc semantics
// (with scoped actors standing in for peers), the applier's checkLogs, and
// cluster crash/restart and unreliable runs. All on the simulated clock.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/scheduler/test_coordinator.hpp>

#include "messages/type_ids.hpp"
#include "tests/kit/apply_log.hpp"
#include "tests/kit/cluster.hpp"
#include "tests/kit/peer_watch.hpp"
#include "tests/kit/goroutines.hpp"
#include "tests/kit/network_actor.hpp"
#include "tests/kit/run.hpp"

using namespace raft;
using namespace raft::testing;
using namespace std::chrono_literals;

namespace {

/// An actor system on the test coordinator, a network of two slots and
/// three scoped actors: `a` and `b` are the peers of servers 1 and 2 (slots
/// 0 and 1), `c` an impostor.
struct network_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<network_stats> stats = std::make_shared<network_stats>(2);
  std::unique_ptr<caf::scoped_actor> ctl, a, b, c;
  caf::actor net;

  network_fixture() {
    register_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    for (auto* x : {&ctl, &a, &b, &c})
      *x = std::make_unique<caf::scoped_actor>(*sys, true);
    network_config ncfg;
    ncfg.servers = 2;
    ncfg.seed = 42;
    ncfg.stats = stats;
    net = spawn_network(*sys, ncfg);
    attach(0, *a);
    attach(1, *b);
    connect(0, true);
    connect(1, true);
  }

  ~network_fixture() {
    caf::anon_send_exit(net, caf::exit_reason::kill);
    sched->run();
    ctl.reset();
    a.reset();
    b.reset();
    c.reset();
    sys.reset();
  }

  template <class... Ts>
  void control(Ts&&... xs) {
    (*ctl)->send(net, std::forward<Ts>(xs)...);
    sched->run();
    bool ok = false;
    (*ctl)->receive([&](caf::ok_atom) { ok = true; },
                    caf::after(0s) >> [] {});
    REQUIRE(ok);
  }

  void attach(int32_t slot, caf::scoped_actor& who) {
    control(net_attach_atom::value, slot, caf::actor_cast<caf::actor>(who));
  }

  void connect(int32_t slot, bool on) {
    control(net_connect_atom::value, slot, on);
  }

  /// `who` sends `times` request_votes from server `from` to server `to`,
  /// running the network after each.
  void send_request(caf::scoped_actor& who, std::uint32_t from,
                    std::uint32_t to, int times = 1) {
    for (int i = 0; i < times; ++i) {
      who->send(net, server_id{from}, server_id{to},
                request_vote{term_t{1}, server_id{from}, index_t{0},
                             term_t{0}});
      sched->run();
    }
  }

  /// Like send_request(), with request_vote_replies.
  void send_reply(caf::scoped_actor& who, std::uint32_t from,
                  std::uint32_t to, int times = 1) {
    for (int i = 0; i < times; ++i) {
      who->send(net, server_id{from}, server_id{to},
                request_vote_reply{term_t{1}, true});
      sched->run();
    }
  }

  /// Advances virtual time by `d`, delivering what becomes due.
  void advance(caf::timespan d) {
    sched->advance_time(d);
    sched->run();
  }

  /// Drains `who`'s mailbox; returns how many Raft messages it held.
  static int received(caf::scoped_actor& who) {
    int n = 0;
    for (bool done = false; !done;) {
      who->receive([&](server_id, server_id, request_vote&) { ++n; },
                   [&](server_id, server_id, request_vote_reply&) { ++n; },
                   caf::after(0s) >> [&] { done = true; });
    }
    return n;
  }
};

} // namespace

TEST_CASE("network: delivery, disconnection and counters", "[kit]") {
  network_fixture f;
  f.send_request(*f.a, 1, 2);
  CHECK(f.received(*f.b) == 1);
  CHECK(f.stats->rpc_total() == 1);
  CHECK(f.stats->rpc_count(1) == 1);
  auto request_bytes = f.stats->bytes_total();
  CHECK(request_bytes > 0);
  // A reply's bytes count once it is delivered.
  f.send_reply(*f.b, 2, 1);
  CHECK(f.received(*f.a) == 1);
  CHECK(f.stats->rpc_total() == 1);
  auto reply_bytes = f.stats->bytes_total() - request_bytes;
  CHECK(reply_bytes > 0);
  // Disconnected: requests still count as sent, nothing is delivered.
  f.connect(1, false);
  f.send_request(*f.a, 1, 2);
  f.send_reply(*f.b, 2, 1);
  CHECK(f.received(*f.b) == 0);
  CHECK(f.received(*f.a) == 0);
  CHECK(f.stats->rpc_total() == 2);
  CHECK(f.stats->rpc_count(1) == 1);
  CHECK(f.stats->bytes_total() == 2 * request_bytes + reply_bytes);
}

TEST_CASE("network: only the current instance of a server is heard",
          "[kit]") {
  network_fixture f;
  // An actor that is not server 1's current peer cannot speak for it.
  f.send_request(*f.c, 1, 2);
  CHECK(f.received(*f.b) == 0);
  // Server 2 restarts as `c`: the old instance neither sends nor receives.
  f.attach(1, *f.c);
  f.send_request(*f.b, 2, 1);
  CHECK(f.received(*f.a) == 0);
  f.send_request(*f.a, 1, 2);
  CHECK(f.received(*f.b) == 0);
  CHECK(f.received(*f.c) == 1);
  // A crashed server receives nothing.
  f.control(net_detach_atom::value, int32_t{1});
  f.send_request(*f.a, 1, 2);
  CHECK(f.received(*f.c) == 0);
}

TEST_CASE("network: unreliable mode drops about 10 percent", "[kit]") {
  network_fixture f;
  f.control(net_reliable_atom::value, false);
  constexpr int n = 2000;
  f.send_request(*f.a, 1, 2, n);
  f.advance(26ms); // every request delay is 0-26 ms
  auto requests = f.received(*f.b);
  CHECK(requests > n * 85 / 100);
  CHECK(requests < n * 95 / 100);
  CHECK(f.stats->rpc_count(1) == static_cast<std::uint64_t>(requests));
  f.advance(10s);
  CHECK(f.received(*f.b) == 0);
  f.send_reply(*f.b, 2, 1, n);
  auto replies = f.received(*f.a); // replies are not delayed
  CHECK(replies > n * 85 / 100);
  CHECK(replies < n * 95 / 100);
}

TEST_CASE("network: long reordering delays replies 200-2199 ms", "[kit]") {
  network_fixture f;
  f.control(net_reorder_atom::value, true);
  constexpr int n = 900;
  f.send_reply(*f.b, 2, 1, n);
  auto immediate = f.received(*f.a);
  CHECK(immediate > n / 4);
  CHECK(immediate < n * 42 / 100);
  f.advance(199ms);
  CHECK(f.received(*f.a) == 0);
  f.advance(2000ms); // now at 2199 ms
  CHECK(immediate + f.received(*f.a) == n);
  // Requests are never reordered this way.
  f.send_request(*f.a, 1, 2);
  CHECK(f.received(*f.b) == 1);
  // A delayed reply to a server that restarted meanwhile is lost.
  f.send_reply(*f.b, 2, 1, n);
  immediate = f.received(*f.a);
  f.attach(0, *f.c);
  f.advance(3s);
  CHECK(f.received(*f.a) == 0);
  CHECK(f.received(*f.c) == 0);
  CHECK(immediate < n);
}

TEST_CASE("applier: checkLogs errors and stale incarnations", "[kit]") {
  apply_log log{2};
  auto a = log.new_incarnation(0);
  auto b = log.new_incarnation(1);
  log.record(0, a, 1, "x");
  log.record(1, b, 1, "x");
  CHECK(log.first_error().empty());
  CHECK(log.max_index() == 1);
  // A crashed incarnation's late applies are ignored.
  log.end_incarnation(1);
  log.record(1, b, 2, "zombie");
  CHECK_FALSE(log.get(1, 2));
  // A restarted server may apply from index 1 again, with the same values.
  auto b2 = log.new_incarnation(1);
  log.record(1, b2, 1, "x");
  CHECK(log.first_error().empty());
  // A gap.
  log.record(0, a, 3, "z");
  CHECK(log.error(0) == "apply error: server 0 apply out of order 3");
  // A different value at an index another server applied.
  log.record(1, b2, 2, "y");
  log.record(1, b2, 3, "w");
  CHECK(log.error(1) == "apply error: commit index=3 server=1 w != server=0 z");
}

TEST_CASE("snapshot applier: applierSnap checks and ingestSnap", "[kit]") {
  apply_log log{2};
  auto a = log.new_incarnation(0);
  // Encoding round trip, including a value with separators and a gap.
  std::map<std::uint64_t, std::string> values{{1, "x"}, {2, "a:+-\nb"}};
  auto bytes = apply_log::encode_snapshot(3, values);
  auto decoded = apply_log::decode_snapshot(bytes);
  REQUIRE(decoded);
  CHECK(decoded->first == 3);
  CHECK(decoded->second == values);
  CHECK_FALSE(apply_log::decode_snapshot(bytes + "x"));
  CHECK_FALSE(apply_log::decode_snapshot(bytes.substr(0, bytes.size() - 1)));
  CHECK_FALSE(apply_log::decode_snapshot("garbage"));
  // Commands must follow lastApplied.
  for (std::uint64_t i = 1; i <= 9; ++i)
    log.record_snap(0, a, i, std::to_string(i));
  CHECK(log.first_error().empty());
  CHECK(log.last_applied(0) == 9);
  auto snap = log.snapshot_of(0, a, 9);
  REQUIRE(snap);
  // A restart: lastApplied is 0 until the snapshot is ingested.
  auto a2 = log.new_incarnation(0);
  CHECK(log.last_applied(0) == 0);
  CHECK_FALSE(log.snapshot_of(0, a, 9)); // stale incarnation
  log.ingest_snapshot(0, a2, *snap, 9);
  CHECK(log.first_error().empty());
  CHECK(log.last_applied(0) == 9);
  CHECK(log.get(0, 9) == std::string{"9"});
  log.record_snap(0, a2, 10, "10");
  CHECK(log.first_error().empty());
  // A command that does not follow lastApplied.
  log.record_snap(0, a2, 12, "12");
  CHECK(log.error(0)
        == "apply error: server 0 apply out of order, expected index 11, "
           "got 12");
  // A snapshot whose index is not m.SnapshotIndex; an empty one.
  auto b = log.new_incarnation(1);
  log.ingest_snapshot(1, b, *snap, 8);
  CHECK(log.error(1)
        == "apply error: server 1 snapshot doesn't match m.SnapshotIndex "
           "(9 != 8)");
  apply_log log2{1};
  auto c = log2.new_incarnation(0);
  log2.ingest_snapshot(0, c, "", 0);
  CHECK(log2.error(0) == "apply error: nil snapshot");
}

TEST_CASE("snapshot applier: offers a snapshot per batch crossing 10k-1",
          "[kit]") {
  auto log = std::make_shared<apply_log>(1);
  auto inc = log->new_incarnation(0);
  snapshot_applier app{log, 0, inc};
  auto cmd = [](std::uint64_t i) {
    return apply_msg::of_command(index_t{i}, term_t{}, std::to_string(i));
  };
  for (std::uint64_t i = 1; i <= 8; ++i)
    app.apply(cmd(i));
  CHECK_FALSE(app.take_snapshot(index_t{8}));
  // A batch 9..12 crosses index 9: one snapshot at the batch's end.
  for (std::uint64_t i = 9; i <= 12; ++i)
    app.apply(cmd(i));
  auto snap = app.take_snapshot(index_t{12});
  REQUIRE(snap);
  CHECK(apply_log::decode_snapshot(*snap)->first == 12);
  CHECK_FALSE(app.take_snapshot(index_t{12}));
  // Ingesting a snapshot through apply_msg.
  auto m = apply_msg::of_snapshot(log_id{term_t{}, index_t{12}}, *snap);
  auto inc2 = log->new_incarnation(0);
  snapshot_applier app2{log, 0, inc2};
  app2.apply(m);
  CHECK(log->last_applied(0) == 12);
  app2.apply(cmd(13));
  CHECK(log->first_error().empty());
}

TEST_CASE("cluster: crash and restart keep what was persisted", "[kit]") {
  for_each_run("kit: crash and restart", 3, false, [](cluster& cfg) {
    CHECK(cfg.one("1", 3, false) == 1);
    CHECK(cfg.one("2", 3, false) == 2);
    CHECK(cfg.log_size() > 0);
    for (int i = 0; i < cfg.servers(); ++i)
      cfg.crash(i);
    CHECK_FALSE(cfg.alive(0));
    for (int i = 0; i < cfg.servers(); ++i)
      cfg.restart(i);
    // start1 does not connect.
    CHECK_FALSE(cfg.connected(0));
    cfg.sleep(2s);
    for (int i = 0; i < cfg.servers(); ++i)
      CHECK_FALSE(cfg.get_state(i).second);
    for (int i = 0; i < cfg.servers(); ++i)
      cfg.connect(i);
    CHECK(cfg.one("3", 3, true) == 3);
    // A restart of a live server (start1 = crash1 + start) and a follower
    // that catches up after reconnecting.
    auto leader = cfg.check_one_leader();
    cfg.restart((leader + 1) % 3);
    CHECK(cfg.one("4", 2, true) == 4);
    cfg.connect((leader + 1) % 3);
    CHECK(cfg.one("5", 3, true) == 5);
  });
}

TEST_CASE("cluster: agreement on an unreliable network", "[kit]") {
  for_each_run("kit: unreliable agreement", 5, true, [](cluster& cfg) {
    for (int i = 1; i <= 20; ++i)
      CHECK(cfg.one(std::to_string(i), 5, true) >= static_cast<unsigned>(i));
    std::uint64_t delivered = 0;
    for (int i = 0; i < cfg.servers(); ++i)
      delivered += cfg.rpc_count(i);
    CHECK(delivered < cfg.rpc_total());
    cfg.set_unreliable(false);
    cfg.set_long_reordering(true);
    for (int i = 21; i <= 30; ++i)
      cfg.one(std::to_string(i), 5, true);
  });
}

// The checks must fail when their condition does not hold (and not hang).
TEST_CASE("cluster: check_no_leader fails while there is a leader",
          "[kit][!shouldfail]") {
  for_each_run("kit: check_no_leader must fail", 3, false, [](cluster& cfg) {
    cfg.check_one_leader();
    cfg.check_no_leader();
  });
}

TEST_CASE("cluster: one() fails without a majority",
          "[kit][!shouldfail]") {
  for_each_run("kit: one() must fail", 3, false, [](cluster& cfg) {
    auto leader = cfg.check_one_leader();
    cfg.disconnect((leader + 1) % 3);
    cfg.disconnect((leader + 2) % 3);
    cfg.one("1", 2, false);
  });
}

TEST_CASE("peer watch: an actor that stops with an error is reported, one "
          "that is killed is not",
          "[kit]") {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("testing"));
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(
    sys.scheduler());
  auto target = [](caf::event_based_actor* self) -> caf::behavior {
    return {[self](caf::ok_atom) {
      self->quit(caf::make_error(caf::sec::runtime_error, "broken"));
    }};
  };
  std::vector<std::string> failures;
  auto failing = sys.spawn(target);
  auto killed = sys.spawn(target);
  auto record = [&](const std::string& why) { failures.push_back(why); };
  auto w1 = watch_for_failure(sys, failing, record);
  auto w2 = watch_for_failure(sys, killed, record);
  sched.run();
  CHECK(failures.empty());
  caf::anon_send(failing, caf::ok_atom::value);
  caf::anon_send_exit(killed, caf::exit_reason::kill);
  sched.run();
  REQUIRE(failures.size() == 1);
  CHECK_THAT(failures[0], Catch::Contains("broken"));
}

// A peer that stops on its own -- here a persisted acknowledgement for a
// batch it never emitted, a broken contract -- fails the test.
TEST_CASE("cluster: a peer that stops with an error fails the test",
          "[kit][!shouldfail]") {
  for_each_run("kit: a failed peer must fail the test", 3, false,
               [](cluster& cfg) {
                 cfg.check_one_leader();
                 caf::anon_send(cfg.peer(0),
                                persisted{term_t{99}, index_t{99}});
                 cfg.sleep(std::chrono::milliseconds{100});
                 cfg.n_committed(1);
               });
}

TEST_CASE("goroutines: run by wake-up time, time passes only in sleeps",
          "[kit]") {
  for_each_run("kit: goroutines", 3, false, [](cluster& cfg) {
    goroutines gs{cfg};
    auto t0 = cfg.now();
    std::vector<std::pair<std::string, long long>> trace;
    auto note = [&](std::string what) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        cfg.now() - t0);
      trace.emplace_back(std::move(what), static_cast<long long>(ms.count()));
    };
    gs.go([&] {
      note("a0");
      cfg.sleep(30ms);
      note("a30");
    });
    gs.go([&] {
      note("b0");
      cfg.sleep(10ms);
      note("b10");
      cfg.get_state(0); // a preemption point: nobody else is due
      cfg.sleep(50ms);
      note("b60");
    });
    note("main0"); // goroutines first run when main sleeps
    cfg.sleep(20ms);
    note("main20");
    CHECK(gs.running() == 2);
    gs.wait_all();
    note("main-joined");
    CHECK(gs.running() == 0);
    using trace_t = std::vector<std::pair<std::string, long long>>;
    CHECK(trace
          == trace_t{{"main0", 0}, {"a0", 0}, {"b0", 0}, {"b10", 10},
                     {"main20", 20}, {"a30", 30}, {"b60", 60},
                     {"main-joined", 60}});
  });
}

TEST_CASE("goroutines: a failing goroutine fails the test at once",
          "[kit][!shouldfail]") {
  for_each_run("kit: goroutine fails", 3, false, [](cluster& cfg) {
    goroutines gs{cfg};
    gs.go([&] {
      cfg.sleep(10ms);
      cfg.fail("goroutine failed on purpose");
    });
    gs.go([&] {
      for (;;)
        cfg.sleep(5ms); // unwound by ~goroutines
    });
    cfg.sleep(std::chrono::hours{1}); // interrupted by the failure
  });
}
