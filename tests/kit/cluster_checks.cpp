// The checks of the 6.5840 config.go (docs/architecture.md §8.4), step by
// step, and the test bookkeeping around them (begin/end, the summary line,
// failures with the seed). Time is the cluster's own (sleep/now), so they
// run unchanged in both clock modes.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>

#include "tests/kit/cluster.hpp"

namespace raft::testing {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

/// Go prints commands with %v; ours may be 5000 bytes long.
std::string printable_cmd(const std::string& x) {
  constexpr std::size_t max = 40;
  if (x.size() <= max)
    return x;
  return x.substr(0, max) + "...(" + std::to_string(x.size()) + " bytes)";
}

} // namespace

int cluster::check_one_leader() {
  check_apply_errors();
  for (int iters = 0; iters < 10; ++iters) {
    auto ms = 450 + static_cast<int>(random() % 100);
    sleep(milliseconds{ms});
    std::map<std::uint64_t, std::vector<int>> leaders;
    for (int i = 0; i < servers(); ++i) {
      if (connected(i) && alive(i)) {
        auto [term, leader] = get_state(i);
        if (leader)
          leaders[term].push_back(i);
      }
    }
    std::uint64_t last_term_with_leader = 0;
    for (auto& [term, ls] : leaders) {
      if (ls.size() > 1)
        fail("term " + std::to_string(term) + " has "
             + std::to_string(ls.size()) + " (>1) leaders");
      if (term > last_term_with_leader)
        last_term_with_leader = term;
    }
    if (!leaders.empty()) {
      passed("check_one_leader");
      return leaders[last_term_with_leader][0];
    }
  }
  fail("expected one leader, got none");
}

std::uint64_t cluster::check_terms() {
  check_apply_errors();
  std::optional<std::uint64_t> term;
  for (int i = 0; i < servers(); ++i) {
    if (connected(i) && alive(i)) {
      auto xterm = get_state(i).first;
      if (!term)
        term = xterm;
      else if (*term != xterm)
        fail("servers disagree on term");
    }
  }
  passed("check_terms");
  return term.value_or(0);
}

void cluster::check_no_leader() {
  check_apply_errors();
  for (int i = 0; i < servers(); ++i) {
    if (connected(i) && alive(i) && get_state(i).second)
      fail("expected no leader among connected servers, but "
           + std::to_string(i) + " claims to be leader");
  }
  passed("check_no_leader");
}

std::pair<int, std::optional<std::string>>
cluster::n_committed(std::uint64_t index) {
  int count = 0;
  std::optional<std::string> cmd;
  for (int i = 0; i < servers(); ++i) {
    if (auto err = applied_->error(i); !err.empty())
      fail(err);
    if (auto cmd1 = applied_->get(i, index)) {
      if (count > 0 && *cmd != *cmd1)
        fail("committed values do not match: index " + std::to_string(index)
             + ", " + printable_cmd(*cmd) + ", " + printable_cmd(*cmd1));
      ++count;
      cmd = std::move(cmd1);
    }
  }
  return {count, cmd};
}

std::int64_t cluster::wait(std::uint64_t index, int n,
                           std::int64_t start_term) {
  milliseconds to{10};
  for (int iters = 0; iters < 30; ++iters) {
    if (n_committed(index).first >= n)
      break;
    sleep(to);
    if (to < seconds{1})
      to *= 2;
    if (start_term > -1) {
      for (int i = 0; i < servers(); ++i) {
        if (alive(i)
            && static_cast<std::int64_t>(get_state(i).first) > start_term)
          return -1; // someone has moved on; can no longer guarantee that
                     // we'll "win"
      }
    }
  }
  auto [nd, cmd] = n_committed(index);
  if (nd < n)
    fail("only " + std::to_string(nd) + " decided for index "
         + std::to_string(index) + "; wanted " + std::to_string(n));
  // Go returns the committed interface{} and the tests assert it is an int.
  const char* first = cmd->c_str();
  char* last = nullptr;
  errno = 0;
  auto value = std::strtoll(first, &last, 10);
  if (cmd->empty() || *last != '\0' || errno != 0)
    fail("value " + printable_cmd(*cmd) + " is not an int");
  passed("wait");
  return value;
}

