#include "persistence/faulty_file_system.hpp"

#include <cstring>

namespace raft::persistence {

namespace {

[[noreturn]] void injected(int err, const std::string& what) {
  throw io_error(err, what + ": " + std::strerror(err) + " (errno "
                        + std::to_string(err) + ", injected)");
}

} // namespace

faulty_file_system::faulty_file_system(std::shared_ptr<file_system> inner)
  : forwarding_file_system(std::move(inner)) {}

void faulty_file_system::inject(op which, std::uint64_t nth, int err,
                                bool sticky, bool partial) {
  std::lock_guard<std::mutex> guard{mtx_};
  fault_ = fault{which, nth == 0 ? 0 : nth - 1, err, sticky, partial};
}

void faulty_file_system::heal() {
  std::lock_guard<std::mutex> guard{mtx_};
  fault_.reset();
}

std::uint64_t faulty_file_system::failures() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return failures_;
}

int faulty_file_system::check(op kind, bool is_write_or_sync) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!fault_)
    return 0;
  auto& f = *fault_;
  bool applies = f.which == kind
                 || (f.which == op::any_mutation
                     && (is_write_or_sync || kind == op::any_mutation));
  if (!applies)
    return 0;
  if (f.fired) {
    if (!f.sticky)
      return 0;
  } else if (f.countdown > 0) {
    --f.countdown;
    return 0;
  }
  f.fired = true;
  ++failures_;
  return f.err;
}

int faulty_file_system::open(const std::string& path, open_mode mode) {
  if (mode == open_mode::create || mode == open_mode::create_truncate)
    if (auto err = check(op::any_mutation, false))
      injected(err, "open " + path);
  return inner().open(path, mode);
}

void faulty_file_system::pwrite(int fd, const void* data, std::size_t n,
                                std::uint64_t offset) {
  if (auto err = check(op::write, true)) {
    bool partial;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      partial = fault_ && fault_->partial;
    }
    if (partial && n > 1)
      inner().pwrite(fd, data, n / 2, offset);
    injected(err, "write fd " + std::to_string(fd));
  }
  inner().pwrite(fd, data, n, offset);
}

void faulty_file_system::fsync(int fd) {
  if (auto err = check(op::sync, true))
    injected(err, "fsync fd " + std::to_string(fd));
  inner().fsync(fd);
}

void faulty_file_system::fdatasync(int fd) {
  if (auto err = check(op::sync, true))
    injected(err, "fdatasync fd " + std::to_string(fd));
  inner().fdatasync(fd);
}

void faulty_file_system::ftruncate(int fd, std::uint64_t size) {
  if (auto err = check(op::write, true))
    injected(err, "ftruncate fd " + std::to_string(fd));
  inner().ftruncate(fd, size);
}

void faulty_file_system::rename(const std::string& from,
                                const std::string& to) {
  if (auto err = check(op::any_mutation, false))
    injected(err, "rename " + from);
  inner().rename(from, to);
}

void faulty_file_system::unlink(const std::string& path) {
  if (auto err = check(op::any_mutation, false))
    injected(err, "unlink " + path);
  inner().unlink(path);
}

bool faulty_file_system::mkdir(const std::string& path) {
  if (auto err = check(op::any_mutation, false))
    injected(err, "mkdir " + path);
  return inner().mkdir(path);
}

void faulty_file_system::fsync_directory(const std::string& dir) {
  if (auto err = check(op::sync, true))
    injected(err, "fsync directory " + dir);
  inner().fsync_directory(dir);
}

} // namespace raft::persistence
