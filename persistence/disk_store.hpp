// raft::persistence::disk_store -- the durable store: one data directory per
// node, a segmented append-only log and an atomically replaced hard state
// (docs/architecture.md §6). The on-disk format is specified in
// persistence/disk_format.hpp and docs/storage-format.md; in short:
//
//   IDENTITY    magic, format version 1, cluster id, node id, CRC (text)
//   LOCK        flock'ed while open; holds the owner's pid
//   HARDSTATE   current_term, voted_for, log base (snapshot last index/term),
//               CRC; replaced by temp + fsync + rename + fsync(dir)
//   log-<first index>.seg   header (magic, version, first index, CRC), then
//               records [u32 len][u32 crc32(payload)][boost payload]
//   snapshot-<index>-<term>.snap   the snapshot HARDSTATE's base names:
//               header (magic, version, index, term, size, data CRC, header
//               CRC), then the data
//
// sync() order: (0) a staged snapshot install: the snapshot file (temp +
// fsync + rename + fsync(dir)), written BEFORE (1), whose HARDSTATE rename is
// the install's commit point; after it, older snapshot files are unlinked and
// the log is compacted -- segments holding only entries <= base unlinked
// oldest first, or, when the log did not hold last_included with the same
// term, every segment unlinked newest first (each unlink made durable before
// the next); (1) the hard state, when it or the base changed (atomic
// replace); (2) any
// truncation: later segments unlinked newest first (each unlink made durable
// before the next), the segment holding the cut ftruncated, then fsync of file
// and directory -- all before appending; (3) the staged records, one write
// per segment and one fdatasync per touched segment, in segment order; a new
// segment is created (and the directory fsynced) only after the previous one
// is durable. Every batch staged by write() since the last sync() shares that
// one sync (group commit).
//
// Failure policy (docs/architecture.md §10): a failed write or fsync is not
// retried. sync() throws store_error and the store is poisoned: every later
// call throws. Before throwing, the segments touched by the failed append are
// cut back (best effort) to their size before it, so that a restart in this
// process does not read back an entry that was never acknowledged.
//
// Recovery (open): a torn tail of the last segment is truncated and reported
// in recovery(); any other defect refuses to open, with one line naming the
// file, the offset and what to do. Committed data is never dropped silently.
// Snapshots: the file named by HARDSTATE must exist and pass its CRCs (else
// open() refuses); other snapshot files and *.tmp are removed; the first
// segment may start at or before base.index + 1 (its entries <= base are
// skipped); an interrupted compaction is finished (segments holding only
// entries <= base unlinked; a log holding base.index with another term --
// the leftover of an install that dropped the log -- unlinked whole).
//
// In memory: the durable entries (load() returns them) and, per entry, the
// segment and offset of its record (cheap truncation and raft_state_size).
// The snapshot's bytes stay on disk; load() and snapshot_data() read them.
//
// Thread safety: one mutex around every member function, so crash() may race
// a sync() from another thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "persistence/disk_format.hpp"
#include "persistence/file_system.hpp"
#include "persistence/store.hpp"

