#include "tests/kit/kv/kv_cluster.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "actors/kv/kv_state_machine.hpp"
#include "actors/kv_client/client_actor.hpp"
#include "tests/kit/kv/kv_network.hpp"
#include "tests/kit/linearizability/checker.hpp"
#include "tests/kit/linearizability/html.hpp"
#include "tests/kit/linearizability/kv_reply_output.hpp"

namespace raft::testing {

namespace {

cluster_options raft_options(const kv_cluster_options& o) {
  cluster_options r;
  r.servers = o.servers;
  r.unreliable = o.unreliable;
  r.clock = o.clock;
  r.storage = o.storage;
  r.seed = o.seed;
  r.noop_on_election = o.read_index;
  auto max = o.max_raft_state;
  auto read_index = o.read_index;
  r.make_state_machine = [max, read_index](
                           int, std::shared_ptr<persistence::store> store)
    -> std::unique_ptr<actors::state_machine> {
    kv::kv_options kv;
    kv.max_raft_state = max;
    kv.read_index = read_index;
    kv.raft_state_bytes = [store] {
      return static_cast<std::uint64_t>(store->raft_state_size());
    };
    return std::make_unique<kv::kv_state_machine>(std::move(kv));
  };
  return r;
}

/// How often a blocked clerk looks for its answer. Coarser polling means
/// fewer task switches (every clerk is a goroutines.hpp task); the
/// recorded call/return times are then up to this much wider, which only
/// makes the history easier to linearize, never wrongly illegal.
constexpr std::chrono::milliseconds poll_interval{5};

/// Where a blocking clerk call's answer lands (written by a helper actor,
/// read by the test thread).
struct answer_slot {
  std::mutex mtx;
  bool done = false;
  kv::reply r;
};

} // namespace

// -- clerk ------------------------------------------------------------------------

kv::reply clerk::run(kv::command cmd, const lin::kv_input& in) {
  auto& cfg = owner_.raft_;
  std::size_t op = 0;
  if (recording_)
    op = owner_.history_.begin(id_, in, owner_.now_ns());
  auto slot = std::make_shared<answer_slot>();
  cfg.system().spawn([client = client_, cmd = std::move(cmd),
                      slot](caf::event_based_actor* self) mutable {
    self->request(client, caf::infinite, kv::kv_call_atom::value,
                  std::move(cmd))
      .then(
        [slot](kv::reply& r) {
          std::lock_guard<std::mutex> g{slot->mtx};
          slot->r = std::move(r);
          slot->done = true;
        },
        [slot](caf::error&) {
          std::lock_guard<std::mutex> g{slot->mtx};
          slot->r.error = errc::shutting_down;
          slot->done = true;
        });
  });
  auto start = cfg.now();
  for (;;) {
    {
      std::lock_guard<std::mutex> g{slot->mtx};
      if (slot->done)
        break;
    }
    if (cfg.now() - start > std::chrono::seconds{120})
      cfg.fail("clerk " + std::to_string(id_) + ": " + lin::to_string(in)
               + " did not finish within 120 s");
    cfg.sleep(poll_interval);
  }
  auto r = slot->r;
  if (recording_)
    owner_.history_.end(op, lin::output_of(r, in), owner_.now_ns());
  return r;
}

kv::reply clerk::call(kv::command cmd) {
  auto was = recording_;
  recording_ = false;
  auto r = run(std::move(cmd), lin::kv_input{});
  recording_ = was;
  return r;
}

kv::reply clerk::run_ok(kv::op kind, const std::string& key,
                        const std::string& value, const lin::kv_input& in) {
  kv::command c;
  c.kind = kind;
  c.key = key;
  c.value = value;
  auto r = run(std::move(c), in);
  if (r.error != errc::none)
    owner_.raft_.fail("clerk " + std::to_string(id_) + ": "
                      + kv::to_string(kind) + "(" + key
                      + ") failed: " + kv::to_string(r));
  return r;
}

std::string clerk::get(const std::string& key) {
  auto r = run_ok(kv::op::get, key, {}, lin::kv_get(key));
  return r.found ? r.value : std::string{};
}

void clerk::put(const std::string& key, const std::string& value) {
  run_ok(kv::op::put, key, value, lin::kv_put(key, value));
}

void clerk::append(const std::string& key, const std::string& value) {
  run_ok(kv::op::append, key, value, lin::kv_append(key, value));
}

// -- kv_cluster -------------------------------------------------------------------

kv_cluster::kv_cluster(kv_cluster_options opts)
  : opts_(opts), raft_(raft_options(opts)) {
  net_ = spawn_kv_network(raft_.system(), raft_.servers(), raft_.seed() * 31 + 7);
  for (int i = 0; i < raft_.servers(); ++i)
    register_server(i);
  set_unreliable(opts.unreliable);
}

kv_cluster::~kv_cluster() {
  for (auto& e : endpoints_)
    caf::anon_send_exit(e, caf::exit_reason::kill);
  for (auto& c : clerks_)
    caf::anon_send_exit(c->client_, caf::exit_reason::kill);
  caf::anon_send_exit(net_, caf::exit_reason::kill);
}

std::vector<int> kv_cluster::all() const {
  std::vector<int> r;
  for (int i = 0; i < raft_.servers(); ++i)
    r.push_back(i);
  return r;
}

std::int64_t kv_cluster::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           raft_.now().time_since_epoch())
    .count();
}

