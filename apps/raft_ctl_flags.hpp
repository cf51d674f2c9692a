// raft-ctl's command line: the flags before the command, the command with
// its arguments, and the checks that make a command line well formed.
#pragma once

#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "actors/net/wire.hpp"

namespace raft::ctl {

/// What a well-formed command line asks for.
struct ctl_flags {
  /// --cluster HOST:PORT,...: the endpoints to talk to (any subset of the
  /// nodes).
  std::vector<net::member_address> endpoints;
  /// --json: print one JSON value instead of text.
  bool json = false;
  /// --timeout-ms: how long a command may wait for a leader and an answer.
  std::chrono::milliseconds timeout{10000};
  /// The command and its arguments, e.g. {"put", "k", "v"}: every word
  /// from the first one that is not a flag.
  std::vector<std::string> command;
};

/// Prints "raft-ctl: WHY (--help for usage)" on stderr and returns 2, the
/// exit code of bad usage.
int bad_usage(const std::string& why);

/// Reads the command line: the flags of a well-formed one (--cluster given,
/// a known command), or the exit code to end with at once -- 0 after
/// --help (the usage printed on stdout), 2 after bad usage (one line on
/// stderr). A command's own arguments are checked by the command.
std::variant<ctl_flags, int> parse_flags(int argc, char** argv);

} // namespace raft::ctl
