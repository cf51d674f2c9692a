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
// util/percentile.hpp); then the peak RSS of the process.
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
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <caf/all.hpp>

#include "actors/persister_actor.hpp"
#include "messages/type_ids.hpp"
#include "util/percentile.hpp"
#include "persistence/disk_store.hpp"

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

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
  double p50_us = 0;
  double p99_us = 0;
};

/// Drives one persister with `writers` outstanding one-entry batches until
/// `deadline`; records per-batch acknowledgement latency.
struct driver_state {
  caf::actor persister;
  std::size_t payload = 0;
  std::uint64_t next_index = 1;
  clock_type::time_point deadline;
  /// Send time of each in-flight batch, by index.
  std::vector<clock_type::time_point> sent_at;
  /// Owned by main, which reads it after the driver has exited.
  std::shared_ptr<std::vector<double>> latencies_us;
  std::uint64_t acked = 0;
  std::uint64_t in_flight = 0;
  caf::response_promise done;
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
  if (st.sent_at.size() <= st.next_index)
    st.sent_at.resize(st.next_index * 2 + 1);
  st.sent_at[st.next_index] = clock_type::now();
  ++st.next_index;
  ++st.in_flight;
  self->send(st.persister, std::move(b));
}

caf::behavior driver(driver_actor* self, caf::actor persister,
                     std::size_t payload,
                     std::shared_ptr<std::vector<double>> latencies_us) {
  self->state.persister = std::move(persister);
  self->state.payload = payload;
  self->state.latencies_us = std::move(latencies_us);
  return {
    [self](raft::submit_atom, int writers, double seconds) {
      auto& st = self->state;
      st.deadline = clock_type::now()
                    + std::chrono::duration_cast<clock_type::duration>(
                      std::chrono::duration<double>(seconds));
      st.done = self->make_response_promise();
      for (int w = 0; w < writers; ++w)
        send_next(self);
      return st.done;
    },
    [self](const raft::persisted& p) {
      auto& st = self->state;
      auto now = clock_type::now();
      st.latencies_us->push_back(
        std::chrono::duration<double, std::micro>(now - st.sent_at[p.index.value])
          .count());
      ++st.acked;
      --st.in_flight;
      if (now < st.deadline)
        send_next(self);
      else if (st.in_flight == 0)
        st.done.deliver(st.acked);
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
  auto& lat = *latencies;
  if (!lat.empty()) {
    std::sort(lat.begin(), lat.end());
    r.p50_us = raft::util::percentile(lat, 50);
    r.p99_us = raft::util::percentile(lat, 99);
  }
  return r;
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage(("missing value after " + a).c_str());
        std::exit(2);
      }
      return argv[++i];
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
      std::stringstream ss{value()};
      std::string item;
      while (std::getline(ss, item, ','))
        opts.writers.push_back(std::atoi(item.c_str()));
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
    auto pattern = (std::filesystem::temp_directory_path()
                    / "caf-raft-persister-bench-XXXXXX")
                     .string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("persister-bench: mkdtemp");
      return 1;
    }
    root = pattern;
  }
  caf::actor_system_config cfg;
  raft::register_types(cfg);
  cfg.set("scheduler.max-threads", 2);
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
                      r.p50_us, r.p99_us);
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