namespace raft::persistence {

struct disk_options {
  /// Data directory; created if missing (its parent must exist).
  std::string dir;
  /// [A-Za-z0-9._-]{1,64}; written to IDENTITY on first open, checked after.
  std::string cluster_id;
  /// This node's id, != no_server; checked against IDENTITY.
  server_id node;
  /// Start a new segment file once the active one has reached this size.
  std::size_t segment_bytes = 64 << 20;
  /// nullptr = the real POSIX filesystem (posix_file_system).
  std::shared_ptr<file_system> fs;
};

/// What recovery found and did, for logs and raft-inspect.
struct recovery_report {
  /// The directory was new or empty and got initialised.
  bool created = false;
  /// Segment files in use after recovery.
  std::size_t segments = 0;
  /// Log range found (after dropping a torn tail); first > last when empty.
  index_t first_index;
  index_t last_index;
  bool dropped_torn_tail = false;
  /// "<file> offset N: <why>, dropped M bytes".
  std::string torn_tail_detail;
  /// The snapshot file in use ("" when base is {0, 0}).
  std::string snapshot_file;
  /// Files removed because no HARDSTATE names them (orphan snapshots of an
  /// interrupted install, *.tmp) or because the base covers them (segments
  /// of an interrupted compaction or of a dropped log).
  std::vector<std::string> removed_files;
  /// The log held base.index with another term than base.term: the leftover
  /// of an install that dropped the log; every segment was removed.
  bool dropped_stale_log = false;
};

class disk_store : public store {
public:
  /// Opens (or initialises) the directory and recovers. Throws store_error
  /// with one line naming the file, the offset where relevant and what to do
  /// (foreign directory, other cluster or node, unknown version, LOCK held,
  /// corruption other than a torn tail, a gap in segment indexes).
  static std::unique_ptr<disk_store> open(disk_options opts);

  ~disk_store() override;
  disk_store(const disk_store&) = delete;
  disk_store& operator=(const disk_store&) = delete;

  /// What recovery found and did.
  const recovery_report& recovery() const;

  /// The durable state, as of the last completed sync().
  stored_state load() override;

  /// Validates like memory_store::write and stages the batch.
  void write(const persist_batch& batch) override;

  /// Makes every staged batch durable (see the order above). On failure the
  /// store is poisoned: this and every later call throws store_error.
  void sync() override;

  /// Bytes of the hard state file + the live log records (frames included;
  /// records of entries <= base in a kept segment are not counted).
  std::size_t raft_state_size() const override;

  /// Bytes of the durable snapshot's data (the file is 48 bytes more).
  std::size_t snapshot_size() const override;

  /// Writes the chunk into the staging file snapshot-incoming.tmp (data at
  /// 48 + offset, the header left for the install); not synced -- a crash
  /// leaves a *.tmp file that open() removes. See store.
  void stage_snapshot_chunk(const snapshot_chunk& chunk) override;

  std::string snapshot_data() const override;

  /// Simulates the process dying: drops staged writes, closes every fd,
  /// releases LOCK. Every later call except crash() (a no-op) and the
  /// destructor throws store_error("store closed").
  void crash();

  /// Completed sync() calls that had something to write.
  std::uint64_t sync_count() const;

  /// fsync / fdatasync syscalls issued, directories included.
  std::uint64_t fsync_count() const;

private:
  /// A segment file in use. Invariant: segments_[k + 1].first ==
  /// segments_[k].first + (records in segment k); segments_[0].first <=
  /// base_.index + 1 (the first may hold entries <= base, not in entries_).
  struct segment {
    index_t first;
    std::string name;
    int fd = -1;
    /// Current size in bytes (header included).
    std::uint64_t bytes = 0;
  };

  /// Where the record of one durable entry lives.
  struct entry_pos {
    std::size_t segment = 0;
    format::record_pos record;
  };

  explicit disk_store(disk_options opts);

  // -- recovery (disk_store.cpp) ------------------------------------------------
  void recover();
  void acquire_lock();
  void initialise();
  void check_identity();
  void recover_log();
  void recover_snapshot();

  // -- writing --------------------------------------------------------------------
  /// Replaces HARDSTATE by {hs, base}; then hard_ = hs and base_ = base.
  /// Creates (or truncates) `file_path`, writes `bytes`, fsyncs, closes.
  /// The caller renames it into place and fsyncs the directory.
  void write_durable_file(const std::string& file_path,
                          const std::string& bytes);
  void write_hard_state_file(const hard_state& hs, log_id base);
  void write_snapshot_file(const snapshot_install& snap);
  /// Unlinks every snapshot file but the one of base_ (fsync dir after).
  void remove_other_snapshots();

