// raft::testing::apply_log -- the tester's copy of what every server has
// applied (config.go logs[i], applyErr[i], maxIndex), and the plain applier
// that fills it (RAFT-TEST-SUITE.md §1.8).
//
// Thread safety: one mutex guards everything. Appliers run on the state
// machine actors (CAF worker threads in real-time mode), readers on the test
// thread. Errors are only recorded here; the cluster reports them from the
// test thread (Catch2 assertions are not thread-safe).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/state_machine.hpp"

namespace raft::testing {

class apply_log {
public:
  explicit apply_log(int servers);

  /// Starts a new incarnation of `server` (start1) and returns its number.
  /// Applies of earlier incarnations are ignored from now on.
  std::uint64_t new_incarnation(int server);

  /// Ends the current incarnation of `server` (crash1): its late applies
  /// are ignored.
  void end_incarnation(int server);

  /// The plain applier's checkLogs for one command_valid apply of
  /// incarnation `incarnation` of `server`: records `cmd` at `index` in
  /// logs[server] and records an error when another server holds a
  /// different value at `index` ("commit index=... server=... != server=...")
  /// or when index - 1 was not applied before ("server i apply out of order
  /// k"). Ignored when `incarnation` is stale.
  void record(int server, std::uint64_t incarnation, std::uint64_t index,
              const std::string& cmd);

  /// logs[server][index], if applied.
  std::optional<std::string> get(int server, std::uint64_t index) const;

  /// applyErr[server], empty if none.
  std::string error(int server) const;

  /// The first recorded error of any server, empty if none.
  std::string first_error() const;

  /// Highest index applied by any server (config.go maxIndex).
  std::uint64_t max_index() const;

private:
  mutable std::mutex mtx_;
  /// logs[i]: index -> command applied by server i, over all its
  /// incarnations (never cleared on restart, as in config.go).
  std::vector<std::map<std::uint64_t, std::string>> logs_;
  /// applyErr[i]: the first apply error of server i, or empty.
  std::vector<std::string> errors_;
  /// Current incarnation of each server; 0 while crashed.
  std::vector<std::uint64_t> incarnation_;
  /// Last incarnation number handed out (shared counter, so a number is
  /// never reused).
  std::uint64_t last_incarnation_ = 0;
  /// Highest index applied by any server. Monotonic.
  std::uint64_t max_index_ = 0;
};

/// The plain applier of one server incarnation: records every command_valid
/// apply in the shared apply_log; ignores everything else.
class applier : public actors::state_machine {
public:
  applier(std::shared_ptr<apply_log> log, int server,
          std::uint64_t incarnation);

  std::string apply(const apply_msg& m) override;

private:
  std::shared_ptr<apply_log> log_;
  int server_;
  std::uint64_t incarnation_;
};

} // namespace raft::testing
