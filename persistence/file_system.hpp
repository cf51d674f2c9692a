// raft::persistence::file_system -- the file-operations seam of the disk
// store (docs/architecture.md §6), where tests inject faults.
//
// Every byte the disk store reads or writes, every fsync and every directory
// change goes through this interface, so a test can replace the real
// filesystem:
// - posix_file_system (here): the real syscalls, EINTR-safe, short reads and
//   writes looped; every failure throws io_error naming the path and errno.
// - forwarding_file_system (here): passes every call on to another
//   file_system; the base of decorators, which override only what they change.
// - faulty_file_system (faulty_file_system.hpp): wraps another file_system
//   and injects EIO / ENOSPC on the Nth write or sync.
// - sim_file_system (sim_file_system.hpp): in memory, models a page cache and
//   power loss (torn writes, lost renames) for crash property tests.
//
// Handles are small integers owned by the file_system (a POSIX fd for
// posix_file_system). Each open() creates a new open file description: two
// handles of one file conflict in try_lock() even inside one process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "persistence/store.hpp"

namespace raft::persistence {

/// A failed file operation: `code` is the errno value (0 if none applies).
/// A store_error, so it reaches the persister like every storage failure.
class io_error : public store_error {
public:
  io_error(int code, const std::string& what) : store_error(what), code_(code) {}
  int code() const noexcept { return code_; }

private:
  int code_;
};

/// How open() treats a missing or existing file.
enum class open_mode {
  /// Read only; the file must exist.
  read_only,
  /// Read and write; the file must exist.
  read_write,
  /// Read and write; created (empty) when missing, kept when present.
  create,
  /// Read and write; created when missing, truncated to 0 when present.
  create_truncate,
};

class file_system {
public:
  virtual ~file_system() = default;

  // -- files ------------------------------------------------------------------

  /// Opens `path` (new open file description). Throws io_error.
  virtual int open(const std::string& path, open_mode mode) = 0;

  /// Closes `fd`, releasing its lock. Never throws.
  virtual void close(int fd) noexcept = 0;

  /// Writes all `n` bytes at `offset`, or throws io_error (after which a
  /// prefix of the bytes may have been written).
  virtual void pwrite(int fd, const void* data, std::size_t n,
                      std::uint64_t offset) = 0;

  /// Reads up to `n` bytes at `offset`; fewer only at the end of the file.
  virtual std::size_t pread(int fd, void* data, std::size_t n,
                            std::uint64_t offset) = 0;

  /// Current size of the file in bytes.
  virtual std::uint64_t file_size(int fd) = 0;

  /// Makes the file's data and metadata durable.
  virtual void fsync(int fd) = 0;

  /// Makes the file's data (and its size) durable.
  virtual void fdatasync(int fd) = 0;

  /// Sets the file's size.
  virtual void ftruncate(int fd, std::uint64_t size) = 0;

  /// flock(LOCK_EX | LOCK_NB): true when acquired, false when another open
  /// file description (in this or another process) holds it.
  virtual bool try_lock(int fd) = 0;

  // -- directories --------------------------------------------------------------

  /// Atomically replaces `to` by `from` (durable after fsync_directory).
  virtual void rename(const std::string& from, const std::string& to) = 0;

  /// Removes a file (durable after fsync_directory).
  virtual void unlink(const std::string& path) = 0;

  /// Creates a directory; false when it already exists. Throws io_error when
  /// the parent is missing.
  virtual bool mkdir(const std::string& path) = 0;

  /// Names of the entries of `dir` (no "." and ".."), sorted. Throws io_error
  /// when `dir` does not exist.
  virtual std::vector<std::string> list_directory(const std::string& dir) = 0;

  /// True when `path` names an existing file or directory.
  virtual bool exists(const std::string& path) = 0;

  /// Makes creations, renames and unlinks inside `dir` durable.
  virtual void fsync_directory(const std::string& dir) = 0;

  // -- helpers built on the operations above ----------------------------------

  /// The whole content of `path`. Throws io_error.
  std::string read_file(const std::string& path);
};

/// The real filesystem.
class posix_file_system : public file_system {
public:
  int open(const std::string& path, open_mode mode) override;
  void close(int fd) noexcept override;
  void pwrite(int fd, const void* data, std::size_t n,
              std::uint64_t offset) override;
  std::size_t pread(int fd, void* data, std::size_t n,
                    std::uint64_t offset) override;
  std::uint64_t file_size(int fd) override;
  void fsync(int fd) override;
  void fdatasync(int fd) override;
  void ftruncate(int fd, std::uint64_t size) override;
  bool try_lock(int fd) override;
  void rename(const std::string& from, const std::string& to) override;
  void unlink(const std::string& path) override;
  bool mkdir(const std::string& path) override;
  std::vector<std::string> list_directory(const std::string& dir) override;
  bool exists(const std::string& path) override;
  void fsync_directory(const std::string& dir) override;
};

/// The process-wide posix_file_system (what a nullptr file_system means).
std::shared_ptr<file_system> default_file_system();

/// A file_system that passes every call on, unchanged, to another one (the
/// inner file_system). A decorator derives from it and overrides only the
/// calls it changes; those reach the inner file_system through inner().
class forwarding_file_system : public file_system {
public:
  /// Forwards to `inner` (nullptr: the real filesystem).
  explicit forwarding_file_system(std::shared_ptr<file_system> inner);

  int open(const std::string& path, open_mode mode) override {
    return inner_->open(path, mode);
  }
  void close(int fd) noexcept override { inner_->close(fd); }
  void pwrite(int fd, const void* data, std::size_t n,
              std::uint64_t offset) override {
    inner_->pwrite(fd, data, n, offset);
  }
  std::size_t pread(int fd, void* data, std::size_t n,
                    std::uint64_t offset) override {
    return inner_->pread(fd, data, n, offset);
  }
  std::uint64_t file_size(int fd) override { return inner_->file_size(fd); }
  void fsync(int fd) override { inner_->fsync(fd); }
  void fdatasync(int fd) override { inner_->fdatasync(fd); }
  void ftruncate(int fd, std::uint64_t size) override {
    inner_->ftruncate(fd, size);
  }
  bool try_lock(int fd) override { return inner_->try_lock(fd); }
  void rename(const std::string& from, const std::string& to) override {
    inner_->rename(from, to);
  }
  void unlink(const std::string& path) override { inner_->unlink(path); }
  bool mkdir(const std::string& path) override { return inner_->mkdir(path); }
  std::vector<std::string> list_directory(const std::string& dir) override {
    return inner_->list_directory(dir);
  }
  bool exists(const std::string& path) override {
    return inner_->exists(path);
  }
  void fsync_directory(const std::string& dir) override {
    inner_->fsync_directory(dir);
  }

protected:
  /// The file_system every call goes on to. Never null.
  file_system& inner() const { return *inner_; }

private:
  std::shared_ptr<file_system> inner_;
};

} // namespace raft::persistence
