// disk_store: opening, initialising and recovering a data directory.
#include "persistence/disk_store.hpp"

#include <algorithm>
#include <map>

#include <unistd.h>

namespace raft::persistence {

namespace {

constexpr const char* corrupt_advice =
  "restore this node from a backup or wipe the directory and let it rejoin";

std::string tmp_name(const char* name) {
  return std::string{name} + format::tmp_suffix;
}

/// Files an interrupted initialisation may leave behind.
bool is_init_leftover(const std::string& name) {
  return name == format::lock_file
         || name == tmp_name(format::identity_file)
         || name == tmp_name(format::hard_state_file);
}

} // namespace

std::unique_ptr<disk_store> disk_store::open(disk_options opts) {
  if (opts.dir.empty())
    throw store_error("disk_store: no data directory given");
  if (!format::valid_cluster_id(opts.cluster_id))
    throw store_error("data directory " + opts.dir + ": cluster id '"
                      + opts.cluster_id
                      + "' is not 1 to 64 characters of [A-Za-z0-9._-]");
  if (opts.node == no_server)
    throw store_error("data directory " + opts.dir
                      + ": node id 0 is not a valid server id");
  if (opts.segment_bytes == 0)
    throw store_error("data directory " + opts.dir
                      + ": segment_bytes must be positive");
  std::unique_ptr<disk_store> result{new disk_store(std::move(opts))};
  result->recover();
  return result;
}

disk_store::disk_store(disk_options opts)
  : opts_(std::move(opts)),
    fs_(opts_.fs ? opts_.fs : default_file_system()) {
  while (opts_.dir.size() > 1 && opts_.dir.back() == '/')
    opts_.dir.pop_back();
}

void disk_store::recover() {
  try {
    if (fs_->mkdir(opts_.dir)) {
      auto pos = opts_.dir.rfind('/');
      auto parent = pos == std::string::npos ? std::string{"."}
                    : pos == 0               ? std::string{"/"}
                                             : opts_.dir.substr(0, pos);
      fs_->fsync_directory(parent);
      ++fsyncs_;
    }
    auto names = fs_->list_directory(opts_.dir);
    bool has_identity = std::count(names.begin(), names.end(),
                                   std::string{format::identity_file})
                        > 0;
    if (!has_identity) {
      std::string foreign;
      for (auto& n : names)
        if (!is_init_leftover(n))
          foreign += (foreign.empty() ? "" : ", ") + n;
      if (!foreign.empty())
        throw store_error("data directory " + opts_.dir + ": holds files ("
                          + foreign
                          + ") but no IDENTITY, so it is not a caf-raft data "
                            "directory; use an empty or new --data-dir");
    }
    acquire_lock();
    // Replacements that never reached their rename (IDENTITY, HARDSTATE, a
    // snapshot file): never part of the state.
    auto suffix = std::string{format::tmp_suffix};
    for (auto& n : names)
      if (n.size() > suffix.size()
          && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
        fs_->unlink(path(n));
        report_.removed_files.push_back(n);
      }
    if (has_identity)
      check_identity();
    else
      initialise();
    recover_log();
  } catch (const io_error& e) {
    close_all();
    throw store_error("data directory " + opts_.dir + ": " + e.what()
                      + "; check the path, permissions and free space");
  } catch (...) {
    close_all();
    throw;
  }
}

void disk_store::acquire_lock() {
  auto fd = fs_->open(path(format::lock_file), open_mode::create);
  if (!fs_->try_lock(fd)) {
    std::string pid;
    try {
      char buf[32] = {};
      auto n = fs_->pread(fd, buf, sizeof(buf) - 1, 0);
      pid.assign(buf, n);
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
        pid.pop_back();
    } catch (const io_error&) {
      // the pid is informational only
    }
    fs_->close(fd);
    refuse(format::lock_file,
           "locked by pid " + (pid.empty() ? std::string{"?"} : pid)
             + " (another process, or another open store in this process)",
           "stop that process or use another --data-dir");
  }
  lock_fd_ = fd;
  auto pid = std::to_string(::getpid()) + "\n";
  fs_->ftruncate(fd, 0);
  fs_->pwrite(fd, pid.data(), pid.size(), 0);
}

void disk_store::initialise() {
  format::identity id;
  id.cluster_id = opts_.cluster_id;
  id.node = opts_.node;
  auto bytes = format::encode_identity(id);
  auto tmp = path(tmp_name(format::identity_file));
  write_durable_file(tmp, bytes);
  fs_->rename(tmp, path(format::identity_file));
  do_fsync_dir();
  write_hard_state_file(hard_state{}, log_id{});
  report_.created = true;
}

void disk_store::check_identity() {
  format::identity id;
  try {
    id = format::decode_identity(fs_->read_file(path(format::identity_file)));
  } catch (const format::format_error& e) {
    auto what = std::string{e.what()};
    if (what.rfind("unknown format version", 0) == 0)
      refuse(format::identity_file, what,
             "use a caf-raft build that reads this version");
    refuse(format::identity_file, what, corrupt_advice);
  }
  if (id.cluster_id != opts_.cluster_id)
    refuse(format::identity_file,
           "belongs to cluster '" + id.cluster_id + "', not '"
             + opts_.cluster_id + "'",
           "use this node's own --data-dir or the right --cluster-id");
  if (id.node != opts_.node)
    refuse(format::identity_file,
           "belongs to node " + to_string(id.node) + ", not node "
             + to_string(opts_.node),
           "use this node's own --data-dir or the right node id");
}

void disk_store::recover_log() {
  // Segment files, by first index (the names sort numerically anyway).
  std::map<std::uint64_t, std::string> files;
  for (auto& n : fs_->list_directory(opts_.dir))
    if (auto first = format::parse_segment_name(n))
      files.emplace(first->value, n);
  // Hard state (and log base).
  if (fs_->exists(path(format::hard_state_file))) {
    try {
      auto rec = format::decode_hard_state(
        fs_->read_file(path(format::hard_state_file)));
      hard_ = rec.hard;
      base_ = rec.base;
    } catch (const format::format_error& e) {
      refuse(format::hard_state_file, e.what(), corrupt_advice);
    }
  } else if (files.empty()) {
    // Initialisation was interrupted between IDENTITY and HARDSTATE.
    write_hard_state_file(hard_state{}, log_id{});
  } else {
    refuse(format::hard_state_file, "missing although log segments exist",
           corrupt_advice);
  }
  recover_snapshot();
  // Segments, in order; each must continue the previous one. The first may
  // start before base.index + 1 (it holds base.index + 1, or the log is
  // covered by the snapshot): its entries <= base are skipped.
  auto expected = base_.index.next();
  bool stale = false;
  std::size_t k = 0;
  for (auto& [first_value, name] : files) {
    bool last = ++k == files.size();
    index_t first{first_value};
    if (segments_.empty() && first < expected)
      expected = first;
    if (first != expected) {
      if (segments_.empty())
        refuse(name,
               "the log starts at index " + to_string(first)
                 + " but HARDSTATE says it follows index "
                 + to_string(base_.index)
                 + " (a gap after the snapshot)",
               corrupt_advice);
      refuse(name,
             "gap in segment indexes: " + segments_.back().name
               + " ends at index " + to_string(expected.prev())
               + " but this segment starts at " + to_string(first),
             corrupt_advice);
    }
    auto bytes = fs_->read_file(path(name));
    auto scan = format::scan_segment(bytes, first, last);
    if (scan.bad && !scan.bad_is_tail)
      refuse_at(name, scan.bad_offset, scan.bad_reason, corrupt_advice);
    if (scan.bad) {
      report_.dropped_torn_tail = true;
      report_.torn_tail_detail =
        name + " offset " + std::to_string(scan.bad_offset) + ": "
        + scan.bad_reason + ", dropped "
        + std::to_string(bytes.size() - scan.bad_offset) + " bytes";
    }
    if (scan.header_incomplete) {
      // A segment created by a sync() that never completed: drop the file.
      fs_->unlink(path(name));
      do_fsync_dir();
      break;
    }
    segment seg{first, name, fs_->open(path(name), open_mode::read_write),
                scan.good_end};
    segments_.push_back(seg);
    if (scan.bad) {
      fs_->ftruncate(seg.fd, scan.good_end);
      do_fsync(seg.fd);
    }
    for (std::size_t i = 0; i < scan.entries.size(); ++i) {
      auto& e = scan.entries[i];
      if (e.index <= base_.index) {
        // Covered by the snapshot. Holding base.index with another term:
        // the leftover of an install that dropped the log.
        if (e.index == base_.index && e.term != base_.term)
          stale = true;
        continue;
      }
      positions_.push_back(entry_pos{segments_.size() - 1, scan.positions[i]});
      record_bytes_ += scan.positions[i].bytes;
      entries_.push_back(std::move(e));
    }
    expected = index_t{first.value + scan.entries.size()};
  }
  // Finish an install interrupted after its HARDSTATE.
  auto removed = stale ? drop_log() : compact_log();
  report_.dropped_stale_log = stale;
  report_.removed_files.insert(report_.removed_files.end(), removed.begin(),
                               removed.end());
  report_.segments = segments_.size();
  report_.first_index = base_.index.next();
  report_.last_index = durable_last();
}

void disk_store::recover_snapshot() {
  // Every snapshot file but the one HARDSTATE names is an orphan: written by
  // an install whose HARDSTATE never came, or replaced by a later install.
  std::vector<std::string> orphans;
  for (auto& n : fs_->list_directory(opts_.dir))
    if (auto at = format::parse_snapshot_name(n))
      if (base_.index == index_t{} || *at != base_)
        orphans.push_back(n);
  if (base_.index != index_t{}) {
    auto name = format::snapshot_name(base_);
    if (!fs_->exists(path(name)))
      refuse(name,
             "missing, although HARDSTATE says the log follows a snapshot "
             "through index " + to_string(base_.index) + " term "
               + to_string(base_.term),
             corrupt_advice);
    auto scan = format::decode_snapshot(fs_->read_file(path(name)), base_);
    if (!scan.ok)
      refuse_at(name, scan.bad_offset, scan.bad_reason, corrupt_advice);
    snapshot_bytes_ = scan.snapshot.data.size();
    report_.snapshot_file = name;
  }
  for (auto& n : orphans) {
    fs_->unlink(path(n));
    report_.removed_files.push_back(n);
  }
  if (!orphans.empty())
    do_fsync_dir();
}

} // namespace raft::persistence