  // -- receiving a snapshot (disk_store_staging.cpp) ------------------------------
  /// write() of a staged install: checks that the staging file holds
  /// install.last_included with install.size bytes, then renames it to
  /// <snapshot name>.tmp (so a new transfer may start) and closes it.
  /// Throws store_error (nothing changed) on a mismatch.
  void take_over_staging(const snapshot_install& install);
  /// Unlinks the .tmp file of a staged install superseded before its sync.
  void discard_staged_install_file() noexcept;
  /// sync() of a staged install: writes the header into <name>.tmp, fsyncs,
  /// reads the data back checking size and CRC-32 against the install,
  /// renames the file to <name> and fsyncs the directory.
  void finish_staged_install(const snapshot_install& install);
  /// The data of the snapshot file base_ names ("" without one), read and
  /// CRC-checked now. Throws store_error naming the file on a defect.
  std::string read_snapshot_locked() const;
  void close_staging() noexcept;
  /// Drops the entries <= base_ from memory and unlinks the segments that
  /// hold only such entries, oldest first. Returns the unlinked names.
  std::vector<std::string> compact_log();
  /// Drops every entry and unlinks every segment, newest first. Returns the
  /// unlinked names.
  std::vector<std::string> drop_log();
  void truncate_log(index_t from);
  /// Closes `s` (when open) and unlinks its file, durably: the directory is
  /// fsynced before it returns, so the next unlink cannot overtake it. The
  /// caller takes `s` out of segments_.
  void remove_segment_file(segment& s);
  void append_log(const log_entries& es);
  void rollback_appends() noexcept;

  // -- helpers --------------------------------------------------------------------
  std::string path(const std::string& name) const;
  void check_usable() const;
  void close_all() noexcept;
  index_t durable_last() const;
  void do_fsync(int fd);
  void do_fdatasync(int fd);
  void do_fsync_dir();
  /// Throws store_error "data directory D: FILE[ offset N]: WHAT; ADVICE".
  [[noreturn]] void refuse(const std::string& file, const std::string& what,
                           const std::string& advice) const;
  [[noreturn]] void refuse_at(const std::string& file, std::uint64_t offset,
                              const std::string& what,
                              const std::string& advice) const;

  mutable std::mutex mtx_;
  disk_options opts_;
  std::shared_ptr<file_system> fs_;
  recovery_report report_;

  /// fd of LOCK while open (holds the flock), else -1.
  int lock_fd_ = -1;
  /// Set by crash(): every call throws "store closed".
  bool closed_ = false;
  /// Non-empty after a failed sync(): why. Every call throws.
  std::string poisoned_;

  // -- durable state (what the last completed sync() covered) ---------------------
  hard_state hard_;
  /// Snapshot point the log follows; {0, 0} without a snapshot. Moves only
  /// forward, by a synced install.
  log_id base_;
  /// Size of the snapshot's data (file format::snapshot_name(base_)); 0 when
  /// base_ is {0, 0}. The bytes stay on disk (read_snapshot_locked()).
  std::uint64_t snapshot_bytes_ = 0;
  /// Invariant: entries_[k].index == base_.index + 1 + k.
  log_entries entries_;
  /// Invariant: positions_.size() == entries_.size().
  std::vector<entry_pos> positions_;
  std::vector<segment> segments_;
  /// Sum of positions_[k].record.bytes.
  std::uint64_t record_bytes_ = 0;

  // -- snapshot staging area (lost on a crash) ------------------------------------
  /// fd of snapshot-incoming.tmp while a transfer is staged, else -1.
  int staging_fd_ = -1;
  /// The snapshot being staged ({0, 0}: none) and its bytes so far (the
  /// data lies at [48, 48 + staging_bytes_) of the file).
  log_id staging_id_;
  std::uint64_t staging_bytes_ = 0;

