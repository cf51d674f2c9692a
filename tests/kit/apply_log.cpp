#include "tests/kit/apply_log.hpp"

#include <sstream>
#include <utility>

namespace raft::testing {

namespace {

/// Go prints commands with %v; ours are strings, possibly 5000 bytes long.
std::string short_cmd(const std::string& x) {
  constexpr std::size_t max = 40;
  if (x.size() <= max)
    return x;
  return x.substr(0, max) + "...(" + std::to_string(x.size()) + " bytes)";
}

} // namespace

apply_log::apply_log(int servers)
  : logs_(static_cast<std::size_t>(servers)),
    errors_(static_cast<std::size_t>(servers)),
    incarnation_(static_cast<std::size_t>(servers), 0) {
  // nop
}

std::uint64_t apply_log::new_incarnation(int server) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto x = ++last_incarnation_;
  incarnation_[static_cast<std::size_t>(server)] = x;
  return x;
}

void apply_log::end_incarnation(int server) {
  std::lock_guard<std::mutex> guard{mtx_};
  incarnation_[static_cast<std::size_t>(server)] = 0;
}

void apply_log::record(int server, std::uint64_t incarnation,
                       std::uint64_t index, const std::string& cmd) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = static_cast<std::size_t>(server);
  if (incarnation_[i] != incarnation)
    return; // a zombie instance (config.go would let it write; we cannot
            // stop a killed actor's last applies, so we ignore them)
  std::string err;
  for (std::size_t j = 0; j < logs_.size(); ++j) {
    auto k = logs_[j].find(index);
    if (k != logs_[j].end() && k->second != cmd) {
      // Some server has already committed a different value for this entry.
      std::ostringstream os;
      os << "commit index=" << index << " server=" << server << " "
         << short_cmd(cmd) << " != server=" << j << " "
         << short_cmd(k->second);
      err = os.str();
    }
  }
  bool prev_ok = index > 0 && logs_[i].count(index - 1) > 0;
  logs_[i][index] = cmd;
  if (index > max_index_)
    max_index_ = index;
  if (index > 1 && !prev_ok) {
    std::ostringstream os;
    os << "server " << server << " apply out of order " << index;
    err = os.str();
  }
  if (!err.empty() && errors_[i].empty())
    errors_[i] = "apply error: " + err;
}

std::optional<std::string> apply_log::get(int server,
                                          std::uint64_t index) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& log = logs_[static_cast<std::size_t>(server)];
  auto i = log.find(index);
  if (i == log.end())
    return std::nullopt;
  return i->second;
}

std::string apply_log::error(int server) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return errors_[static_cast<std::size_t>(server)];
}

std::string apply_log::first_error() const {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& e : errors_)
    if (!e.empty())
      return e;
  return {};
}

std::uint64_t apply_log::max_index() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return max_index_;
}

// -- applier -----------------------------------------------------------------------

applier::applier(std::shared_ptr<apply_log> log, int server,
                 std::uint64_t incarnation)
  : log_(std::move(log)), server_(server), incarnation_(incarnation) {
  // nop
}

std::string applier::apply(const apply_msg& m) {
  // config.go applier: messages with CommandValid false are ignored.
  if (m.command_valid)
    log_->record(server_, incarnation_, m.command_index.value, m.command);
  return {};
}

} // namespace raft::testing
