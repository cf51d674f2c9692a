// disk_store: the store interface, writing and syncing. Opening and recovery
// live in disk_store_open.cpp, the format in disk_format.hpp.
#include "persistence/disk_store.hpp"

#include <algorithm>
#include <utility>

namespace raft::persistence {

namespace {

std::string str(index_t i) {
  return to_string(i);
}

/// Throws store_error unless `es` are consecutive and the first is `first`.
void check_consecutive(const log_entries& es, index_t first) {
  auto expected = first;
  for (const auto& e : es) {
    if (e.index != expected)
      throw store_error("disk_store: write: entry " + str(e.index) + " where "
                        + str(expected)
                        + " was expected (entries must be consecutive and "
                          "follow the log)");
    expected = expected.next();
  }
}

} // namespace

// -- helpers ------------------------------------------------------------------------

std::string disk_store::path(const std::string& name) const {
  return opts_.dir + "/" + name;
}

void disk_store::refuse(const std::string& file, const std::string& what,
                        const std::string& advice) const {
  throw store_error("data directory " + opts_.dir + ": " + file + ": " + what
                    + "; " + advice);
}

void disk_store::refuse_at(const std::string& file, std::uint64_t offset,
                           const std::string& what,
                           const std::string& advice) const {
  refuse(file + " offset " + std::to_string(offset), what, advice);
}

void disk_store::check_usable() const {
  if (closed_)
    throw store_error("store closed");
  if (!poisoned_.empty())
    throw store_error("data directory " + opts_.dir
                      + ": the store failed earlier and accepts no more calls ("
                      + poisoned_ + "); restart the node");
}

void disk_store::close_all() noexcept {
  close_staging();
  for (auto& s : segments_)
    if (s.fd >= 0) {
      fs_->close(s.fd);
      s.fd = -1;
    }
  if (lock_fd_ >= 0) {
    fs_->close(lock_fd_);
    lock_fd_ = -1;
  }
}

index_t disk_store::durable_last() const {
  return index_t{base_.index.value + entries_.size()};
}

log_id disk_store::staged_base() const {
  return staged_snapshot_.empty() ? base_
                                  : staged_snapshot_.front().last_included;
}

index_t disk_store::staged_first() const {
  auto b = staged_base();
  if (staged_drop_log_)
    return b.index.next();
  if (staged_truncate_ != index_t{})
    return staged_truncate_;
  return std::max(durable_last(), b.index).next();
}

term_t disk_store::staged_term_at(index_t i) const {
  auto b = staged_base();
  if (i == b.index)
    return b.term;
  if (i < b.index)
    return term_t{};
  auto first = staged_first();
  if (i < first) // a kept durable entry: i in (b.index, durable_last()]
    return entries_[distance(base_.index, i) - 1].term;
  auto k = i.value - first.value;
  return k < staged_entries_.size() ? staged_entries_[k].term : term_t{};
}

void disk_store::do_fsync(int fd) {
  ++fsyncs_;
  fs_->fsync(fd);
}

void disk_store::do_fdatasync(int fd) {
  ++fsyncs_;
  fs_->fdatasync(fd);
}

void disk_store::do_fsync_dir() {
  ++fsyncs_;
  fs_->fsync_directory(opts_.dir);
}

// -- store interface ----------------------------------------------------------------

disk_store::~disk_store() {
  std::lock_guard<std::mutex> guard{mtx_};
  close_all();
}

const recovery_report& disk_store::recovery() const {
  return report_; // set once by open(), never changed afterwards
}

stored_state disk_store::load() {
  std::lock_guard<std::mutex> guard{mtx_};
  check_usable();
  return stored_state{hard_, base_, entries_, read_snapshot_locked()};
}

void disk_store::write(const persist_batch& batch) {
  std::lock_guard<std::mutex> guard{mtx_};
  check_usable();
  if (batch.snapshot.size() > 1)
    throw store_error("disk_store: write: a batch carries at most one "
                      "snapshot install, not "
                      + std::to_string(batch.snapshot.size()));
  // The staged view after this batch's install (if any), computed without
  // changing anything: write() stages all of the batch or nothing.
  auto base = staged_base();
  auto drop = staged_drop_log_;
  auto trunc = staged_truncate_;
  std::size_t trim = 0; // staged_entries_ dropped from the front
  bool clear = false;   // every staged entry dropped
  if (!batch.snapshot.empty()) {
    auto li = batch.snapshot.front().last_included;
    if (li.index == index_t{})
      throw store_error("disk_store: write: snapshot at index 0");
    if (li.index < base.index
        || (li.index == base.index && li.term != base.term))
      throw store_error("disk_store: write: snapshot through index "
                        + str(li.index) + " term " + to_string(li.term)
                        + " does not move the base forward from index "
                        + str(base.index) + " term " + to_string(base.term));
    auto first = staged_first();
    auto last = index_t{first.value - 1 + staged_entries_.size()};
    if (li.index <= last && staged_term_at(li.index) == li.term) {
      // The log holds last_included: keep what follows it (Figure 13, 6).
      if (li.index >= first) {
        // ... and holds it among the staged entries: every durable entry is
        // <= last_included or cut, so the durable log goes whole. (Cutting
        // it after last_included instead would leave the durable entry at
        // last_included, of another term, on disk: recovery would take the
        // log for the leftover of a dropping install.)
        trim = static_cast<std::size_t>(li.index.value - first.value + 1);
        drop = true;
        trunc = index_t{};
      }
    } else {
      // It does not: the whole log goes (Figure 13, step 7).
      drop = true;
      trunc = index_t{};
      clear = true;
    }
    base = li;
  }
  auto e_size = clear ? std::size_t{0} : staged_entries_.size() - trim;
  auto first = drop                ? base.index.next()
               : trunc != index_t{} ? trunc
                                    : std::max(durable_last(), base.index).next();
  auto last = index_t{first.value - 1 + e_size};
  auto new_truncate = trunc;
  auto keep = e_size;
  if (batch.truncate_from != index_t{}) {
    if (batch.truncate_from <= base.index)
      throw store_error("disk_store: write: truncate_from "
                        + str(batch.truncate_from)
                        + " is not above the log base " + str(base.index)
                        + " (would cut into the snapshot)");
    if (batch.truncate_from <= last) {
      last = batch.truncate_from.prev();
      if (batch.truncate_from >= first) {
        keep = distance(first, batch.truncate_from);
      } else {
        // Only without drop: then (base, first) holds durable entries.
        new_truncate = batch.truncate_from;
        keep = 0;
      }
    }
  }
  check_consecutive(batch.entries, last.next());
  for (auto& e : batch.entries)
    if (e.data.size() > format::max_record_bytes - 64)
      throw store_error("disk_store: write: entry " + str(e.index) + " has "
                        + std::to_string(e.data.size())
                        + " bytes of data, above the 64 MiB record bound");
  last = index_t{last.value + batch.entries.size()};
  if (batch.last.index != last)
    throw store_error("disk_store: write: batch.last.index "
                      + str(batch.last.index)
                      + " differs from the last index after the batch "
                      + str(last));
  if (!batch.snapshot.empty()) {
    // Every check passed: the batch is staged whole from here on.
    if (batch.snapshot.front().staged)
      take_over_staging(batch.snapshot.front()); // may throw; nothing staged
    if (!staged_snapshot_.empty() && staged_snapshot_.front().staged)
      discard_staged_install_file();             // superseded in this sync
    staged_snapshot_ = batch.snapshot;
  }
  staged_drop_log_ = drop;
  staged_truncate_ = new_truncate;
  if (clear)
    staged_entries_.clear();
  else
    staged_entries_.erase(staged_entries_.begin(),
                          staged_entries_.begin()
                            + static_cast<std::ptrdiff_t>(trim));
  staged_entries_.resize(keep);
  staged_entries_.insert(staged_entries_.end(), batch.entries.begin(),
                         batch.entries.end());
  staged_hard_ = batch.hard_state;
  staged_any_ = true;
}

void disk_store::sync() {
  std::lock_guard<std::mutex> guard{mtx_};
  check_usable();
  if (!staged_any_)
    return;
  op_file_.clear();
  try {
    auto new_base = staged_base();
    // The snapshot file first: HARDSTATE naming its base is the commit.
    if (!staged_snapshot_.empty()) {
      if (staged_snapshot_.front().staged)
        finish_staged_install(staged_snapshot_.front());
      else
        write_snapshot_file(staged_snapshot_.front());
    }
    if (staged_hard_ != hard_ || new_base != base_)
      write_hard_state_file(staged_hard_, new_base);
    if (!staged_snapshot_.empty()) {
      snapshot_bytes_ = staged_snapshot_.front().staged
                          ? staged_snapshot_.front().size
                          : staged_snapshot_.front().data.size();
      staged_snapshot_.clear();
      remove_other_snapshots();
      if (staged_drop_log_)
        drop_log();
      else
        compact_log();
    }
    if (staged_truncate_ != index_t{})
      truncate_log(staged_truncate_);
    if (!staged_entries_.empty())
      append_log(staged_entries_);
  } catch (const std::exception& e) {
    rollback_appends();
    poisoned_ = e.what();
    throw store_error("data directory " + opts_.dir + ": "
                      + (op_file_.empty() ? std::string{} : op_file_ + ": ")
                      + "sync failed (" + e.what()
                      + "); the store accepts no more calls: restart the node "
                        "and check the disk");
  }
  staged_any_ = false;
  staged_snapshot_.clear();
  staged_drop_log_ = false;
  staged_truncate_ = index_t{};
  staged_entries_.clear();
  ++syncs_;
}

std::size_t disk_store::raft_state_size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  check_usable();
  return format::hard_state_bytes + static_cast<std::size_t>(record_bytes_);
}

