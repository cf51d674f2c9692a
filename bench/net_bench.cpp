// net-bench: round trips of real Raft messages between two processes over
// caf::io on 127.0.0.1, as raft-node sends them (actors/net/wire.hpp):
//
//   client -> (net_raft_atom, cluster_id, 1, 2, append_entries)       -> server
//   client <- (net_raft_atom, cluster_id, 2, 1, append_entries_reply) <- server
//
// The server process publishes an echo actor that answers every
// append_entries with an append_entries_reply (prev_log_index echoed, so the
// client matches replies to requests) to the sender. The client keeps W
// requests in flight for --seconds per row: W = 1 measures one request at a
// time (round trips/s, p50/p99 latency), larger W the throughput. Messages:
// a heartbeat (no entries) and an append of 16 entries of 128 bytes.
// Percentiles are nearest-rank (bench/stats.hpp).
//
// Scheduler configurations, applied to BOTH processes:
//   raft-node  what raft-node runs with (actors/net/io_settings.hpp):
//              scheduler.policy = sharing, scheduler.max-threads = 2,
//              middleman heartbeat 100 ms / connection timeout 1000 ms;
//   defaults   CAF's defaults (work stealing, max(4, cores) threads).
//
// By default the binary starts the server itself: for each configuration it
// runs /proc/self/exe --serve 0 --config C as a child process (the child
// prints the port it got), measures, closes the child's stdin (the child
// then unpublishes and exits 0) and reaps it. The child is killed on every
// other exit path (atexit, SIGINT/SIGTERM/SIGHUP, and PR_SET_PDEATHSIG if
// this process dies).
//
//   ./build/bench/net-bench [--seconds S] [--windows 1,16,64]
//                           [--configs raft-node,defaults]
//   ./build/bench/net-bench --serve PORT [--config C]    (until stdin ends)
//   ./build/bench/net-bench --connect HOST:PORT [--config C] [...]
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/net/io_settings.hpp"
#include "actors/net/wire.hpp"
#include "bench/bench_support.hpp"
#include "messages/raft_messages.hpp"
#include "messages/type_ids.hpp"

using namespace std::chrono_literals;
using raft::bench::clock_type;
using raft::net::net_raft_atom;

namespace {

const std::string cluster_id = "net-bench";

// -- options ------------------------------------------------------------------

struct options {
  double seconds = 3.0;
  std::vector<int> windows{1, 16, 64};
  std::vector<std::string> configs{"raft-node", "defaults"};
  /// --serve PORT: be the server only.
  bool serve = false;
  std::uint16_t serve_port = 0;
  /// --connect HOST:PORT: be the client only, of an already running server.
  bool connect = false;
  raft::net::member_address target;
};

int usage(const char* msg) {
  if (msg)
    std::cerr << "net-bench: " << msg << "\n";
  std::cerr
    << "usage: net-bench [--seconds S] [--windows 1,16,64] "
       "[--configs raft-node,defaults]\n"
       "       net-bench --serve PORT [--config raft-node|defaults]\n"
       "       net-bench --connect HOST:PORT [--config raft-node|defaults] "
       "[--seconds S] [--windows ...]\n";
  return msg ? 2 : 0;
}

bool known_config(const std::string& c) {
  return c == "raft-node" || c == "defaults";
}

/// The actor system configuration of one scheduler configuration; the
/// "raft-node" one is raft-node's (actors/net/io_settings.hpp).
struct bench_config : caf::actor_system_config {
  explicit bench_config(const std::string& which) {
    load<caf::io::middleman>();
    raft::register_types(*this);
    if (which == "raft-node")
      raft::net::use_node_io_settings(*this);
  }
};

// -- server -------------------------------------------------------------------

caf::behavior echo(caf::event_based_actor* self) {
  return {
    [self](net_raft_atom, const std::string& cid, raft::server_id from,
           raft::server_id to, const raft::append_entries& ae) {
      raft::append_entries_reply r;
      r.term = ae.term;
      r.success = true;
      r.prev_log_index = ae.prev_log_index;
      r.match_index = raft::index_t{ae.prev_log_index.value
                                    + ae.entries.size()};
      r.log_length = raft::index_t{r.match_index.value + 1};
      r.read_seq = ae.read_seq;
      auto back = caf::actor_cast<caf::actor>(self->current_sender());
      if (back)
        self->send(back, net_raft_atom::value, cid, to, from, std::move(r));
    },
  };
}

int serve(std::uint16_t port, const std::string& config) {
  bench_config cfg{config};
  caf::actor_system sys{cfg};
  auto e = sys.spawn(echo);
  auto published = sys.middleman().publish(e, port, "127.0.0.1", true);
  if (!published) {
    std::cerr << "net-bench --serve: publish failed: "
              << sys.render(published.error()) << std::endl;
    caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
    return 1;
  }
  // The parent reads this line to learn the port.
  std::printf("port %u\n", static_cast<unsigned>(*published));
  std::fflush(stdout);
  // Serve until stdin ends (the parent closes it; Ctrl-D by hand).
  char buf[256];
  for (;;) {
    auto n = ::read(0, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR))
      break;
  }
  sys.middleman().unpublish(e, *published);
  caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  return 0;
}

