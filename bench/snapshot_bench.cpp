// snapshot-bench: commands through a 3-node in-process cluster on the disk
// store with a snapshot every N applied entries, and the time to bring a
// wiped follower back with a large snapshot.
//
// Phase 1 (--commands, default 1,000,000): a driver keeps --inflight
// commands outstanding at the leader's state machine actor. The machine is
// a fixed table of 1024 slots of 64 bytes (a command overwrites one slot),
// so its state -- and with snapshots every --snapshot-every entries, the
// log, the memory and the data directories -- should stay flat. Prints
// commits/s, RSS and the data directories' size every 10 % of the run.
//
// Phase 2 (--big-snapshot-mib, default 100; 0 skips it): a fresh cluster
// whose machine carries that much state; it snapshots, one follower is
// stopped and its data directory wiped, then restarted: prints the time
// until its machine was restored from the leader's snapshot (chunked
// InstallSnapshot, 1 MiB chunks) and had applied the latest command.
//
//   ./build/bench/snapshot-bench [--commands N] [--snapshot-every N]
//                                [--inflight N] [--big-snapshot-mib M]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actors/node_supervisor.hpp"
#include "actors/transport.hpp"
#include "bench/bench_support.hpp"
#include "messages/type_ids.hpp"
#include "persistence/disk_store.hpp"

using namespace std::chrono_literals;
using raft::bench::clock_type;

namespace {

struct options {
  std::uint64_t commands = 1000000;
  std::uint64_t snapshot_every = 10000;
  int inflight = 256;
  std::uint64_t big_snapshot_mib = 100;
};

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// VmRSS or VmHWM of this process, in MiB.
double proc_status_mib(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f)
    return 0;
  char line[256];
  double result = 0;
  auto len = std::strlen(key);
  while (std::fgets(line, sizeof(line), f))
    if (std::strncmp(line, key, len) == 0)
      result = std::atof(line + len + 1) / 1024.0;
  std::fclose(f);
  return result;
}

double dir_mib(const std::string& dir) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec))
      total += e.file_size(ec);
  return static_cast<double>(total) / (1024.0 * 1024.0);
}

/// What a node's machine reports to the benchmark.
struct machine_log {
  std::atomic<std::uint64_t> applied{0};
  std::atomic<std::uint64_t> snapshots_taken{0};
  std::atomic<std::uint64_t> restored_at{0};
};

/// 1024 slots of 64 bytes plus `ballast` bytes of state; a command
/// "<slot>:<value>" overwrites one slot. Snapshots every `every` entries.
class table_machine : public raft::actors::state_machine {
public:
  table_machine(std::shared_ptr<machine_log> log, std::uint64_t every,
                std::size_t ballast)
    : log_(std::move(log)), every_(every), table_(1024 * 64, ' '),
      ballast_(ballast, 'b') {
  }

  std::string apply(const raft::apply_msg& m) override {
    if (m.snapshot_valid) {
      ballast_ = m.snapshot.substr(0, m.snapshot.size() - table_.size());
      table_ = m.snapshot.substr(m.snapshot.size() - table_.size());
      log_->restored_at = m.snapshot_index.value;
      log_->applied = m.snapshot_index.value;
      return {};
    }
    if (!m.command_valid)
      return {};
    auto colon = m.command.find(':');
    auto slot = std::strtoul(m.command.c_str(), nullptr, 10) % 1024;
    auto value = m.command.substr(colon == std::string::npos ? 0 : colon + 1);
    value.resize(64, ' ');
    table_.replace(slot * 64, 64, value);
    log_->applied = m.command_index.value;
    return {};
  }

  std::optional<std::string> take_snapshot(raft::index_t applied) override {
    if (applied.value < last_snapshot_ + every_)
      return std::nullopt;
    last_snapshot_ = applied.value;
    ++log_->snapshots_taken;
    return ballast_ + table_;
  }

private:
  std::shared_ptr<machine_log> log_;
  std::uint64_t every_;
  std::uint64_t last_snapshot_ = 0;
  std::string table_;
  std::string ballast_;
};

/// Three nodes on disk stores under `root`, behind a direct transport.
class bench_cluster {
public:
  bench_cluster(caf::actor_system& sys, std::string root, std::uint64_t every,
                std::size_t ballast)
    : sys_(sys), root_(std::move(root)), every_(every), ballast_(ballast) {
    std::filesystem::create_directories(root_);
    transport_ = raft::actors::spawn_direct_transport(sys_);
    for (std::uint32_t id = 1; id <= 3; ++id) {
      logs_[id] = std::make_shared<machine_log>();
      start(id);
    }
  }

  ~bench_cluster() {
    for (auto& h : nodes_)
      if (h.supervisor)
        raft::actors::stop_node(h);
    caf::anon_send_exit(transport_, caf::exit_reason::user_shutdown);
  }

  std::string dir(std::uint32_t id) const {
    return root_ + "/node-" + std::to_string(id);
  }

