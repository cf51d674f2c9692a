#include "persistence/file_system.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace raft::persistence {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path,
                       int err) {
  throw io_error(err, what + " " + path + ": " + std::strerror(err)
                        + " (errno " + std::to_string(err) + ")");
}

std::string fd_name(int fd) {
  return "fd " + std::to_string(fd);
}

} // namespace

std::string file_system::read_file(const std::string& path) {
  auto fd = open(path, open_mode::read_only);
  try {
    std::string result;
    std::uint64_t off = 0;
    char buf[65536];
    for (;;) {
      auto n = pread(fd, buf, sizeof(buf), off);
      if (n == 0)
        break;
      result.append(buf, n);
      off += n;
    }
    close(fd);
    return result;
  } catch (...) {
    close(fd);
    throw;
  }
}

int posix_file_system::open(const std::string& path, open_mode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case open_mode::read_only:
      flags |= O_RDONLY;
      break;
    case open_mode::read_write:
      flags |= O_RDWR;
      break;
    case open_mode::create:
      flags |= O_RDWR | O_CREAT;
      break;
    case open_mode::create_truncate:
      flags |= O_RDWR | O_CREAT | O_TRUNC;
      break;
  }
  for (;;) {
    auto fd = ::open(path.c_str(), flags, 0644);
    if (fd >= 0)
      return fd;
    if (errno != EINTR)
      fail("open", path, errno);
  }
}

void posix_file_system::close(int fd) noexcept {
  ::close(fd); // never retried on EINTR (Linux closes the fd anyway)
}

void posix_file_system::pwrite(int fd, const void* data, std::size_t n,
                               std::uint64_t offset) {
  auto p = static_cast<const char*>(data);
  while (n > 0) {
    auto k = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (k < 0) {
      if (errno == EINTR)
        continue;
      fail("write", fd_name(fd), errno);
    }
    p += k;
    n -= static_cast<std::size_t>(k);
    offset += static_cast<std::uint64_t>(k);
  }
}

std::size_t posix_file_system::pread(int fd, void* data, std::size_t n,
                                     std::uint64_t offset) {
  auto p = static_cast<char*>(data);
  std::size_t total = 0;
  while (total < n) {
    auto k = ::pread(fd, p + total, n - total,
                     static_cast<off_t>(offset + total));
    if (k < 0) {
      if (errno == EINTR)
        continue;
      fail("read", fd_name(fd), errno);
    }
    if (k == 0)
      break;
    total += static_cast<std::size_t>(k);
  }
  return total;
}

std::uint64_t posix_file_system::file_size(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0)
    fail("fstat", fd_name(fd), errno);
  return static_cast<std::uint64_t>(st.st_size);
}

void posix_file_system::fsync(int fd) {
  // fsync is not retried on EINTR: a failed fsync is fatal for the store.
  if (::fsync(fd) != 0)
    fail("fsync", fd_name(fd), errno);
}

void posix_file_system::fdatasync(int fd) {
  if (::fdatasync(fd) != 0)
    fail("fdatasync", fd_name(fd), errno);
}

void posix_file_system::ftruncate(int fd, std::uint64_t size) {
  for (;;) {
    if (::ftruncate(fd, static_cast<off_t>(size)) == 0)
      return;
    if (errno != EINTR)
      fail("ftruncate", fd_name(fd), errno);
  }
}

bool posix_file_system::try_lock(int fd) {
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0)
      return true;
    if (errno == EWOULDBLOCK)
      return false;
    if (errno != EINTR)
      fail("flock", fd_name(fd), errno);
  }
}

void posix_file_system::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    fail("rename to " + to + " from", from, errno);
}

void posix_file_system::unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0)
    fail("unlink", path, errno);
}

bool posix_file_system::mkdir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0)
    return true;
  if (errno == EEXIST)
    return false;
  fail("mkdir", path, errno);
}

std::vector<std::string>
posix_file_system::list_directory(const std::string& dir) {
  auto d = ::opendir(dir.c_str());
  if (d == nullptr)
    fail("opendir", dir, errno);
  std::vector<std::string> result;
  errno = 0;
  while (auto e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..")
      result.push_back(std::move(name));
    errno = 0;
  }
  auto err = errno;
  ::closedir(d);
  if (err != 0)
    fail("readdir", dir, err);
  std::sort(result.begin(), result.end());
  return result;
}

bool posix_file_system::exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void posix_file_system::fsync_directory(const std::string& dir) {
  auto fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    fail("open directory", dir, errno);
  if (::fsync(fd) != 0) {
    auto err = errno;
    ::close(fd);
    fail("fsync directory", dir, err);
  }
  ::close(fd);
}

std::shared_ptr<file_system> default_file_system() {
  static auto fs = std::make_shared<posix_file_system>();
  return fs;
}

forwarding_file_system::forwarding_file_system(
  std::shared_ptr<file_system> inner)
  : inner_(inner ? std::move(inner) : default_file_system()) {
}

} // namespace raft::persistence
