// raft-demo --mode kv: the client workload and its recorded history (see
// raft_demo_kv_workload.hpp). Every client operation goes into the
// lin::history_recorder with its call time (before the request) and return
// time (after the answer), steady_clock nanoseconds since the timeline's t0.
#include "apps/raft_demo_kv_workload.hpp"

#include <algorithm>
#include <iomanip>
#include <random>
#include <sstream>

#include "messages/type_ids.hpp"
#include "tests/kit/linearizability/kv_reply_output.hpp"

namespace raft::demo {

using namespace std::chrono_literals;

const std::array<std::string, 3> kv_demo_keys = {"k1", "k2", "k3"};

namespace {

/// How long one client attempt waits for its answer, and when a call is
/// given up (its outcome is then unknown, and recorded so).
constexpr auto request_timeout = 300ms;
constexpr auto call_deadline = 5s;

/// A client's pause between two operations, drawn uniformly: without it
/// four clients do ~13,000 ops/s here, and the history (100,000+ ops) is
/// too long to read in HTML; with it they do a few hundred per second.
constexpr int think_min_ms = 5;
constexpr int think_max_ms = 25;

} // namespace

// -- statistics ---------------------------------------------------------------

std::string fixed(double x, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << x;
  return out.str();
}

std::string line_of(const phase_stats& st) {
  return std::to_string(st.ops) + " ops, "
         + fixed(st.seconds > 0 ? static_cast<double>(st.ops) / st.seconds : 0,
                 1)
         + " ops/s, " + std::to_string(st.errors) + " errors, "
         + std::to_string(st.retries) + " retries, slowest "
         + std::to_string(
           std::chrono::duration_cast<std::chrono::milliseconds>(st.slowest)
             .count())
         + " ms";
}

// -- kv_workload --------------------------------------------------------------

kv_workload::kv_workload(caf::actor_system& sys, const demo_options& opts,
                         std::shared_ptr<timeline> tl,
                         std::vector<server> servers)
  : sys_(sys), opts_(opts), tl_(std::move(tl)), servers_(std::move(servers)) {
}

kv_workload::~kv_workload() {
  stop();
}

bool kv_workload::reset_keys() {
  kv::blocking_client kv{sys_, client_options(opts_.seed * 1000)};
  for (auto& key : kv_demo_keys) {
    kv::command cmd;
    cmd.kind = kv::op::put;
    cmd.key = key;
    if (recorded(kv, opts_.clients, cmd, lin::kv_put(key, "")).error
        != errc::none)
      return false;
  }
  tl_->event("keys k1 k2 k3 set to \"\" (the history starts from them)");
  return true;
}

void kv_workload::start() {
  stop_ = false;
  for (int c = 0; c < opts_.clients; ++c)
    threads_.emplace_back([this, c] { client_loop(c); });
}

void kv_workload::stop() {
  stop_ = true;
  for (auto& t : threads_)
    t.join();
  threads_.clear();
}

void kv_workload::set_phase(int p) {
  phase_ = p;
}

std::uint64_t kv_workload::retries(caf::scoped_actor& self) {
  std::vector<caf::actor> clients;
  {
    std::lock_guard<std::mutex> guard{stats_mtx_};
    clients = client_actors_;
  }
  std::uint64_t sum = 0;
  for (auto& c : clients)
    self->request(c, 1s, caf::get_atom::value, status_atom::value)
      .receive([&](std::uint64_t, std::uint64_t, std::uint64_t r) { sum += r; },
               [&](caf::error&) {});
  return sum;
}

phase_stats kv_workload::close_phase(int p, double seconds,
                                     std::uint64_t retries) {
  std::lock_guard<std::mutex> guard{stats_mtx_};
  auto& st = stats_[static_cast<std::size_t>(p)];
  st.seconds = seconds;
  st.retries = retries;
  return st;
}

phase_stats kv_workload::stats_of(int p) {
  std::lock_guard<std::mutex> guard{stats_mtx_};
  return stats_[static_cast<std::size_t>(p)];
}

final_values kv_workload::final_reads() {
  phase_ = 3;
  kv::blocking_client kv{sys_, client_options(opts_.seed * 1000 + 999)};
  final_values result;
  for (auto& key : kv_demo_keys) {
    kv::command cmd;
    cmd.kind = kv::op::get;
    cmd.key = key;
    auto r = recorded(kv, opts_.clients, cmd, lin::kv_get(key));
    if (r.error == errc::none)
      result[key] = r.value;
    else
      result[key] = std::nullopt;
  }
  return result;
}

std::vector<lin::operation> kv_workload::operations() const {
  return history_.operations();
}

// -- clients ------------------------------------------------------------------

kv::client_options kv_workload::client_options(std::uint64_t seed) const {
  kv::client_options o;
  o.servers = servers_;
  o.request_timeout = request_timeout;
  o.deadline = call_deadline;
  // Session ids come from the log (the client opens its session), so a
  // --data-dir holding an earlier run's sessions cannot collide with them.
  o.seed = seed;
  return o;
}

std::int64_t kv_workload::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now()
                                                              - tl_->t0)
    .count();
}

