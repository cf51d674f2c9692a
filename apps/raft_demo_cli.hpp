// raft-demo's command line: options, --help text and parsing.
#pragma once

#include <cstdint>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <variant>

namespace raft::demo {

struct demo_options {
  int nodes = 5;
  std::uint64_t seed = 0;
  int commands = 20; // per phase
  /// Snapshot once this many command bytes were applied since the last
  /// snapshot (0: never).
  std::size_t snapshot_bytes = 256;
  /// Empty: memory stores. Else one disk_store per node in DIR/node-<id>.
  std::string data_dir;
};

inline void print_help() {
  std::cout
    << "usage: raft-demo [--nodes N] [--seed S] [--commands C] "
       "[--data-dir DIR] [--snapshot-bytes B]\n"
       "\n"
       "Runs a Raft cluster of N nodes (default 5, 1..9) in one process:\n"
       "elects a leader, submits C commands (default 20), kills the leader,\n"
       "waits for a new election, submits C more, restarts the old leader\n"
       "from its persisted state and waits until every node has applied the\n"
       "same commands. Prints a timeline and a summary.\n"
       "With --data-dir the nodes persist to DIR/node-<id> (created when\n"
       "missing; an earlier run's state is picked up), and at the end the\n"
       "whole cluster is stopped and started again from disk.\n"
       "\n"
       "  --nodes N     cluster size (1..9, default 5)\n"
       "  --seed S      seed of the election timeouts (default: random)\n"
       "  --commands C  commands per phase (1..10000, default 20)\n"
       "  --data-dir D  keep each node's state on disk under D\n"
       "  --snapshot-bytes B\n"
       "                snapshot once B bytes of commands were applied since\n"
       "                the last snapshot (default 256; 0 = never)\n"
       "  --help        this text\n"
       "\n"
       "Exit status: 0 when all nodes applied the same commands, 1 when not,\n"
       "2 on bad usage.\n";
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
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> std::optional<long long> {
      std::string v;
      auto eq = arg.find('=');
      if (eq != std::string::npos) {
        v = arg.substr(eq + 1);
      } else if (i + 1 < argc) {
        v = argv[++i];
      } else {
        std::cerr << "raft-demo: " << name
                  << " needs a value (see raft-demo --help)\n";
        return std::nullopt;
      }
      auto n = parse_int(v);
      if (!n)
        std::cerr << "raft-demo: " << name << " takes a whole number, got '"
                  << v << "' (see raft-demo --help)\n";
      return n;
    };
    auto is = [&](const char* name) {
      return arg == name || arg.rfind(std::string(name) + "=", 0) == 0;
    };
    if (arg == "--help" || arg == "-h") {
      print_help();
      return 0;
    } else if (is("--nodes")) {
      auto n = value("--nodes");
      if (!n)
        return 2;
      if (*n < 1 || *n > 9) {
        std::cerr << "raft-demo: --nodes must be between 1 and 9, got " << *n
                  << "\n";
        return 2;
      }
      opts.nodes = static_cast<int>(*n);
    } else if (is("--seed")) {
      auto n = value("--seed");
      if (!n)
        return 2;
      opts.seed = static_cast<std::uint64_t>(*n);
    } else if (is("--data-dir")) {
      auto eq = arg.find('=');
      if (eq != std::string::npos) {
        opts.data_dir = arg.substr(eq + 1);
      } else if (i + 1 < argc) {
        opts.data_dir = argv[++i];
      } else {
        std::cerr << "raft-demo: --data-dir needs a directory\n";
        return 2;
      }
      if (opts.data_dir.empty()) {
        std::cerr << "raft-demo: --data-dir needs a directory\n";
        return 2;
      }
    } else if (is("--snapshot-bytes")) {
      auto n = value("--snapshot-bytes");
      if (!n)
        return 2;
      if (*n < 0) {
        std::cerr << "raft-demo: --snapshot-bytes must be >= 0\n";
        return 2;
      }
      opts.snapshot_bytes = static_cast<std::size_t>(*n);
    } else if (is("--commands")) {
      auto n = value("--commands");
      if (!n)
        return 2;
      if (*n < 1 || *n > 10000) {
        std::cerr << "raft-demo: --commands must be between 1 and 10000\n";
        return 2;
      }
      opts.commands = static_cast<int>(*n);
    } else {
      std::cerr << "raft-demo: unknown argument '" << arg
                << "' (see raft-demo --help)\n";
      return 2;
    }
  }
  if (opts.seed == 0)
    opts.seed = std::random_device{}() | 1u;
  return opts;
}

} // namespace raft::demo
