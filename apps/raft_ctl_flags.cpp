#include "apps/raft_ctl_flags.hpp"

#include <cstddef>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace raft::ctl {

namespace {

/// The text of --help.
const char* const usage =
  "usage: raft-ctl --cluster HOST:PORT,... [--json] [--timeout-ms MS] "
  "COMMAND\n"
  "commands: put K V | get K | append K V | delete K | cas K OLD NEW |\n"
  "          status | leader |\n"
  "          workload [--clients C] [--seconds T] [--seed S] [--history F] |\n"
  "          ping [--count N]   (timed status round trips to one node)\n"
  "exit codes: 0 ok, 1 not found / cas condition false, 2 bad usage,\n"
  "            3 unavailable (no leader or no answer within --timeout-ms,\n"
  "            default 10000)\n";

} // namespace

int bad_usage(const std::string& why) {
  std::cerr << "raft-ctl: " << why << " (--help for usage)" << std::endl;
  return 2;
}

std::variant<ctl_flags, int> parse_flags(int argc, char** argv) {
  ctl_flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!f.command.empty()) {
      f.command.push_back(arg); // everything after the command is its args
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    } else if (arg == "--json") {
      f.json = true;
    } else if (arg == "--cluster" || arg == "--timeout-ms") {
      if (i + 1 >= argc)
        return bad_usage("missing value for " + arg);
      std::string value = argv[++i];
      if (arg == "--timeout-ms") {
        try {
          std::size_t pos = 0;
          auto ms = std::stol(value, &pos);
          if (pos != value.size() || ms < 1)
            throw std::invalid_argument(value);
          f.timeout = std::chrono::milliseconds{ms};
        } catch (...) {
          return bad_usage("bad --timeout-ms '" + value + "'");
        }
        continue;
      }
      std::istringstream in{value};
      std::string item;
      while (std::getline(in, item, ',')) {
        net::member_address a;
        if (!net::parse_host_port(item, a))
          return bad_usage("bad --cluster entry '" + item
                           + "' (expected HOST:PORT)");
        f.endpoints.push_back(a);
      }
    } else if (arg.rfind("--", 0) == 0) {
      return bad_usage("unknown flag " + arg);
    } else {
      f.command.push_back(arg);
    }
  }
  if (f.endpoints.empty())
    return bad_usage("--cluster is required");
  if (f.command.empty())
    return bad_usage("no command given");
  const auto& verb = f.command[0];
  if ((verb == "status" || verb == "leader") && f.command.size() != 1)
    return bad_usage(verb + " takes no arguments");
  if (verb != "status" && verb != "leader" && verb != "put" && verb != "get"
      && verb != "append" && verb != "delete" && verb != "cas"
      && verb != "workload" && verb != "ping")
    return bad_usage("unknown command '" + verb + "'");
  return f;
}

} // namespace raft::ctl
