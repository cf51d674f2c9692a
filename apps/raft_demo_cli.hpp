// raft-demo's command line: options, --help text and parsing.
#pragma once

#include <cstdint>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <variant>

namespace raft::demo {

/// What raft-demo runs.
enum class demo_mode {
  /// The replicated KV service with concurrent clients and a
  /// linearizability check (apps/raft_demo_kv.cpp). The default.
  kv,
  /// The command-log demo (apps/raft_demo.cpp).
  log,
};

struct demo_options {
  demo_mode mode = demo_mode::kv;
  int nodes = 5;
  std::uint64_t seed = 0;
  /// Empty: memory stores. Else one disk_store per node in DIR/node-<id>.
  std::string data_dir;

  // -- --mode log ------------------------------------------------------------

  int commands = 20; // per phase
  /// Snapshot once this many command bytes were applied since the last
  /// snapshot (0: never).
  std::size_t snapshot_bytes = 256;

  // -- --mode kv -------------------------------------------------------------

  /// Client threads, each with its own KV client (session).
  int clients = 4;
  /// Length of each phase (leader up, leader down, old leader back).
  int seconds = 3;
  /// kv_options::max_raft_state: snapshot once a node's persisted Raft
  /// state reaches this many bytes; <= 0: never.
  std::int64_t max_raft_state = 4096;
  /// Where the HTML history goes; empty: <data-dir or /tmp>/
  /// raft-demo-history-<seed>.html.
  std::string history;
};

inline void print_help() {
  std::cout
    << "usage: raft-demo [--mode kv|log] [--nodes N] [--seed S] "
       "[--data-dir DIR]\n"
       "  kv:  [--clients C] [--seconds T] [--max-raft-state B] "
       "[--history FILE]\n"
       "  log: [--commands C] [--snapshot-bytes B]\n"
       "\n"
       "Runs a Raft cluster of N nodes (default 5, 1..9) in one process.\n"
       "\n"
       "--mode kv (the default): the replicated key-value service. C client\n"
       "threads (default 4) put, append, get and compare-and-set a few shared\n"
       "keys for T seconds (default 3) with the leader up, T more after the\n"
       "leader is killed (a new one is elected), and T more after the old\n"
       "leader restarts from its persisted state and catches up. Every\n"
       "operation is recorded; at the end the history is checked for\n"
       "linearizability, drawn as HTML (the path is printed), and every\n"
       "node's store is compared.\n"
       "\n"
       "--mode log: elects a leader, submits C commands (default 20), kills\n"
       "the leader, waits for a new election, submits C more, restarts the\n"
       "old leader from its persisted state and waits until every node has\n"
       "applied the same commands.\n"
       "\n"
       "Both print a timeline and a summary. With --data-dir the nodes\n"
       "persist to DIR/node-<id> (created when missing; an earlier run's state\n"
       "is picked up); in log mode the whole cluster is finally stopped and\n"
       "started again from disk.\n"
       "\n"
       "  --mode M      kv (default) or log\n"
       "  --nodes N     cluster size (1..9, default 5)\n"
       "  --seed S      seed of the election timeouts and the clients' ops\n"
       "                (default: random)\n"
       "  --data-dir D  keep each node's state on disk under D\n"
       "kv mode:\n"
       "  --clients C   client threads (1..64, default 4)\n"
       "  --seconds T   length of each of the 3 phases (1..600, default 3)\n"
       "  --max-raft-state B\n"
       "                snapshot once a node's Raft state (hard state + log)\n"
       "                reaches B bytes (default 4096; -1 = never)\n"
       "  --history F   write the HTML history to F (default:\n"
       "                <data-dir or /tmp>/raft-demo-history-<seed>.html)\n"
       "log mode:\n"
       "  --commands C  commands per phase (1..10000, default 20)\n"
       "  --snapshot-bytes B\n"
       "                snapshot once B bytes of commands were applied since\n"
       "                the last snapshot (default 256; 0 = never)\n"
       "  --help        this text\n"
       "\n"
       "Exit status: kv: 0 when the history is linearizable (or the check ran\n"
       "out of time: then it says \"not verified\") and every node holds the\n"
       "same data, 1 otherwise. log: 0 when all nodes applied the same\n"
       "commands, 1 when not. 2 on bad usage.\n";
}

inline std::optional<long long> parse_int(const std::string& s) {
  try {
    std::size_t used = 0;
    auto v = std::stoll(s, &used);
    if (used != s.size())
      return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

/// Returns the options, or an exit code when the program should stop.
inline std::variant<demo_options, int> parse_args(int argc, char** argv) {
  demo_options opts;
  /// The first option given that only one mode takes (for the check after
  /// the loop: --mode may come after it).
  std::string kv_only, log_only;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto text = [&](const char* name, const char* what)
      -> std::optional<std::string> {
      std::string v;
      auto eq = arg.find('=');
      if (eq != std::string::npos)
        v = arg.substr(eq + 1);
      else if (i + 1 < argc)
        v = argv[++i];
      if (v.empty()) {
        std::cerr << "raft-demo: " << name << " needs " << what
                  << " (see raft-demo --help)\n";
        return std::nullopt;
      }
      return v;
    };
    auto value = [&](const char* name) -> std::optional<long long> {
      auto v = text(name, "a value");
      if (!v)
        return std::nullopt;
      auto n = parse_int(*v);
      if (!n)
        std::cerr << "raft-demo: " << name << " takes a whole number, got '"
                  << *v << "' (see raft-demo --help)\n";
      return n;
    };
    /// Parses a whole number in [lo, hi] into `out`; false on bad usage.
    auto number = [&](const char* name, long long lo, long long hi,
                      auto& out) {
      auto n = value(name);
      if (!n)
        return false;
      if (*n < lo || *n > hi) {
        std::cerr << "raft-demo: " << name << " must be between " << lo
                  << " and " << hi << ", got " << *n << "\n";
        return false;
      }
      out = static_cast<std::remove_reference_t<decltype(out)>>(*n);
      return true;
    };
    auto is = [&](const char* name) {
      return arg == name || arg.rfind(std::string(name) + "=", 0) == 0;
    };
    auto note = [&](std::string& first) {
      if (first.empty())
        first = arg.substr(0, arg.find('='));
    };
    if (arg == "--help" || arg == "-h") {
      print_help();
      return 0;
    } else if (is("--mode")) {
      auto m = text("--mode", "kv or log");
      if (!m)
        return 2;
      if (*m == "kv") {
        opts.mode = demo_mode::kv;
      } else if (*m == "log") {
        opts.mode = demo_mode::log;
      } else {
        std::cerr << "raft-demo: --mode must be kv or log, got '" << *m
                  << "'\n";
        return 2;
      }
    } else if (is("--nodes")) {
      if (!number("--nodes", 1, 9, opts.nodes))
        return 2;
    } else if (is("--seed")) {
      auto n = value("--seed");
      if (!n)
        return 2;
      opts.seed = static_cast<std::uint64_t>(*n);
    } else if (is("--data-dir")) {
      auto d = text("--data-dir", "a directory");
      if (!d)
        return 2;
      opts.data_dir = *d;
    } else if (is("--snapshot-bytes")) {
      note(log_only);
      if (!number("--snapshot-bytes", 0, 1LL << 40, opts.snapshot_bytes))
        return 2;
    } else if (is("--commands")) {
      note(log_only);
      if (!number("--commands", 1, 10000, opts.commands))
        return 2;
    } else if (is("--clients")) {
      note(kv_only);
      if (!number("--clients", 1, 64, opts.clients))
        return 2;
    } else if (is("--seconds")) {
      note(kv_only);
      if (!number("--seconds", 1, 600, opts.seconds))
        return 2;
    } else if (is("--max-raft-state")) {
      note(kv_only);
      if (!number("--max-raft-state", -1, 1LL << 40, opts.max_raft_state))
        return 2;
    } else if (is("--history")) {
      note(kv_only);
      auto f = text("--history", "a file name");
      if (!f)
        return 2;
      opts.history = *f;
    } else {
      std::cerr << "raft-demo: unknown argument '" << arg
                << "' (see raft-demo --help)\n";
      return 2;
    }
  }
  if (opts.mode == demo_mode::kv && !log_only.empty()) {
    std::cerr << "raft-demo: " << log_only
              << " belongs to --mode log (the default mode is kv)\n";
    return 2;
  }
  if (opts.mode == demo_mode::log && !kv_only.empty()) {
    std::cerr << "raft-demo: " << kv_only << " belongs to --mode kv\n";
    return 2;
  }
  if (opts.seed == 0)
    opts.seed = std::random_device{}() | 1u;
  return opts;
}

} // namespace raft::demo