void kv_cluster::register_server(int i) {
  caf::scoped_actor self{raft_.system()};
  self->send(net_, kvn_server_atom::value, static_cast<std::int32_t>(i),
             raft_.state_machine(i));
}

clerk& kv_cluster::make_client(const std::vector<int>& to) {
  auto id = static_cast<int>(clerks_.size());
  kv::client_options o;
  for (int s = 0; s < raft_.servers(); ++s) {
    auto ep = spawn_client_endpoint(raft_.system(), net_, id, s);
    endpoints_.push_back(ep);
    o.servers.emplace_back(server_id{static_cast<std::uint32_t>(s + 1)}, ep);
  }
  o.request_timeout = std::chrono::milliseconds{500};
  o.seed = raft_.seed() * 1000003 + static_cast<std::uint64_t>(id) + 1;
  auto client = raft_.system().spawn(kv::client_actor, std::move(o));
  clerks_.emplace_back(new clerk(*this, id, client));
  connect_client(*clerks_.back(), to);
  return *clerks_.back();
}

void kv_cluster::connect_client(clerk& ck, const std::vector<int>& to) {
  std::vector<std::int32_t> v(to.begin(), to.end());
  caf::scoped_actor self{raft_.system()};
  self->send(net_, kvn_link_atom::value, static_cast<std::int32_t>(ck.id()),
             std::move(v));
}

void kv_cluster::shutdown_server(int i) {
  raft_.crash(i);
  register_server(i);
}

void kv_cluster::start_server(int i) {
  raft_.restart(i);
  raft_.connect(i);
  register_server(i);
}

void kv_cluster::partition(const std::vector<int>& p1,
                           const std::vector<int>& p2) {
  raft_.partition(p1, p2);
}

void kv_cluster::connect_all() {
  raft_.heal();
}

std::pair<std::vector<int>, std::vector<int>> kv_cluster::make_partition() {
  auto l = raft_.check_one_leader();
  std::vector<int> p1, p2;
  int n = raft_.servers();
  for (int i = 0; i < n; ++i)
    if (i != l)
      (static_cast<int>(p1.size()) < n / 2 + 1 ? p1 : p2).push_back(i);
  p2.push_back(l);
  return {p1, p2};
}

void kv_cluster::set_unreliable(bool unreliable) {
  raft_.set_unreliable(unreliable);
  caf::scoped_actor self{raft_.system()};
  self->send(net_, kvn_reliable_atom::value, !unreliable);
}

void kv_cluster::check_linearizable() {
  auto ops = history_.operations();
  auto budget = std::chrono::milliseconds{
    std::max<std::int64_t>(1000, static_cast<std::int64_t>(ops.size()))};
  auto res = lin::check(ops, budget);
  if (res.v == lin::verdict::unknown) {
    std::cout << "  linearizability check timed out after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                   res.elapsed)
                   .count()
              << " ms (" << ops.size()
              << " ops), assuming history is ok\n";
    return;
  }
  if (res.v == lin::verdict::illegal) {
    auto path = (std::filesystem::temp_directory_path()
                 / ("caf-raft-history-" + std::to_string(raft_.seed())
                    + ".html"))
                  .string();
    lin::write_html(path, ops, res);
    raft_.fail("history is not linearizable: " + lin::describe(res)
               + "\n  visualization: " + path);
  }
  raft_.passed("history is linearizable");
}

} // namespace raft::testing

