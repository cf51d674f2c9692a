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
    last_applied_(static_cast<std::size_t>(servers), 0),
    incarnation_(static_cast<std::size_t>(servers), 0) {
  // nop
}

std::uint64_t apply_log::new_incarnation(int server) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto x = ++last_incarnation_;
  incarnation_[static_cast<std::size_t>(server)] = x;
  // start1: lastApplied[i] = 0 (the new instance restores its snapshot by
  // an apply_msg with snapshot_valid, which ingest_snapshot records).
  last_applied_[static_cast<std::size_t>(server)] = 0;
  return x;
}

void apply_log::end_incarnation(int server) {
  std::lock_guard<std::mutex> guard{mtx_};
  incarnation_[static_cast<std::size_t>(server)] = 0;
}

void apply_log::set_error(std::size_t i, const std::string& err) {
  if (!err.empty() && errors_[i].empty())
    errors_[i] = "apply error: " + err;
}

void apply_log::check_logs(std::size_t i, std::uint64_t index,
                           const std::string& cmd) {
  auto server = static_cast<int>(i);
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
  set_error(i, err);
}

void apply_log::record(int server, std::uint64_t incarnation,
                       std::uint64_t index, const std::string& cmd) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = static_cast<std::size_t>(server);
  if (incarnation_[i] != incarnation)
    return; // a zombie instance (config.go would let it write; we cannot
            // stop a killed actor's last applies, so we ignore them)
  check_logs(i, index, cmd);
}

void apply_log::record_snap(int server, std::uint64_t incarnation,
                            std::uint64_t index, const std::string& cmd) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = static_cast<std::size_t>(server);
  if (incarnation_[i] != incarnation)
    return; // a zombie instance (see record())
  if (index != last_applied_[i] + 1) {
    // Go reports this and skips checkLogs for the message.
    std::ostringstream os;
    os << "server " << server << " apply out of order, expected index "
       << (last_applied_[i] + 1) << ", got " << index;
    set_error(i, os.str());
  } else {
    check_logs(i, index, cmd);
  }
  last_applied_[i] = index;
}

void apply_log::ingest_snapshot(int server, std::uint64_t incarnation,
                                const std::string& bytes,
                                std::uint64_t expected_index) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = static_cast<std::size_t>(server);
  if (incarnation_[i] != incarnation)
    return; // a zombie instance (see record())
  if (bytes.empty()) {
    set_error(i, "nil snapshot");
    return;
  }
  auto decoded = decode_snapshot(bytes);
  if (!decoded) {
    set_error(i, "snapshot decode error");
    return;
  }
  if (decoded->first != expected_index) {
    std::ostringstream os;
    os << "server " << server << " snapshot doesn't match m.SnapshotIndex ("
       << decoded->first << " != " << expected_index << ")";
    set_error(i, os.str());
    return;
  }
  logs_[i] = std::move(decoded->second);
  last_applied_[i] = decoded->first;
}

std::optional<std::string>
apply_log::snapshot_of(int server, std::uint64_t incarnation,
                       std::uint64_t index) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = static_cast<std::size_t>(server);
  if (incarnation_[i] != incarnation)
    return std::nullopt;
  return encode_snapshot(index, logs_[i]);
}

std::uint64_t apply_log::last_applied(int server) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return last_applied_[static_cast<std::size_t>(server)];
}

std::string
apply_log::encode_snapshot(std::uint64_t index,
                           const std::map<std::uint64_t, std::string>& log) {
  std::string out = "snap " + std::to_string(index) + "\n";
  for (std::uint64_t j = 1; j <= index; ++j) {
    auto k = log.find(j);
    if (k == log.end()) {
      out += '-';
    } else {
      out += '+';
      out += std::to_string(k->second.size());
      out += ':';
      out += k->second;
    }
  }
  return out;
}

namespace {

/// Parses a decimal number at `pos` up to `stop`; advances `pos` past it.
std::optional<std::uint64_t> parse_number(const std::string& s,
                                          std::size_t& pos, char stop) {
  auto end = s.find(stop, pos);
  if (end == std::string::npos || end == pos || end - pos > 19)
    return std::nullopt;
  std::uint64_t x = 0;
  for (auto k = pos; k < end; ++k) {
    if (s[k] < '0' || s[k] > '9')
      return std::nullopt;
    x = x * 10 + static_cast<std::uint64_t>(s[k] - '0');
  }
  pos = end + 1;
  return x;
}

} // namespace

std::optional<std::pair<std::uint64_t, std::map<std::uint64_t, std::string>>>
apply_log::decode_snapshot(const std::string& bytes) {
  if (bytes.compare(0, 5, "snap ") != 0)
    return std::nullopt;
  std::size_t pos = 5;
  auto index = parse_number(bytes, pos, '\n');
  if (!index)
    return std::nullopt;
  std::map<std::uint64_t, std::string> log;
  for (std::uint64_t j = 1; j <= *index; ++j) {
    if (pos >= bytes.size())
      return std::nullopt;
    auto tag = bytes[pos++];
    if (tag == '-')
      continue;
    if (tag != '+')
      return std::nullopt;
    auto len = parse_number(bytes, pos, ':');
    if (!len || *len > bytes.size() - pos)
      return std::nullopt;
    log.emplace(j, bytes.substr(pos, static_cast<std::size_t>(*len)));
    pos += static_cast<std::size_t>(*len);
  }
  if (pos != bytes.size())
    return std::nullopt;
  return std::make_pair(*index, std::move(log));
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

void apply_log::record_failure(int server, const std::string& what) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = static_cast<std::size_t>(server);
  if (i < errors_.size() && errors_[i].empty())
    errors_[i] = what;
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

namespace raft::testing {

// -- snapshot_applier ----------------------------------------------------------

snapshot_applier::snapshot_applier(std::shared_ptr<apply_log> log, int server,
                                   std::uint64_t incarnation)
  : log_(std::move(log)), server_(server), incarnation_(incarnation) {
  // nop
}

std::string snapshot_applier::apply(const apply_msg& m) {
  if (m.snapshot_valid) {
    // SnapshotTerm is never checked (as in Go).
    log_->ingest_snapshot(server_, incarnation_, m.snapshot,
                          m.snapshot_index.value);
    boundary_reached_ = false;
  } else if (m.command_valid) {
    auto index = m.command_index.value;
    log_->record_snap(server_, incarnation_, index, m.command);
    if ((index + 1) % interval == 0)
      boundary_reached_ = true;
  }
  // Other messages are ignored.
  return {};
}

std::optional<std::string> snapshot_applier::take_snapshot(index_t applied) {
  if (!boundary_reached_)
    return std::nullopt;
  boundary_reached_ = false;
  return log_->snapshot_of(server_, incarnation_, applied.value);
}

} // namespace raft::testing