kv::reply kv_workload::recorded(kv::blocking_client& kv, int c,
                                kv::command cmd, lin::kv_input in) {
  auto id = history_.begin(c, in, now_ns());
  auto called = clock_type::now();
  auto r = kv.call(std::move(cmd));
  auto took = clock_type::now() - called;
  history_.end(id, lin::output_of(r, in), now_ns());
  std::lock_guard<std::mutex> guard{stats_mtx_};
  auto& st = stats_[static_cast<std::size_t>(phase_.load())];
  ++st.ops;
  if (r.error != errc::none)
    ++st.errors;
  st.slowest = std::max(st.slowest,
                        std::chrono::duration_cast<std::chrono::nanoseconds>(
                          took));
  return r;
}

void kv_workload::client_loop(int c) {
  kv::blocking_client kv{sys_, client_options(opts_.seed * 1000 + 1
                                              + static_cast<unsigned>(c))};
  {
    std::lock_guard<std::mutex> guard{stats_mtx_};
    client_actors_.push_back(kv.actor());
  }
  std::mt19937_64 rng{opts_.seed * 7 + static_cast<unsigned>(c)};
  std::map<std::string, std::string> seen; // last value read, for cas
  for (int k = 1; !stop_.load(); ++k) {
    const auto& key = kv_demo_keys[rng() % kv_demo_keys.size()];
    auto tag = std::to_string(c) + "." + std::to_string(k);
    auto dice = rng() % 100;
    kv::command cmd;
    cmd.key = key;
    lin::kv_input in;
    if (dice < 35) {
      cmd.kind = kv::op::get;
      in = lin::kv_get(key);
    } else if (dice < 70) {
      cmd.kind = kv::op::append;
      cmd.value = "a" + tag + " ";
      in = lin::kv_append(key, cmd.value);
    } else if (dice < 85) {
      cmd.kind = kv::op::put;
      cmd.value = "p" + tag + " ";
      in = lin::kv_put(key, cmd.value);
    } else {
      cmd.kind = kv::op::cas;
      cmd.expected = seen[key];
      cmd.value = "x" + tag + " ";
      in = lin::kv_cas(key, cmd.expected, cmd.value);
    }
    auto r = recorded(kv, c, cmd, in);
    if (r.error == errc::none && cmd.kind == kv::op::get)
      seen[key] = r.value;
    else if (r.error == errc::none && r.ok && cmd.kind != kv::op::append)
      seen[key] = cmd.value;
    std::this_thread::sleep_for(std::chrono::milliseconds{
      think_min_ms
      + static_cast<int>(rng() % (think_max_ms - think_min_ms + 1))});
  }
}

} // namespace raft::demo