// -- client -------------------------------------------------------------------

struct run_result {
  std::uint64_t round_trips = 0;
  double seconds = 0;
  raft::bench::latency_figures latency;
};

/// Keeps `window` append_entries in flight to the echo actor until the
/// deadline, then waits for the outstanding replies.
struct driver_state {
  caf::actor server;
  std::size_t entries = 0;
  /// The next request's number, carried as prev_log_index.
  std::uint64_t next_seq = 1;
  raft::bench::request_window window;
};

using driver_actor = caf::stateful_actor<driver_state>;

void send_next(driver_actor* self) {
  auto& st = self->state;
  auto seq = st.next_seq++;
  raft::append_entries ae;
  ae.term = raft::term_t{1};
  ae.leader_id = raft::server_id{1};
  ae.prev_log_index = raft::index_t{seq};
  ae.prev_log_term = raft::term_t{1};
  ae.leader_commit = raft::index_t{seq};
  for (std::size_t i = 0; i < st.entries; ++i) {
    raft::log_entry e;
    e.term = raft::term_t{1};
    e.index = raft::index_t{seq + 1 + i};
    e.data.assign(128, 'x');
    ae.entries.push_back(std::move(e));
  }
  st.window.sent(seq);
  self->send(st.server, net_raft_atom::value, cluster_id, raft::server_id{1},
             raft::server_id{2}, std::move(ae));
}

caf::behavior driver(driver_actor* self, caf::actor server,
                     std::size_t entries,
                     std::shared_ptr<std::vector<double>> latencies_us) {
  self->state.server = server;
  self->state.entries = entries;
  self->state.window.latencies_us = std::move(latencies_us);
  self->monitor(server);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& done = self->state.window.done;
    if (done.pending())
      done.deliver(dm.reason ? dm.reason
                             : caf::make_error(
                               caf::sec::request_receiver_down));
    self->quit(dm.reason);
  });
  return {
    [self](raft::submit_atom, int window, double seconds) {
      return self->state.window.begin(seconds, self->make_response_promise(),
                                      window, [self] { send_next(self); });
    },
    [self](net_raft_atom, const std::string&, raft::server_id,
           raft::server_id, const raft::append_entries_reply& r) {
      auto& window = self->state.window;
      auto seq = r.prev_log_index.value;
      if (seq >= window.sent_at.size() || !r.success)
        return; // not ours
      if (window.acknowledged(seq))
        send_next(self);
    },
  };
}

