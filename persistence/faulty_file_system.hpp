// raft::persistence::faulty_file_system -- a test double that wraps another
// file_system (the real one by default) and injects failures: EIO, ENOSPC or
// any errno on the Nth write or sync, or on every such call from then on.
//
//   auto fs = std::make_shared<faulty_file_system>();
//   fs->inject(faulty_file_system::op::sync, 1, EIO);  // next fsync fails
//
// A failed write may first write a prefix of its bytes (`partial`), like a
// disk that runs full in the middle of a write. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "persistence/file_system.hpp"

namespace raft::persistence {

/// Passes every call on to the inner file_system, except those an injected
/// fault fails: the calls overridden below.
class faulty_file_system : public forwarding_file_system {
public:
  /// Which calls a fault applies to.
  enum class op {
    /// pwrite and ftruncate.
    write,
    /// fsync, fdatasync and fsync_directory.
    sync,
    /// Every mutating call: the two above plus rename, unlink, mkdir, open
    /// with create.
    any_mutation,
  };

  /// Wraps `inner` (nullptr: the real filesystem).
  explicit faulty_file_system(std::shared_ptr<file_system> inner = nullptr);

  /// The `nth` call (1 = the next one) of kind `which` fails with `err`; with
  /// `sticky`, every later call of that kind fails too. With `partial`, a
  /// failing pwrite first writes half of its bytes. Replaces any earlier
  /// injection.
  void inject(op which, std::uint64_t nth, int err, bool sticky = false,
              bool partial = false);

  /// Removes the injected fault.
  void heal();

  /// Number of failures injected so far.
  std::uint64_t failures() const;

  // -- the calls a fault can fail (see op); the others are forwarded ----------

  int open(const std::string& path, open_mode mode) override;
  void pwrite(int fd, const void* data, std::size_t n,
              std::uint64_t offset) override;
  void fsync(int fd) override;
  void fdatasync(int fd) override;
  void ftruncate(int fd, std::uint64_t size) override;
  void rename(const std::string& from, const std::string& to) override;
  void unlink(const std::string& path) override;
  bool mkdir(const std::string& path) override;
  void fsync_directory(const std::string& dir) override;

private:
  struct fault {
    op which;
    /// Calls of kind `which` still to pass before the failing one.
    std::uint64_t countdown;
    int err;
    bool sticky;
    bool partial;
    /// Set once the fault fired (sticky faults keep firing).
    bool fired = false;
  };

  /// Returns the errno to fail the current call of kind `kind` with, or 0.
  int check(op kind, bool is_write_or_sync);

  mutable std::mutex mtx_;
  std::optional<fault> fault_;
  std::uint64_t failures_ = 0;
};

} // namespace raft::persistence