std::uint64_t cluster::one(const std::string& cmd, int expected_servers,
                           bool retry) {
  auto t0 = now();
  int starts = 0;
  while (now() - t0 < seconds{10}) {
    // Try all the servers, maybe one is the leader.
    std::optional<std::uint64_t> index;
    for (int si = 0; si < servers(); ++si) {
      starts = (starts + 1) % servers();
      if (connected(starts) && alive(starts)) {
        auto r = start(starts, cmd);
        if (r.is_leader) {
          index = r.index;
          break;
        }
      }
    }
    if (index) {
      // Somebody claimed to be the leader and to have submitted our
      // command; wait a while for agreement.
      auto t1 = now();
      while (now() - t1 < seconds{2}) {
        auto [nd, cmd1] = n_committed(*index);
        if (nd > 0 && nd >= expected_servers && cmd1 == cmd) {
          passed("one");
          return *index; // and it was the command we submitted.
        }
        sleep(milliseconds{20});
      }
      if (!retry)
        fail("one(" + printable_cmd(cmd) + ") failed to reach agreement");
    } else {
      sleep(milliseconds{50});
    }
  }
  fail("one(" + printable_cmd(cmd) + ") failed to reach agreement");
}

// -- test bookkeeping ------------------------------------------------------------

void cluster::begin(const std::string& desc) {
  std::cout << desc << " ...  [seed=" << seed_ << " clock="
            << to_string(opts_.clock) << "]" << std::endl;
  t0_ = now();
  rpcs0_ = rpc_total();
  bytes0_ = bytes_total();
  max_index0_ = applied_->max_index();
}

void cluster::end() {
  check_timeout();
  check_apply_errors();
  auto t = std::chrono::duration<double>(now() - t0_).count();
  char buf[128];
  std::snprintf(buf, sizeof(buf), "  ... Passed --  %4.1f  %d %4llu %7llu %4llu",
                t, servers(),
                static_cast<unsigned long long>(rpc_total() - rpcs0_),
                static_cast<unsigned long long>(bytes_total() - bytes0_),
                static_cast<unsigned long long>(applied_->max_index()
                                                - max_index0_));
  std::cout << buf << std::endl;
}

void cluster::check_apply_errors() const {
  if (auto err = applied_->first_error(); !err.empty())
    fail(err);
  if (auto n = stats_->serialization_errors(); n > 0)
    fail("network: " + std::to_string(n)
         + " messages could not be serialized (byte counts are wrong)");
}

void cluster::check_timeout() {
  if (opts_.clock == clock_mode::real_time && now() - start_ > test_time_limit)
    fail("test took longer than 120 seconds");
}

std::uint64_t cluster::random() {
  return rng_() >> 1;
}

std::string cluster::random_string(std::size_t n) {
  static constexpr char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string result;
  result.reserve(n);
  for (std::size_t k = 0; k < n; ++k)
    result += alphabet[rng_() % 64];
  return result;
}

std::string cluster::replay_hint() const {
  std::string test = "<test>";
  std::string binary = "<test binary>";
  if (auto* capture = Catch::getCurrentContext().getResultCapture())
    test = capture->getCurrentTestName();
  if (auto cfg = Catch::getCurrentContext().getConfig())
    binary = cfg->name();
  std::ostringstream os;
  auto disk = opts_.storage == storage_kind::disk;
  os << "seed=" << seed_ << " clock=" << to_string(opts_.clock)
     << (disk ? " storage=disk" : "") << "; replay: RAFT_SEED=" << seed_
     << " " << binary << " --clock " << to_string(opts_.clock)
     << (disk ? " --storage disk" : "") << " \"" << test << "\"";
  return os.str();
}

void cluster::passed(const char* check) const {
  SUCCEED(check);
}

void cluster::fail(const std::string& what) const {
  FAIL(what << "\n  " << replay_hint());
  throw std::logic_error(what); // not reached: FAIL throws
}

} // namespace raft::testing