  void start(std::uint32_t id) {
    raft::persistence::disk_options d;
    d.dir = dir(id);
    d.cluster_id = "bench";
    d.node = raft::server_id{id};
    stores_[id] = raft::persistence::disk_store::open(d);
    raft::actors::node_options o;
    o.raft.id = raft::server_id{id};
    o.raft.members = {raft::server_id{1}, raft::server_id{2},
                      raft::server_id{3}};
    o.raft.rng_seed = id;
    o.store = stores_[id];
    o.transport = transport_;
    auto log = logs_[id];
    auto every = every_;
    auto ballast = ballast_;
    o.make_state_machine = [log, every, ballast] {
      return std::make_unique<table_machine>(log, every, ballast);
    };
    nodes_[id - 1] = raft::actors::spawn_node(sys_, std::move(o));
    caf::anon_send(transport_, raft::register_atom::value,
                   raft::server_id{id}, nodes_[id - 1].peer);
  }

  /// Stops node `id` and waits until its store is closed.
  void stop(std::uint32_t id) {
    raft::actors::stop_node(nodes_[id - 1]);
    nodes_[id - 1] = raft::actors::node_handles{};
    stores_[id]->crash(); // closes the files and releases LOCK
    stores_[id].reset();
    logs_[id] = std::make_shared<machine_log>();
  }

  /// The leader's id, waiting up to 10 s; 0 if none.
  std::uint32_t leader() {
    caf::scoped_actor self{sys_};
    auto deadline = clock_type::now() + 10s;
    while (clock_type::now() < deadline) {
      for (std::uint32_t id = 1; id <= 3; ++id) {
        if (!nodes_[id - 1].peer)
          continue;
        bool is_leader = false;
        self->request(nodes_[id - 1].peer, 1s, caf::get_atom::value,
                      raft::status_atom::value)
          .receive(
            [&](const raft::peer_status& s) {
              is_leader = s.role == raft::role::leader;
            },
            [](caf::error&) {});
        if (is_leader)
          return id;
      }
      std::this_thread::sleep_for(20ms);
    }
    return 0;
  }

  const raft::actors::node_handles& node(std::uint32_t id) const {
    return nodes_[id - 1];
  }
  machine_log& log(std::uint32_t id) {
    return *logs_[id];
  }

private:
  caf::actor_system& sys_;
  std::string root_;
  std::uint64_t every_;
  std::size_t ballast_;
  caf::actor transport_;
  raft::actors::node_handles nodes_[3];
  std::map<std::uint32_t, std::shared_ptr<raft::persistence::disk_store>>
    stores_;
  std::map<std::uint32_t, std::shared_ptr<machine_log>> logs_;
};

/// Keeps `inflight` commands outstanding at `target` until `total` were
/// acknowledged; replies (submit_atom) with the number acknowledged.
caf::behavior driver(caf::event_based_actor* self, caf::actor target,
                     std::uint64_t total, int inflight) {
  struct st {
    std::uint64_t sent = 0;
    std::uint64_t acked = 0;
    std::uint64_t failed = 0;
    caf::response_promise done;
  };
  auto s = std::make_shared<st>();
  auto send_one = std::make_shared<std::function<void()>>();
  *send_one = [self, target, total, s, send_one] {
    if (s->sent >= total)
      return;
    auto n = s->sent++;
    self->request(target, caf::infinite, raft::submit_atom::value,
                  std::to_string(n % 1024) + ":v" + std::to_string(n))
      .then(
        [self, s, send_one, total](const raft::client_reply& r) {
          if (r.error == raft::errc::none)
            ++s->acked;
          else
            ++s->failed;
          if (s->acked + s->failed == total)
            s->done.deliver(s->acked);
          else
            (*send_one)();
        },
        [s, total](caf::error&) {
          ++s->failed;
          if (s->acked + s->failed == total)
            s->done.deliver(s->acked);
        });
  };
  return {
    [self, s, send_one, inflight](raft::submit_atom) {
      s->done = self->make_response_promise();
      for (int i = 0; i < inflight; ++i)
        (*send_one)();
      return s->done;
    },
  };
}

