// disk_store: the store interface, writing and syncing. Opening and recovery
// live in disk_store_open.cpp, the format in disk_format.hpp.
#include "persistence/disk_store.hpp"

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
  return stored_state{hard_, base_, entries_};
}

void disk_store::write(const persist_batch& batch) {
  std::lock_guard<std::mutex> guard{mtx_};
  check_usable();
  // The staged view: durable log, cut at staged_truncate_, + staged_entries_.
  auto staged_first =
    staged_truncate_ != index_t{} ? staged_truncate_ : durable_last().next();
  auto last = index_t{staged_first.value - 1 + staged_entries_.size()};
  auto new_truncate = staged_truncate_;
  auto keep = staged_entries_.size();
  if (batch.truncate_from != index_t{}) {
    if (batch.truncate_from <= base_.index)
      throw store_error("disk_store: write: truncate_from "
                        + str(batch.truncate_from)
                        + " is not above the log base " + str(base_.index)
                        + " (would cut into the snapshot)");
    if (batch.truncate_from <= last) {
      last = batch.truncate_from.prev();
      if (batch.truncate_from >= staged_first) {
        keep = distance(staged_first, batch.truncate_from);
      } else {
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
  staged_truncate_ = new_truncate;
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
    if (staged_hard_ != hard_)
      write_hard_state_file(staged_hard_);
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
  staged_truncate_ = index_t{};
  staged_entries_.clear();
  ++syncs_;
}

std::size_t disk_store::raft_state_size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  check_usable();
  return format::hard_state_bytes + static_cast<std::size_t>(record_bytes_);
}

void disk_store::crash() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (closed_)
    return;
  close_all();
  closed_ = true;
  staged_any_ = false;
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

void disk_store::write_hard_state_file(const hard_state& hs) {
  auto bytes = format::encode_hard_state(format::hard_state_record{hs, base_});
  auto tmp = path(std::string{format::hard_state_file} + format::tmp_suffix);
  op_file_ = std::string{format::hard_state_file} + format::tmp_suffix;
  auto fd = fs_->open(tmp, open_mode::create_truncate);
  try {
    fs_->pwrite(fd, bytes.data(), bytes.size(), 0);
    do_fsync(fd);
  } catch (...) {
    fs_->close(fd);
    throw;
  }
  fs_->close(fd);
  op_file_ = format::hard_state_file;
  fs_->rename(tmp, path(format::hard_state_file));
  do_fsync_dir();
  hard_ = hs;
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
    auto& s = segments_.back();
    op_file_ = s.name;
    fs_->close(s.fd);
    s.fd = -1;
    fs_->unlink(path(s.name));
    do_fsync_dir();
    segments_.pop_back();
  }
  auto& s = segments_[seg];
  op_file_ = s.name;
  if (offset == format::segment_header_bytes) {
    // The cut is at the segment's first record: drop the whole file.
    fs_->close(s.fd);
    s.fd = -1;
    fs_->unlink(path(s.name));
    do_fsync_dir();
    segments_.pop_back();
  } else {
    fs_->ftruncate(s.fd, offset);
    do_fsync(s.fd); // durable before anything is appended behind it
    s.bytes = offset;
  }
  for (auto i = k; i < positions_.size(); ++i)
    record_bytes_ -= positions_[i].record.bytes;
  positions_.resize(k);
  entries_.resize(k);
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