  // -- staged (lost on a crash) ---------------------------------------------------
  // The staged view is: the latest staged install (its base), the durable
  // entries after that base unless the log is dropped, cut at
  // staged_truncate_, then staged_entries_.
  /// Some write() since the last sync().
  bool staged_any_ = false;
  hard_state staged_hard_;
  /// The latest staged snapshot install (earlier ones in the same sync are
  /// superseded; their effect on the log is in the fields below).
  std::vector<snapshot_install> staged_snapshot_;
  /// A staged install did not find last_included (same term) in the staged
  /// log: every durable entry goes. Invariant: then staged_truncate_ is 0.
  bool staged_drop_log_ = false;
  /// Durable entries from this index on are cut (0: none). Invariant: 0 or
  /// in (staged base index, durable_last()].
  index_t staged_truncate_;
  /// Entries to append after the kept durable entries (see staged_first()).
  log_entries staged_entries_;

  /// Base of the staged view.
  log_id staged_base() const;
  /// Index of staged_entries_.front() (where they go).
  index_t staged_first() const;
  /// Term of the entry at `i` in the staged view (the base's term at the
  /// base index); term_t{} when the view holds no entry there.
  term_t staged_term_at(index_t i) const;

  // -- rollback of a failed append ----------------------------------------------
  /// Segment sizes before the append in progress (segments_ positions).
  std::vector<std::uint64_t> sizes_before_append_;
  std::size_t segments_before_append_ = 0;
  /// The file sync() was working on (named in its error message).
  std::string op_file_;
  /// An append_log() is in progress (rollback_appends() has work to do).
  bool appending_ = false;

  // -- statistics -------------------------------------------------------------------
  std::uint64_t syncs_ = 0;
  std::uint64_t fsyncs_ = 0;
};

/// One segment file as inspect_directory() saw it.
struct segment_info {
  std::string file;
  index_t first_index;
  /// first_index - 1 when the segment holds no valid record.
  index_t last_index;
  std::uint64_t bytes = 0;
  std::size_t records = 0;
};

/// What a data directory holds (read-only view for raft-inspect).
struct inspection {
  bool has_identity = false;
  std::uint32_t format_version = 0;
  std::string cluster_id;
  server_id node;
  bool has_hard_state = false;
  raft::hard_state hard;
  log_id base;
  /// The snapshot file HARDSTATE's base names ("" when base is {0, 0}).
  std::string snapshot_file;
  /// That file exists.
  bool snapshot_present = false;
  /// Size of the snapshot's data as its header says (the file is
  /// format::snapshot_header_bytes more).
  std::uint64_t snapshot_bytes = 0;
  /// Header and data CRCs verified (false when missing or bad; then ok is
  /// false and bad_file names the file).
  bool snapshot_crc_ok = false;
  /// Snapshot files HARDSTATE does not name (open() removes them).
  std::vector<std::string> orphan_snapshots;
  /// *.tmp files: replacements a crash interrupted, or (snapshot-incoming
  /// .tmp) a snapshot being received. Never state; open() removes them.
  std::vector<std::string> temp_files;
  /// The log holds base.index with another term than base.term: leftover
  /// of an install that dropped the log; open() removes every segment. Its
  /// entries are not listed in `entries`.
  bool stale_log = false;
  std::vector<segment_info> segments;
  /// The valid entries after the base found (up to the first bad record).
  log_entries entries;
  /// Log range; first > last when empty.
  index_t first_index;
  index_t last_index;
  /// False when something is wrong; bad_* describe the first problem.
  bool ok = true;
  std::string bad_file;
  std::uint64_t bad_offset = 0;
  std::string bad_reason;
  /// The problem is a torn tail that open() would drop.
  bool bad_is_tail = false;
};

/// Read-only inspection: never writes, never takes LOCK, never truncates.
/// Verifies every CRC. Throws io_error only when `dir` cannot be listed.
inspection inspect_directory(const std::string& dir,
                             std::shared_ptr<file_system> fs = nullptr);

} // namespace raft::persistence
