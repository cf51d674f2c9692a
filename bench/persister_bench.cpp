// persister-bench: durable appends per second through the persister actor
// on a real disk (disk_store: write + fdatasync), group commit against one
// sync per entry, at several numbers of concurrent writers.
//
// A "writer" is one outstanding persist request: W writers keep W one-entry
// batches in flight; each acknowledgement (persisted) releases the next
// batch of that writer, as W clients proposing concurrently would. Batches
// carry consecutive indexes (one log), like a leader's own appends.
//
// Prints, per policy and writer count: appends/s, fsyncs/s, entries per
// fsync, acknowledgement latency p50/p99 (nearest-rank percentiles,
// bench/stats.hpp); then the peak RSS of the process.
//
//   ./build/bench/persister-bench [--seconds S] [--writers 1,16,256]
//                                 [--payload BYTES] [--dir DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <caf/all.hpp>

#include "actors/persister_actor.hpp"
#include "bench/bench_support.hpp"
#include "messages/type_ids.hpp"
#include "persistence/disk_store.hpp"

using namespace std::chrono_literals;
using raft::bench::clock_type;

namespace {

struct options {
  double seconds = 2.0;
  std::vector<int> writers{1, 16, 256};
  std::size_t payload = 128;
  std::string dir; // empty: a temp directory, removed at the end
};

int usage(const char* msg) {
  if (msg)
    std::cerr << "persister-bench: " << msg << "\n";
  std::cerr << "usage: persister-bench [--seconds S] [--writers 1,16,256] "
               "[--payload BYTES] [--dir DIR]\n";
  return msg ? 2 : 0;
}

struct result {
  std::uint64_t appends = 0;
  std::uint64_t fsyncs = 0;
  double seconds = 0;
  raft::bench::latency_figures latency;
};

/// Drives one persister with `writers` outstanding one-entry batches until
/// the deadline; records per-batch acknowledgement latency.
struct driver_state {
  caf::actor persister;
  std::size_t payload = 0;
  /// The next batch's log index (batches are numbered by it).
  std::uint64_t next_index = 1;
  raft::bench::request_window window;
};

using driver_actor = caf::stateful_actor<driver_state>;

void send_next(driver_actor* self) {
  auto& st = self->state;
  raft::persist_batch b;
  b.hard_state.current_term = raft::term_t{1};
  raft::log_entry e;
  e.term = raft::term_t{1};
  e.index = raft::index_t{st.next_index};
  e.data.assign(st.payload, 'x');
  b.entries.push_back(std::move(e));
  b.last = raft::log_id{raft::term_t{1}, raft::index_t{st.next_index}};
  st.window.sent(st.next_index);
  ++st.next_index;
  self->send(st.persister, std::move(b));
}

caf::behavior driver(driver_actor* self, caf::actor persister,
                     std::size_t payload,
                     std::shared_ptr<std::vector<double>> latencies_us) {
  self->state.persister = std::move(persister);
  self->state.payload = payload;
  self->state.window.latencies_us = std::move(latencies_us);
  return {
    [self](raft::submit_atom, int writers, double seconds) {
      return self->state.window.begin(seconds, self->make_response_promise(),
                                      writers, [self] { send_next(self); });
    },
    [self](const raft::persisted& p) {
      if (self->state.window.acknowledged(p.index.value))
        send_next(self);
    },
  };
}

result run_one(caf::actor_system& sys, const std::string& dir,
               raft::actors::flush_policy policy, int writers,
               const options& opts) {
  std::filesystem::remove_all(dir);
  raft::persistence::disk_options d;
  d.dir = dir;
  d.cluster_id = "bench";
  d.node = raft::server_id{1};
  std::shared_ptr<raft::persistence::disk_store> store
    = raft::persistence::disk_store::open(d);
  auto fsyncs0 = store->fsync_count();
  auto persister
    = sys.spawn(raft::actors::persister_actor_with_policy,
                std::static_pointer_cast<raft::persistence::store>(store),
                policy);
  auto latencies = std::make_shared<std::vector<double>>();
  latencies->reserve(1 << 20);
  auto drv = sys.spawn(driver, persister, opts.payload, latencies);
  caf::scoped_actor self{sys};
  result r;
  auto t0 = clock_type::now();
  self->request(drv, caf::infinite, raft::submit_atom::value, writers,
                opts.seconds)
    .receive([&](std::uint64_t acked) { r.appends = acked; },
             [&](caf::error& err) {
               std::cerr << "persister-bench: " << sys.render(err) << "\n";
               std::exit(1);
             });
  r.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  r.fsyncs = store->fsync_count() - fsyncs0;
  self->send_exit(drv, caf::exit_reason::user_shutdown);
  self->send_exit(persister, caf::exit_reason::user_shutdown);
  self->wait_for(drv, persister);
  // The driver has exited: its latencies are ours now.
  r.latency = raft::bench::latency_of(*latencies);
  return r;
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&] {
      return raft::bench::option_value(argc, argv, i, usage);
    };
    if (a == "--help" || a == "-h")
      return usage(nullptr);
    if (a == "--seconds")
      opts.seconds = std::atof(value().c_str());
    else if (a == "--payload")
      opts.payload = static_cast<std::size_t>(std::atol(value().c_str()));
    else if (a == "--dir")
      opts.dir = value();
    else if (a == "--writers") {
      opts.writers.clear();
      for (auto& w : raft::bench::comma_list(value()))
        opts.writers.push_back(std::atoi(w.c_str()));
    } else
      return usage(("unknown option " + a).c_str());
  }
  if (opts.seconds <= 0 || opts.writers.empty()
      || std::any_of(opts.writers.begin(), opts.writers.end(),
                     [](int w) { return w < 1; }))
    return usage("--seconds must be > 0 and --writers positive integers");
  bool temp = opts.dir.empty();
  std::string root = opts.dir;
  if (temp) {
    root = raft::bench::make_temp_dir("caf-raft-persister-bench",
                                      "persister-bench");
    if (root.empty())
      return 1;
  }
  raft::bench::bench_system_config cfg;
  int rc = 0;
  {
    caf::actor_system sys{cfg};
    std::printf("persister-bench: %.1f s per run, %zu-byte entries, data in "
                "%s\n\n",
                opts.seconds, opts.payload, root.c_str());
    std::printf("%-16s %8s %12s %10s %14s %10s %10s\n", "policy", "writers",
                "appends/s", "fsyncs/s", "entries/fsync", "p50 us",
                "p99 us");
    using raft::actors::flush_policy;
    for (auto policy :
         {flush_policy::group_commit, flush_policy::sync_each_batch}) {
      for (int w : opts.writers) {
        try {
          auto r = run_one(sys, root + "/data", policy, w, opts);
          std::printf("%-16s %8d %12.0f %10.0f %14.1f %10.0f %10.0f\n",
                      policy == flush_policy::group_commit
                        ? "group_commit"
                        : "sync_each_entry",
                      w, r.appends / r.seconds, r.fsyncs / r.seconds,
                      r.fsyncs ? double(r.appends) / double(r.fsyncs) : 0.0,
                      r.latency.p50_us, r.latency.p99_us);
          std::fflush(stdout);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "persister-bench: %s\n", e.what());
          rc = 1;
        }
      }
    }
  }
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  std::printf("\npeak RSS: %.1f MiB\n", ru.ru_maxrss / 1024.0);
  if (temp)
    std::filesystem::remove_all(root);
  return rc;
}
