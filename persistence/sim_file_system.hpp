// raft::persistence::sim_file_system -- an in-memory filesystem that models a
// page cache, for crash property tests of the disk store.
//
// Model (deliberately small):
// - Each file (inode) has *durable* bytes and *current* bytes. Reads and
//   writes see the current bytes; fsync/fdatasync copies current to durable.
// - The namespace (which name points to which inode) also has a current and
//   a durable version. create, rename and unlink change the current one;
//   fsync_directory(d) makes every current entry of `d` durable.
// - Directories are durable as soon as mkdir returns (a simplification).
// - power_loss(rng) is the machine losing power: the namespace reverts to its
//   durable version, every open handle dies (locks released, later use is
//   EBADF), and every file reverts to its durable bytes. When the current
//   bytes only *append* to the durable bytes, a random prefix of the
//   appended bytes may survive (a torn write); an overwrite or truncation
//   that was not synced is lost entirely.
// Paths are '/'-separated strings; "/" always exists. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>

#include "persistence/file_system.hpp"

namespace raft::persistence {

class sim_file_system : public file_system {
public:
  /// Simulates a power loss (see above). With `torn` false, files revert to
  /// exactly their durable bytes.
  void power_loss(std::mt19937_64& rng, bool torn = true);

  /// The machine dies after `n` more mutating calls (writes, truncations,
  /// syncs, creations, renames, unlinks): every later mutating call throws
  /// EIO until power_loss(). Lets a test lose power in the middle of a sync.
  void die_after(std::uint64_t n);

  /// Number of open handles (tests check that crash() closes them all).
  std::size_t open_handles() const;

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

private:
  struct inode {
    /// What survives a power loss.
    std::string durable;
    /// What reads see.
    std::string current;
    /// Handle holding the flock, or -1.
    int lock_owner = -1;
  };
  using inode_ptr = std::shared_ptr<inode>;

  /// The inode behind `fd`; throws EBADF. Caller holds mtx_.
  inode& node(int fd);

  /// Counts a mutating call against die_after(); throws once dead. Caller
  /// holds mtx_.
  void mutation(const std::string& what);

  mutable std::mutex mtx_;
  /// Current namespace: path -> inode.
  std::map<std::string, inode_ptr> names_;
  /// Durable namespace: what fsync_directory() made durable.
  std::map<std::string, inode_ptr> durable_names_;
  /// Existing directories (always durable).
  std::set<std::string> dirs_{"/"};
  /// Open handles. Each is an open file description.
  std::map<int, inode_ptr> handles_;
  int next_fd_ = 3;
  /// Mutating calls left before the machine dies; -1: no limit.
  std::int64_t budget_ = -1;
};

} // namespace raft::persistence