bool run_one(caf::actor_system& sys, const caf::actor& server,
             std::size_t entries, int window, double seconds,
             run_result& out) {
  auto latencies = std::make_shared<std::vector<double>>();
  latencies->reserve(1 << 18);
  auto drv = sys.spawn(driver, server, entries, latencies);
  caf::scoped_actor self{sys};
  bool ok = true;
  auto t0 = clock_type::now();
  auto limit = std::chrono::duration_cast<caf::timespan>(
    std::chrono::duration<double>(seconds + 10));
  self->request(drv, limit, raft::submit_atom::value, window, seconds)
    .receive([&](std::uint64_t acked) { out.round_trips = acked; },
             [&](caf::error& err) {
               std::cerr << "net-bench: " << sys.render(err) << std::endl;
               ok = false;
             });
  out.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  self->send_exit(drv, caf::exit_reason::user_shutdown);
  self->wait_for(drv);
  out.latency = raft::bench::latency_of(*latencies);
  return ok;
}

/// Measures every (message, window) row against the server at `target`
/// with the scheduler configuration `config`. False on any failure.
bool client(const std::string& config, const raft::net::member_address& target,
            const options& opts) {
  bench_config cfg{config};
  caf::actor_system sys{cfg};
  auto server = sys.middleman().remote_actor(target.host, target.port);
  if (!server) {
    std::cerr << "net-bench: cannot connect to " << target.host << ":"
              << target.port << ": " << sys.render(server.error())
              << std::endl;
    return false;
  }
  // Warm up the connection and both processes' threads; discarded.
  run_result warm;
  if (!run_one(sys, *server, 0, 1, 0.3, warm))
    return false;
  struct row {
    const char* name;
    std::size_t entries;
  };
  for (auto r : {row{"heartbeat", 0}, row{"16 x 128 B", 16}}) {
    for (int w : opts.windows) {
      run_result res;
      if (!run_one(sys, *server, r.entries, w, opts.seconds, res))
        return false;
      std::printf("%-10s %-11s %9d %12.0f %10.0f %10.0f\n", config.c_str(),
                  r.name, w, res.round_trips / res.seconds,
                  res.latency.p50_us, res.latency.p99_us);
      std::fflush(stdout);
    }
  }
  return true;
}

void print_header(const options& opts) {
  std::printf("net-bench: 2 processes, caf::io on 127.0.0.1, Raft messages "
              "(append_entries -> append_entries_reply), %.1f s per row\n"
              "raft-node = scheduler.policy sharing, max-threads 2 (as "
              "raft-node); defaults = CAF defaults (stealing, max(4, cores) "
              "threads)\n\n",
              opts.seconds);
  std::printf("%-10s %-11s %9s %12s %10s %10s\n", "config", "message",
              "in flight", "round trips/s", "p50 us", "p99 us");
}

// -- the server child ---------------------------------------------------------

volatile pid_t child_pid = 0;
int child_stdin = -1;

/// Kills and reaps the server child, if any. Safe in a signal handler.
void kill_child() {
  pid_t p = child_pid;
  if (p > 0) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
    child_pid = 0;
  }
}

void on_signal(int sig) {
  kill_child();
  ::_exit(128 + sig);
}

/// Starts `/proc/self/exe --serve 0 --config C` and returns the port it
/// published, 0 on failure (the child is then gone).
std::uint16_t start_server(const std::string& config) {
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    std::perror("net-bench: pipe");
    return 0;
  }
  auto parent = ::getpid();
  auto pid = ::fork();
  if (pid < 0) {
    std::perror("net-bench: fork");
    return 0;
  }
  if (pid == 0) {
    // Child: die with the parent, read stdin from `in`, write to `out`.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(1);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execl("/proc/self/exe", "net-bench", "--serve", "0", "--config",
            config.c_str(), static_cast<char*>(nullptr));
    std::perror("net-bench: exec");
    ::_exit(127);
  }
  child_pid = pid;
  ::close(in[0]);
  ::close(out[1]);
  child_stdin = in[1];
  // Read "port N\n".
  std::string line;
  char c;
  while (line.size() < 64) {
    auto n = ::read(out[0], &c, 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || c == '\n')
      break;
    line.push_back(c);
  }
  ::close(out[0]);
  unsigned port = 0;
  if (std::sscanf(line.c_str(), "port %u", &port) != 1 || port == 0
      || port > 65535) {
    std::cerr << "net-bench: the server child did not start" << std::endl;
    ::close(child_stdin);
    child_stdin = -1;
    kill_child();
    return 0;
  }
  return static_cast<std::uint16_t>(port);
}

