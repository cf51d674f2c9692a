#include "persistence/sim_file_system.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace raft::persistence {

namespace {

[[noreturn]] void fail(const std::string& what, int err) {
  throw io_error(err, what + ": " + std::strerror(err) + " (errno "
                        + std::to_string(err) + ", simulated)");
}

std::string parent_of(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos || pos == 0)
    return "/";
  return path.substr(0, pos);
}

std::string base_of(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

} // namespace

void sim_file_system::die_after(std::uint64_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  budget_ = static_cast<std::int64_t>(n);
}

void sim_file_system::mutation(const std::string& what) {
  if (budget_ < 0)
    return;
  if (budget_ == 0)
    fail(what + " (the machine is losing power)", EIO);
  --budget_;
}

void sim_file_system::power_loss(std::mt19937_64& rng, bool torn) {
  std::lock_guard<std::mutex> guard{mtx_};
  budget_ = -1;
  handles_.clear();
  names_ = durable_names_;
  // Every inode once: a file may have several names.
  std::set<inode*> seen;
  for (auto& [path, ino] : names_) {
    if (!seen.insert(ino.get()).second)
      continue;
    auto& d = ino->durable;
    auto& c = ino->current;
    if (torn && c.size() > d.size() && c.compare(0, d.size(), d) == 0) {
      std::uniform_int_distribution<std::size_t> keep{0, c.size() - d.size()};
      d.append(c, d.size(), keep(rng));
    }
    c = d;
    ino->lock_owner = -1;
  }
}

std::size_t sim_file_system::open_handles() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return handles_.size();
}

sim_file_system::inode& sim_file_system::node(int fd) {
  auto i = handles_.find(fd);
  if (i == handles_.end())
    fail("fd " + std::to_string(fd), EBADF);
  return *i->second;
}

int sim_file_system::open(const std::string& path, open_mode mode) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (mode == open_mode::create || mode == open_mode::create_truncate)
    mutation("open " + path);
  auto i = names_.find(path);
  if (i == names_.end()) {
    if (mode == open_mode::read_only || mode == open_mode::read_write)
      fail("open " + path, ENOENT);
    if (dirs_.count(parent_of(path)) == 0)
      fail("open " + path, ENOENT);
    if (dirs_.count(path) != 0)
      fail("open " + path, EISDIR);
    i = names_.emplace(path, std::make_shared<inode>()).first;
  } else if (mode == open_mode::create_truncate) {
    i->second->current.clear();
  }
  auto fd = next_fd_++;
  handles_.emplace(fd, i->second);
  return fd;
}

void sim_file_system::close(int fd) noexcept {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = handles_.find(fd);
  if (i == handles_.end())
    return;
  if (i->second->lock_owner == fd)
    i->second->lock_owner = -1;
  handles_.erase(i);
}

void sim_file_system::pwrite(int fd, const void* data, std::size_t n,
                             std::uint64_t offset) {
  std::lock_guard<std::mutex> guard{mtx_};
  mutation("write");
  auto& c = node(fd).current;
  auto end = static_cast<std::size_t>(offset) + n;
  if (c.size() < end)
    c.resize(end, '\0');
  std::memcpy(&c[static_cast<std::size_t>(offset)], data, n);
}

std::size_t sim_file_system::pread(int fd, void* data, std::size_t n,
                                   std::uint64_t offset) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& c = node(fd).current;
  if (offset >= c.size())
    return 0;
  auto k = std::min(n, c.size() - static_cast<std::size_t>(offset));
  std::memcpy(data, c.data() + offset, k);
  return k;
}

std::uint64_t sim_file_system::file_size(int fd) {
  std::lock_guard<std::mutex> guard{mtx_};
  return node(fd).current.size();
}

void sim_file_system::fsync(int fd) {
  std::lock_guard<std::mutex> guard{mtx_};
  mutation("fsync");
  auto& ino = node(fd);
  ino.durable = ino.current;
}

void sim_file_system::fdatasync(int fd) {
  fsync(fd);
}

void sim_file_system::ftruncate(int fd, std::uint64_t size) {
  std::lock_guard<std::mutex> guard{mtx_};
  mutation("ftruncate");
  node(fd).current.resize(static_cast<std::size_t>(size), '\0');
}

bool sim_file_system::try_lock(int fd) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& ino = node(fd);
  if (ino.lock_owner != -1 && ino.lock_owner != fd)
    return false;
  ino.lock_owner = fd;
  return true;
}

void sim_file_system::rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> guard{mtx_};
  mutation("rename " + from);
  auto i = names_.find(from);
  if (i == names_.end())
    fail("rename " + from, ENOENT);
  auto ino = i->second;
  names_.erase(i);
  names_[to] = std::move(ino);
}

void sim_file_system::unlink(const std::string& path) {
  std::lock_guard<std::mutex> guard{mtx_};
  mutation("unlink " + path);
  if (names_.erase(path) == 0)
    fail("unlink " + path, ENOENT);
}

bool sim_file_system::mkdir(const std::string& path) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (dirs_.count(path) != 0 || names_.count(path) != 0)
    return false;
  if (dirs_.count(parent_of(path)) == 0)
    fail("mkdir " + path, ENOENT);
  dirs_.insert(path);
  return true;
}

std::vector<std::string>
sim_file_system::list_directory(const std::string& dir) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (dirs_.count(dir) == 0)
    fail("opendir " + dir, ENOENT);
  std::vector<std::string> result;
  for (auto& [path, ino] : names_)
    if (parent_of(path) == dir)
      result.push_back(base_of(path));
  for (auto& d : dirs_)
    if (d != "/" && parent_of(d) == dir)
      result.push_back(base_of(d));
  std::sort(result.begin(), result.end());
  return result;
}

bool sim_file_system::exists(const std::string& path) {
  std::lock_guard<std::mutex> guard{mtx_};
  return names_.count(path) != 0 || dirs_.count(path) != 0;
}

void sim_file_system::fsync_directory(const std::string& dir) {
  std::lock_guard<std::mutex> guard{mtx_};
  mutation("fsync directory " + dir);
  if (dirs_.count(dir) == 0)
    fail("open directory " + dir, ENOENT);
  for (auto i = durable_names_.begin(); i != durable_names_.end();) {
    if (parent_of(i->first) == dir && names_.count(i->first) == 0)
      i = durable_names_.erase(i);
    else
      ++i;
  }
  for (auto& [path, ino] : names_)
    if (parent_of(path) == dir)
      durable_names_[path] = ino;
}

} // namespace raft::persistence
