// raft::testing::apply_log -- the tester's copy of what every server has
// applied (config.go logs[i], lastApplied[i], applyErr[i], maxIndex), the
// plain applier that fills it (config.go's applier, with its checkLogs
// checks) and the snapshotting applier of the 2D tests (config.go
// applierSnap); see docs/architecture.md §8.4.
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
#include <utility>
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

  /// applierSnap for one command_valid apply: "server i apply out of order,
  /// expected index X, got Y" unless `index` == lastApplied[server] + 1,
  /// else record()'s checkLogs; then lastApplied[server] = index. Ignored
  /// when `incarnation` is stale.
  void record_snap(int server, std::uint64_t incarnation, std::uint64_t index,
                   const std::string& cmd);

  /// ingestSnap(i, snapshot, expectedIndex): decodes `bytes` (see
  /// encode_snapshot), checks that its index equals `expected_index`
  /// ("snapshot doesn't match m.SnapshotIndex"), replaces logs[server]
  /// entirely with its values and sets lastApplied[server] to its index.
  /// An empty or undecodable snapshot is an error. Ignored when
  /// `incarnation` is stale.
  void ingest_snapshot(int server, std::uint64_t incarnation,
                       const std::string& bytes, std::uint64_t expected_index);

  /// The snapshot applier's snapshot of logs[server] through `index`
  /// (encode_snapshot), or nothing when `incarnation` is stale.
  std::optional<std::string> snapshot_of(int server,
                                         std::uint64_t incarnation,
                                         std::uint64_t index) const;

  /// config.go lastApplied[server] (reset to 0 by new_incarnation).
  std::uint64_t last_applied(int server) const;

  /// The snapshot encoding (config.go: labgob of the index, then the values
  /// at indices 0..index, index 0 a nil placeholder): "snap <index>\n",
  /// then for each index 1..index either "+<length>:<value>" or "-" (not
  /// applied: Go's nil).
  static std::string
  encode_snapshot(std::uint64_t index,
                  const std::map<std::uint64_t, std::string>& log);

  /// Inverse of encode_snapshot: the index and the values; nothing when
  /// `bytes` is not a well-formed snapshot.
  static std::optional<
    std::pair<std::uint64_t, std::map<std::uint64_t, std::string>>>
  decode_snapshot(const std::string& bytes);

  /// logs[server][index], if applied.
  std::optional<std::string> get(int server, std::uint64_t index) const;

  /// Records a failure of `server` that is not about what it applied (its
  /// peer stopped with an error), unless the server already has an error.
  void record_failure(int server, const std::string& what);

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
  /// lastApplied[i] of the snapshot applier; 0 at each start1.
  std::vector<std::uint64_t> last_applied_;
  /// Records `err` as applyErr[i] unless it already holds one. Needs mtx_.
  void set_error(std::size_t i, const std::string& err);
  /// record()'s checkLogs without the lock.
  void check_logs(std::size_t i, std::uint64_t index, const std::string& cmd);
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

/// The snapshotting applier of one server incarnation (config.go
/// applierSnap, SnapShotInterval = 10): records commands like the plain
/// applier plus the lastApplied check, ingests snapshot_valid messages, and
/// offers a snapshot when a batch applied an index k with (k + 1) % 10 == 0.
///
/// Difference from Go: Go calls rf.Snapshot(k, ...) right after applying k.
/// Our state machine is asked once per applied batch (take_snapshot with
/// the batch's last index) and a snapshot always covers the machine's whole
/// applied state, so when a batch crosses one or more boundaries the
/// snapshot is taken at the batch's last index (>= the highest boundary
/// reached) and encodes logs[i] through that index. It compacts at least as
/// much as Go's; with batches of one entry it is exactly Go's.
class snapshot_applier : public actors::state_machine {
public:
  /// config.go SnapShotInterval.
  static constexpr std::uint64_t interval = 10;

  snapshot_applier(std::shared_ptr<apply_log> log, int server,
                   std::uint64_t incarnation);

  std::string apply(const apply_msg& m) override;

  std::optional<std::string> take_snapshot(index_t applied) override;

private:
  std::shared_ptr<apply_log> log_;
  int server_;
  std::uint64_t incarnation_;
  /// A boundary index was applied since the last snapshot offer.
  bool boundary_reached_ = false;
};

} // namespace raft::testing
