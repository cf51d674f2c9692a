// disk_store, part 3: receiving a snapshot (Figure 13 steps 2-5) without
// holding it in memory.
//
// - stage_snapshot_chunk(): chunks go into snapshot-incoming.tmp, the data at
//   48 + offset (the header is written at the install, when size and CRC are
//   known). Nothing is synced: the file is not state yet. A crash leaves a
//   *.tmp file, which open() removes -- an interrupted transfer leaves no
//   half-installed snapshot.
// - write() of a batch whose install is `staged`: take_over_staging() checks
//   that the staging file holds the announced snapshot and size and renames
//   it to <snapshot name>.tmp, freeing the staging name for the next
//   transfer.
// - sync(): finish_staged_install() writes the header, fsyncs, reads the
//   data back and checks its CRC-32 against the one the leader announced
//   (the core checked the chunks as they passed; this catches a disk that
//   lost or changed staged bytes), then renames the file into place and
//   fsyncs the directory -- the same state as write_snapshot_file() leaves,
//   before HARDSTATE commits the install.
// - The store keeps no snapshot bytes in memory: load() and snapshot_data()
//   read (and CRC-check) the snapshot file when asked.
#include "persistence/disk_store.hpp"
#include "messages/crc32.hpp"

#include <string>

namespace raft::persistence {

namespace {

std::string str(log_id id) {
  return "index " + std::to_string(id.index.value) + " term "
         + std::to_string(id.term.value);
}

} // namespace

void disk_store::close_staging() noexcept {
  if (staging_fd_ >= 0) {
    fs_->close(staging_fd_);
    staging_fd_ = -1;
  }
}

void disk_store::stage_snapshot_chunk(const snapshot_chunk& chunk) {
  std::lock_guard<std::mutex> guard{mtx_};
  check_usable();
  if (chunk.offset == 0) {
    // A new transfer: drop whatever was staged before.
    close_staging();
    staging_id_ = log_id{};
    staging_bytes_ = 0;
    op_file_ = format::snapshot_staging_file;
    staging_fd_ = fs_->open(path(format::snapshot_staging_file),
                            open_mode::create_truncate);
    staging_id_ = chunk.last_included;
  } else if (staging_fd_ < 0 || chunk.last_included != staging_id_
             || chunk.offset != staging_bytes_) {
    throw store_error("data directory " + opts_.dir
                      + ": stage_snapshot_chunk: chunk at offset "
                      + std::to_string(chunk.offset) + " of snapshot "
                      + str(chunk.last_included)
                      + " does not continue the staging area (snapshot "
                      + str(staging_id_) + ", "
                      + std::to_string(staging_bytes_) + " bytes)");
  }
  // A failed write (ENOSPC, EIO) throws io_error: the persister stops the
  // node with the error; nothing acknowledged depends on staged bytes.
  fs_->pwrite(staging_fd_, chunk.data.data(), chunk.data.size(),
              format::snapshot_header_bytes + chunk.offset);
  staging_bytes_ += chunk.data.size();
}

std::string disk_store::snapshot_data() const {
  std::lock_guard<std::mutex> guard{mtx_};
  check_usable();
  return read_snapshot_locked();
}

std::string disk_store::read_snapshot_locked() const {
  if (base_.index == index_t{})
    return {};
  auto name = format::snapshot_name(base_);
  auto scan = format::decode_snapshot(fs_->read_file(path(name)), base_);
  if (!scan.ok)
    throw store_error("data directory " + opts_.dir + ": " + name
                      + " offset " + std::to_string(scan.bad_offset) + ": "
                      + scan.bad_reason
                      + " (the snapshot file changed on disk after it was "
                        "written: check the disk)");
  return std::move(scan.snapshot.data);
}

void disk_store::take_over_staging(const snapshot_install& install) {
  if (staging_fd_ < 0 || staging_id_ != install.last_included
      || staging_bytes_ != install.size)
    throw store_error("data directory " + opts_.dir
                      + ": write: staged snapshot "
                      + str(install.last_included) + " ("
                      + std::to_string(install.size)
                      + " bytes) does not match the staging area (snapshot "
                      + str(staging_id_) + ", "
                      + std::to_string(staging_bytes_) + " bytes)");
  close_staging();
  auto tmp = format::snapshot_name(install.last_included) + format::tmp_suffix;
  op_file_ = tmp;
  fs_->rename(path(format::snapshot_staging_file), path(tmp));
  staging_id_ = log_id{};
  staging_bytes_ = 0;
}

void disk_store::discard_staged_install_file() noexcept {
  auto tmp = format::snapshot_name(staged_snapshot_.front().last_included)
             + format::tmp_suffix;
  try {
    fs_->unlink(path(tmp));
  } catch (...) {
    // Best effort: open() removes *.tmp files anyway.
  }
}

void disk_store::finish_staged_install(const snapshot_install& install) {
  auto name = format::snapshot_name(install.last_included);
  auto tmp = name + format::tmp_suffix;
  op_file_ = tmp;
  auto fd = fs_->open(path(tmp), open_mode::read_write);
  std::string data;
  try {
    auto header = format::encode_snapshot_header(install.last_included,
                                                 install.size, install.crc32);
    fs_->pwrite(fd, header.data(), header.size(), 0);
    do_fsync(fd);
    // Read back what the disk holds: the install must be exactly the bytes
    // the leader sent.
    data.resize(static_cast<std::size_t>(install.size));
    auto got = fs_->pread(fd, data.data(), data.size(),
                          format::snapshot_header_bytes);
    auto file_bytes = fs_->file_size(fd);
    if (got != data.size()
        || file_bytes != format::snapshot_header_bytes + install.size
        || raft::crc32(data) != install.crc32)
      throw store_error("the received snapshot " + str(install.last_included)
                        + " reads back wrong from disk (" + std::to_string(got)
                        + " of " + std::to_string(install.size)
                        + " bytes, or a CRC-32 mismatch): check the disk");
  } catch (...) {
    fs_->close(fd);
    throw;
  }
  fs_->close(fd);
  op_file_ = name;
  fs_->rename(path(tmp), path(name));
  do_fsync_dir();
}

} // namespace raft::persistence