int phase_commands(caf::actor_system& sys, const std::string& root,
                   const options& opts) {
  std::printf("phase 1: %llu commands, 3 nodes on disk, snapshot every %llu "
              "entries, %d in flight\n",
              static_cast<unsigned long long>(opts.commands),
              static_cast<unsigned long long>(opts.snapshot_every),
              opts.inflight);
  bench_cluster c{sys, root + "/phase1", opts.snapshot_every, 0};
  auto lid = c.leader();
  if (lid == 0) {
    std::fprintf(stderr, "snapshot-bench: no leader within 10 s\n");
    return 1;
  }
  std::printf("  %10s %9s %12s %9s %12s %10s\n", "commands", "seconds",
              "commits/s", "RSS MiB", "data MiB", "snapshots");
  auto t0 = clock_type::now();
  std::uint64_t step = std::max<std::uint64_t>(opts.commands / 10, 1);
  std::uint64_t done = 0;
  caf::scoped_actor self{sys};
  while (done < opts.commands) {
    auto n = std::min(step, opts.commands - done);
    auto d = sys.spawn(driver, c.node(lid).state_machine, n, opts.inflight);
    std::uint64_t acked = 0;
    self->request(d, caf::infinite, raft::submit_atom::value)
      .receive([&](std::uint64_t a) { acked = a; },
               [&](caf::error& e) { std::cerr << sys.render(e) << "\n"; });
    self->send_exit(d, caf::exit_reason::user_shutdown);
    if (acked != n) {
      std::fprintf(stderr, "snapshot-bench: %llu of %llu commands failed\n",
                   static_cast<unsigned long long>(n - acked),
                   static_cast<unsigned long long>(n));
      return 1;
    }
    done += n;
    auto t = seconds_since(t0);
    std::printf("  %10llu %9.1f %12.0f %9.1f %12.2f %10llu\n",
                static_cast<unsigned long long>(done), t, done / t,
                proc_status_mib("VmRSS"), dir_mib(root + "/phase1"),
                static_cast<unsigned long long>(c.log(lid).snapshots_taken));
    std::fflush(stdout);
  }
  return 0;
}

int phase_big_snapshot(caf::actor_system& sys, const std::string& root,
                       const options& opts) {
  auto ballast = static_cast<std::size_t>(opts.big_snapshot_mib) << 20;
  std::printf("\nphase 2: a wiped follower catches up with a %llu MiB "
              "snapshot\n",
              static_cast<unsigned long long>(opts.big_snapshot_mib));
  // Snapshot every 100 entries: after the 200 commands below the leader's
  // log starts past anything a wiped follower has.
  bench_cluster c{sys, root + "/phase2", 100, ballast};
  auto lid = c.leader();
  if (lid == 0) {
    std::fprintf(stderr, "snapshot-bench: no leader within 10 s\n");
    return 1;
  }
  std::uint32_t victim = lid % 3 + 1;
  c.stop(victim);
  std::filesystem::remove_all(c.dir(victim));
  caf::scoped_actor self{sys};
  auto d = sys.spawn(driver, c.node(lid).state_machine, 200, 16);
  self->request(d, caf::infinite, raft::submit_atom::value)
    .receive([](std::uint64_t) {}, [](caf::error&) {});
  self->send_exit(d, caf::exit_reason::user_shutdown);
  auto target = c.log(lid).applied.load();
  std::printf("  leader %u applied %llu entries, took %llu snapshot(s); "
              "follower %u wiped\n",
              lid, static_cast<unsigned long long>(target),
              static_cast<unsigned long long>(c.log(lid).snapshots_taken),
              victim);
  auto t0 = clock_type::now();
  c.start(victim);
  auto deadline = t0 + 600s;
  double restored = -1;
  while (clock_type::now() < deadline) {
    if (restored < 0 && c.log(victim).restored_at > 0)
      restored = seconds_since(t0);
    if (c.log(victim).applied >= target)
      break;
    std::this_thread::sleep_for(5ms);
  }
  if (c.log(victim).applied < target) {
    std::fprintf(stderr, "snapshot-bench: the follower did not catch up\n");
    return 1;
  }
  std::printf("  follower %u restored from the snapshot after %.2f s, caught "
              "up to %llu after %.2f s; peak RSS %.0f MiB\n",
              victim, restored, static_cast<unsigned long long>(target),
              seconds_since(t0), proc_status_mib("VmHWM"));
  return 0;
}

int usage(const char* msg) {
  if (msg)
    std::fprintf(stderr, "snapshot-bench: %s\n", msg);
  std::fprintf(stderr, "usage: snapshot-bench [--commands N] "
                       "[--snapshot-every N] [--inflight N] "
                       "[--big-snapshot-mib M]\n");
  return msg ? 2 : 0;
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h")
      return usage(nullptr);
    if (i + 1 >= argc)
      return usage(("missing value after " + a).c_str());
    auto v = std::strtoull(argv[++i], nullptr, 10);
    if (a == "--commands")
      opts.commands = v;
    else if (a == "--snapshot-every")
      opts.snapshot_every = v;
    else if (a == "--inflight")
      opts.inflight = static_cast<int>(v);
    else if (a == "--big-snapshot-mib")
      opts.big_snapshot_mib = v;
    else
      return usage(("unknown option " + a).c_str());
  }
  if (opts.commands == 0 || opts.snapshot_every == 0 || opts.inflight < 1)
    return usage("--commands, --snapshot-every and --inflight must be > 0");
  auto pattern = raft::bench::make_temp_dir("caf-raft-snapshot-bench",
                                            "snapshot-bench");
  if (pattern.empty())
    return 1;
  raft::bench::bench_system_config cfg;
  int rc = 0;
  {
    caf::actor_system sys{cfg};
    rc = phase_commands(sys, pattern, opts);
    if (rc == 0 && opts.big_snapshot_mib > 0)
      rc = phase_big_snapshot(sys, pattern, opts);
  }
  std::filesystem::remove_all(pattern);
  std::printf("\npeak RSS: %.0f MiB\n", proc_status_mib("VmHWM"));
  return rc;
}
