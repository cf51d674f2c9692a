// What the benchmarks share: option parsing helpers, a scratch directory,
// the in-process benchmarks' actor system configuration, and the
// bookkeeping of a driver actor that keeps a window of requests in flight
// and times each one's acknowledgement (net-bench, persister-bench).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "messages/type_ids.hpp"
#include "bench/stats.hpp"

namespace raft::bench {

using clock_type = std::chrono::steady_clock;

// -- command line -------------------------------------------------------------

/// The items of a comma-separated list such as "1,16,256".
inline std::vector<std::string> comma_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in{s};
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(item);
  return out;
}

/// The value after the option argv[i], advancing i to it. Without one,
/// calls usage("missing value after OPTION") and exits with status 2.
template <class Usage>
std::string option_value(int argc, char** argv, int& i, Usage usage) {
  if (i + 1 >= argc) {
    usage(("missing value after " + std::string{argv[i]}).c_str());
    std::exit(2);
  }
  return argv[++i];
}

/// Creates a new, empty directory named "<prefix>-XXXXXX" in the system's
/// temporary directory and returns its path; "" after printing
/// "<program>: mkdtemp: <why>" on stderr.
inline std::string make_temp_dir(const std::string& prefix,
                                 const std::string& program) {
  auto pattern = (std::filesystem::temp_directory_path()
                  / (prefix + "-XXXXXX"))
                   .string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror((program + ": mkdtemp").c_str());
    return {};
  }
  return pattern;
}

// -- actor system -------------------------------------------------------------

/// The actor system configuration of the in-process benchmarks
/// (persister-bench, snapshot-bench): caf-raft's message types and two
/// scheduler threads, as on the two-core machines the figures are for.
struct bench_system_config : caf::actor_system_config {
  bench_system_config() {
    raft::register_types(*this);
    set("scheduler.max-threads", 2);
  }
};

// -- requests in flight -------------------------------------------------------

/// A window of requests kept in flight until a deadline: the driver sends
/// a new request for each acknowledgement that arrives before it. Requests
/// are numbered by the driver (sequence numbers or log indexes, from 1).
struct request_window {
  /// When the driver stops sending new requests.
  clock_type::time_point deadline;
  /// Send time of each request, by its number.
  std::vector<clock_type::time_point> sent_at;
  /// The latency of every acknowledged request, in microseconds. Owned by
  /// the caller, which reads it once the driver has exited.
  std::shared_ptr<std::vector<double>> latencies_us;
  /// Requests acknowledged so far.
  std::uint64_t acked = 0;
  /// Requests sent and not acknowledged yet.
  std::uint64_t in_flight = 0;
  /// Answered with `acked` once the deadline passed and nothing is in
  /// flight.
  caf::response_promise done;

  /// Starts a run of `seconds` whose result goes to `rp`: `send_one()`
  /// sends the first `count` requests (each noted with sent()). Returns
  /// the promise, for the driver's handler to return.
  template <class Send>
  caf::response_promise begin(double seconds, caf::response_promise rp,
                              int count, Send send_one) {
    deadline = clock_type::now()
               + std::chrono::duration_cast<clock_type::duration>(
                 std::chrono::duration<double>(seconds));
    done = std::move(rp);
    for (int i = 0; i < count; ++i)
      send_one();
    return done;
  }

  /// Notes that request `n` is sent now.
  void sent(std::uint64_t n) {
    if (sent_at.size() <= n)
      sent_at.resize(n * 2 + 1);
    sent_at[n] = clock_type::now();
    ++in_flight;
  }

  /// Notes the acknowledgement of request `n` and its latency. True while
  /// the deadline has not passed: the driver then sends another request.
  /// After it, answers `done` once the last request in flight is
  /// acknowledged.
  bool acknowledged(std::uint64_t n) {
    auto now = clock_type::now();
    latencies_us->push_back(
      std::chrono::duration<double, std::micro>(now - sent_at[n]).count());
    ++acked;
    --in_flight;
    if (now < deadline)
      return true;
    if (in_flight == 0 && done.pending())
      done.deliver(acked);
    return false;
  }
};

/// The median and the 99th percentile of a run's latencies, in
/// microseconds (nearest rank, bench/stats.hpp); 0 without any.
struct latency_figures {
  double p50_us = 0;
  double p99_us = 0;
};

/// The latency figures of `latencies_us`, which it sorts.
inline latency_figures latency_of(std::vector<double>& latencies_us) {
  std::sort(latencies_us.begin(), latencies_us.end());
  return {bench::percentile(latencies_us, 50),
          bench::percentile(latencies_us, 99)};
}

} // namespace raft::bench