/// Asks the child to exit (closes its stdin), waits up to 5 s, kills it
/// otherwise. True iff it exited by itself with status 0.
bool stop_server() {
  if (child_stdin >= 0) {
    ::close(child_stdin);
    child_stdin = -1;
  }
  pid_t p = child_pid;
  if (p <= 0)
    return true;
  for (int i = 0; i < 500; ++i) {
    int status = 0;
    auto r = ::waitpid(p, &status, WNOHANG);
    if (r == p) {
      child_pid = 0;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return true;
      std::cerr << "net-bench: the server child ended with status " << status
                << std::endl;
      return false;
    }
    ::usleep(10000);
  }
  std::cerr << "net-bench: the server child did not exit; killed"
            << std::endl;
  kill_child();
  return false;
}

int real_main(int argc, char** argv) {
  options opts;
  std::string config = "raft-node";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&] {
      return raft::bench::option_value(argc, argv, i, usage);
    };
    if (a == "--help" || a == "-h")
      return usage(nullptr);
    if (a == "--seconds")
      opts.seconds = std::atof(value().c_str());
    else if (a == "--windows") {
      opts.windows.clear();
      for (auto& w : raft::bench::comma_list(value()))
        opts.windows.push_back(std::atoi(w.c_str()));
    } else if (a == "--configs")
      opts.configs = raft::bench::comma_list(value());
    else if (a == "--config")
      config = value();
    else if (a == "--serve") {
      opts.serve = true;
      auto v = value();
      auto n = std::atol(v.c_str());
      if (v.empty() || n < 0 || n > 65535)
        return usage("--serve needs a port in 0..65535");
      opts.serve_port = static_cast<std::uint16_t>(n);
    } else if (a == "--connect") {
      opts.connect = true;
      if (!raft::net::parse_host_port(value(), opts.target))
        return usage("--connect needs HOST:PORT");
    } else
      return usage(("unknown option " + a).c_str());
  }
  if (opts.seconds <= 0 || opts.windows.empty()
      || std::any_of(opts.windows.begin(), opts.windows.end(),
                     [](int w) { return w < 1; }))
    return usage("--seconds must be > 0 and --windows positive integers");
  if (!known_config(config)
      || std::any_of(opts.configs.begin(), opts.configs.end(),
                     [](const std::string& c) { return !known_config(c); }))
    return usage("configs are raft-node and defaults");
  if (opts.serve && opts.connect)
    return usage("--serve and --connect exclude each other");
  if (opts.serve)
    return serve(opts.serve_port, config);
  if (opts.connect) {
    print_header(opts);
    return client(config, opts.target, opts) ? 0 : 1;
  }
  // Default: one server child per configuration.
  std::atexit(kill_child);
  for (int sig : {SIGINT, SIGTERM, SIGHUP})
    std::signal(sig, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  print_header(opts);
  int rc = 0;
  for (auto& c : opts.configs) {
    auto port = start_server(c);
    if (port == 0)
      return 1;
    raft::net::member_address target{"127.0.0.1", port};
    bool ok = client(c, target, opts);
    if (!stop_server())
      rc = 1;
    if (!ok)
      return 1;
  }
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return real_main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "net-bench: " << e.what() << std::endl;
    kill_child();
    return 1;
  }
}