std::size_t disk_store::snapshot_size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  check_usable();
  return static_cast<std::size_t>(snapshot_bytes_);
}

void disk_store::crash() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (closed_)
    return;
  close_all();
  closed_ = true;
  staging_id_ = log_id{};
  staging_bytes_ = 0;
  staged_any_ = false;
  staged_snapshot_.clear();
  staged_drop_log_ = false;
  staged_truncate_ = index_t{};
  staged_entries_.clear();
}

std::uint64_t disk_store::sync_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return syncs_;
}

std::uint64_t disk_store::fsync_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return fsyncs_;
}

// -- writing --------------------------------------------------------------------------

void disk_store::write_durable_file(const std::string& file_path,
                                    const std::string& bytes) {
  auto fd = fs_->open(file_path, open_mode::create_truncate);
  try {
    fs_->pwrite(fd, bytes.data(), bytes.size(), 0);
    do_fsync(fd);
  } catch (...) {
    fs_->close(fd);
    throw;
  }
  fs_->close(fd);
}

void disk_store::write_hard_state_file(const hard_state& hs, log_id base) {
  auto bytes = format::encode_hard_state(format::hard_state_record{hs, base});
  auto tmp = path(std::string{format::hard_state_file} + format::tmp_suffix);
  op_file_ = std::string{format::hard_state_file} + format::tmp_suffix;
  write_durable_file(tmp, bytes);
  op_file_ = format::hard_state_file;
  fs_->rename(tmp, path(format::hard_state_file));
  do_fsync_dir();
  hard_ = hs;
  base_ = base;
}

void disk_store::write_snapshot_file(const snapshot_install& snap) {
  auto name = format::snapshot_name(snap.last_included);
  auto tmp = name + format::tmp_suffix;
  op_file_ = tmp;
  auto bytes = format::encode_snapshot(snap);
  write_durable_file(path(tmp), bytes);
  op_file_ = name;
  fs_->rename(path(tmp), path(name));
  do_fsync_dir();
}

void disk_store::remove_other_snapshots() {
  bool removed = false;
  for (auto& n : fs_->list_directory(opts_.dir)) {
    auto at = format::parse_snapshot_name(n);
    if (!at || (base_.index != index_t{} && *at == base_))
      continue;
    op_file_ = n;
    fs_->unlink(path(n));
    removed = true;
  }
  if (removed)
    do_fsync_dir();
}

std::vector<std::string> disk_store::compact_log() {
  std::vector<std::string> removed;
  // In memory: entries <= base_ are no longer part of the log.
  if (!entries_.empty() && entries_.front().index <= base_.index) {
    auto n = std::min<std::size_t>(
      entries_.size(),
      static_cast<std::size_t>(base_.index.value - entries_.front().index.value
                               + 1));
    for (std::size_t i = 0; i < n; ++i)
      record_bytes_ -= positions_[i].record.bytes;
    entries_.erase(entries_.begin(),
                   entries_.begin() + static_cast<std::ptrdiff_t>(n));
    positions_.erase(positions_.begin(),
                     positions_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  // On disk: the leading segments that hold only entries <= base_ (all of
  // them when no entry is left), oldest first, each unlink durable before
  // the next: a crash leaves a suffix of the segments, still contiguous.
  std::size_t d = 0;
  if (entries_.empty())
    d = segments_.size();
  else
    while (d + 1 < segments_.size()
           && segments_[d + 1].first <= base_.index.next())
      ++d;
  for (std::size_t k = 0; k < d; ++k) {
    remove_segment_file(segments_[k]);
    removed.push_back(segments_[k].name);
  }
  segments_.erase(segments_.begin(),
                  segments_.begin() + static_cast<std::ptrdiff_t>(d));
  for (auto& p : positions_)
    p.segment -= d;
  return removed;
}

std::vector<std::string> disk_store::drop_log() {
  std::vector<std::string> removed;
  entries_.clear();
  positions_.clear();
  record_bytes_ = 0;
  // Newest first, each unlink durable before the next: a crash leaves a
  // prefix of the old log, which still holds base.index with its old term
  // whenever it holds anything after base -- recovery then drops it too.
  while (!segments_.empty()) {
    remove_segment_file(segments_.back());
    removed.push_back(segments_.back().name);
    segments_.pop_back();
  }
  return removed;
}

void disk_store::truncate_log(index_t from) {
  // write() keeps `from` in (base_.index, durable_last()].
  auto k = static_cast<std::size_t>(distance(base_.index, from.prev()));
  if (k >= entries_.size())
    return;
  auto seg = positions_[k].segment;
  auto offset = positions_[k].record.offset;
  // Later segments go newest first, each unlink durable before the next, so
  // a crash in between leaves a contiguous log.
  while (segments_.size() > seg + 1) {
    remove_segment_file(segments_.back());
    segments_.pop_back();
  }
  auto& s = segments_[seg];
  if (offset == format::segment_header_bytes) {
    // The cut is at the segment's first record: drop the whole file.
    remove_segment_file(s);
    segments_.pop_back();
  } else {
    op_file_ = s.name;
    fs_->ftruncate(s.fd, offset);
    do_fsync(s.fd); // durable before anything is appended behind it
    s.bytes = offset;
  }
  for (auto i = k; i < positions_.size(); ++i)
    record_bytes_ -= positions_[i].record.bytes;
  positions_.resize(k);
  entries_.resize(k);
}

void disk_store::remove_segment_file(segment& s) {
  op_file_ = s.name;
  if (s.fd >= 0) {
    fs_->close(s.fd);
    s.fd = -1;
  }
  fs_->unlink(path(s.name));
  do_fsync_dir();
}

void disk_store::append_log(const log_entries& es) {
  // Remember the sizes, so a failure can cut back what this append wrote.
  sizes_before_append_.clear();
  for (auto& s : segments_)
    sizes_before_append_.push_back(s.bytes);
  segments_before_append_ = segments_.size();
  appending_ = true;
  std::string buf;                       // for the last segment, unwritten
  std::vector<format::record_pos> pos;   // the records in buf
  std::size_t next = 0;                  // es[next] is the next to go durable
  auto flush = [&] {
    if (buf.empty())
      return;
    auto& s = segments_.back();
    op_file_ = s.name;
    fs_->pwrite(s.fd, buf.data(), buf.size(), s.bytes);
    do_fdatasync(s.fd);
    s.bytes += buf.size();
    for (auto& p : pos) {
      record_bytes_ += p.bytes;
      positions_.push_back(entry_pos{segments_.size() - 1, p});
      entries_.push_back(es[next++]);
    }
    buf.clear();
    pos.clear();
  };
  for (auto& e : es) {
    auto rec = format::encode_record(e);
    if (rec.size() > format::max_record_bytes)
      throw store_error("entry " + str(e.index) + " encodes to "
                        + std::to_string(rec.size())
                        + " bytes, above the record bound");
    auto active_bytes =
      segments_.empty() ? 0 : segments_.back().bytes + buf.size();
    if (segments_.empty()
        || (active_bytes >= opts_.segment_bytes
            && active_bytes > format::segment_header_bytes)) {
      // Roll over: the active segment is made durable first, so only the
      // last segment can ever hold a torn record.
      flush();
      auto name = format::segment_name(e.index);
      op_file_ = name;
      auto fd = fs_->open(path(name), open_mode::create_truncate);
      segments_.push_back(segment{e.index, name, fd, 0});
      do_fsync_dir();
      buf = format::encode_segment_header(e.index);
    }
    pos.push_back(format::record_pos{segments_.back().bytes + buf.size(),
                                     static_cast<std::uint32_t>(rec.size())});
    buf += rec;
  }
  flush();
  appending_ = false;
}

void disk_store::rollback_appends() noexcept {
  if (!appending_)
    return;
  appending_ = false;
  // Best effort: errors are ignored, the store is poisoned anyway.
  while (segments_.size() > segments_before_append_) {
    auto& s = segments_.back();
    if (s.fd >= 0)
      fs_->close(s.fd);
    try {
      fs_->unlink(path(s.name));
    } catch (const std::exception&) {
      // recovery drops it as a torn tail or an incomplete segment
    }
    segments_.pop_back();
  }
  // Every pre-existing segment the append may have written to: the last one,
  // whose records may be partly written even when its size was not updated.
  auto from = segments_before_append_ == 0 ? 0 : segments_before_append_ - 1;
  for (auto i = from; i < segments_.size(); ++i) {
    if (segments_[i].fd < 0)
      continue;
    try {
      fs_->ftruncate(segments_[i].fd, sizes_before_append_[i]);
    } catch (const std::exception&) {
      // as above
    }
  }
}

} // namespace raft::persistence
