// Randomized crash property test on sim_file_system: random appends,
// truncations and hard-state changes, sync() at random points, process
// crashes and power losses at random points -- also in the middle of a sync.
// After every reopen:
// - everything acknowledged by a completed sync() is present, unless a later
//   truncation (acknowledged or in flight) cut it;
// - nothing is present that was never written;
// - the hard state is the last acknowledged one or one written after it.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>
#include <sstream>

#include "persistence/sim_file_system.hpp"
#include "tests/persistence/helpers.hpp"
#include "tests/support/run_options.hpp"

using namespace raft;
using namespace raft::persistence;
using namespace raft::persistence::testing;

namespace {

/// What the test knows about the store.
struct oracle {
  /// State covered by the last completed sync() (or found by recovery).
  hard_state acked_hard;
  log_entries acked_log;
  /// Batches written since, including those of a sync() that failed.
  std::vector<persist_batch> pending;
  /// The staged view: acked + pending.
  hard_state staged_hard;
  log_entries staged_log;
  /// Every entry ever written, per index.
  std::map<std::uint64_t, std::vector<log_entry>> written;

  void stage(const persist_batch& b) {
    pending.push_back(b);
    if (b.truncate_from != index_t{}
        && b.truncate_from.value <= staged_log.size())
      staged_log.resize(b.truncate_from.value - 1);
    for (auto& e : b.entries) {
      staged_log.push_back(e);
      written[e.index.value].push_back(e);
    }
    staged_hard = b.hard_state;
  }

  void acknowledge() {
    acked_hard = staged_hard;
    acked_log = staged_log;
    pending.clear();
  }

  /// Checks a recovered state; returns "" or what is wrong.
  std::string check(const stored_state& st) const {
    std::ostringstream err;
    // Hard state: the acked one or one written after it.
    bool hard_ok = st.hard == acked_hard;
    for (auto& b : pending)
      hard_ok = hard_ok || st.hard == b.hard_state;
    if (!hard_ok)
      err << "hard state term " << st.hard.current_term << " vote "
          << st.hard.voted_for << " was never written after the last ack; ";
    // Acked entries below the lowest in-flight cut must all be there.
    auto keep = acked_log.size();
    for (auto& b : pending)
      if (b.truncate_from != index_t{})
        keep = std::min<std::size_t>(keep, b.truncate_from.value - 1);
    for (std::size_t i = 0; i < keep; ++i)
      if (i >= st.entries.size() || st.entries[i] != acked_log[i]) {
        err << "acknowledged entry " << i + 1 << " lost or changed; ";
        break;
      }
    // Everything present was written, at consecutive indexes.
    for (std::size_t i = 0; i < st.entries.size(); ++i) {
      auto& e = st.entries[i];
      auto w = written.find(i + 1);
      bool ok = e.index.value == i + 1 && w != written.end()
                && std::find(w->second.begin(), w->second.end(), e)
                     != w->second.end();
      if (!ok) {
        err << "entry at position " << i + 1 << " was never written; ";
        break;
      }
    }
    return err.str();
  }

  /// After recovery, the recovered state is what is durable now.
  void reset_to(const stored_state& st) {
    acked_hard = staged_hard = st.hard;
    acked_log = staged_log = st.entries;
    pending.clear();
  }
};

/// What the runs exercised (so the test can show it is not vacuous).
struct coverage {
  std::uint64_t reopens = 0;
  std::uint64_t torn_tails = 0;
  std::uint64_t failed_syncs = 0;
  std::uint64_t lost_unacked = 0;
  std::uint64_t segments = 0;
};

/// Runs one seed; returns "" or a description of the first violation.
std::string run_seed(std::uint64_t seed, int ops, coverage& cov) {
  std::mt19937_64 rng{seed};
  auto pick = [&](std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>{lo, hi}(rng);
  };
  auto fs = std::make_shared<sim_file_system>();
  auto opts = options("/node", fs, pick(40, 400));
  auto s = disk_store::open(opts);
  oracle o;
  std::uint64_t term = 1;
  std::uint64_t serial = 0; // makes every written entry distinct
  auto reopen = [&](const char* why, int step) -> std::string {
    s.reset();
    try {
      s = disk_store::open(opts);
    } catch (const std::exception& e) {
      return std::string{"step "} + std::to_string(step) + " after " + why
             + ": reopen failed: " + e.what();
    }
    auto st = s->load();
    ++cov.reopens;
    cov.torn_tails += s->recovery().dropped_torn_tail ? 1 : 0;
    cov.segments = std::max<std::uint64_t>(cov.segments,
                                           s->recovery().segments);
    cov.lost_unacked += st.entries != o.staged_log ? 1 : 0;
    if (auto err = o.check(st); !err.empty())
      return std::string{"step "} + std::to_string(step) + " after " + why
             + ": " + err;
    o.reset_to(st);
    return {};
  };
  for (int step = 0; step < ops; ++step) {
    auto r = pick(0, 99);
    if (r < 35) { // append
      auto first = o.staged_log.size() + 1;
      log_entries es;
      for (auto i = first; i < first + pick(1, 4); ++i)
        es.push_back(entry(i, term, "e" + std::to_string(++serial)));
      auto last = es.back().index.value;
      auto b = batch(hard_state{term_t{term}, o.staged_hard.voted_for}, es,
                     last);
      s->write(b);
      o.stage(b);
    } else if (r < 45) { // truncate (a new leader overwrote a suffix)
      ++term;
      auto from = pick(1, o.staged_log.size() + 1);
      log_entries es;
      for (auto i = from; i < from + pick(0, 3); ++i)
        es.push_back(entry(i, term, "t" + std::to_string(++serial)));
      auto b = batch(hs(term, static_cast<std::uint32_t>(pick(0, 3))), es,
                     es.empty() ? from - 1 : es.back().index.value, from);
      s->write(b);
      o.stage(b);
    } else if (r < 55) { // hard state only
      term += pick(0, 1);
      auto b = batch(hs(term, static_cast<std::uint32_t>(pick(0, 3))), {},
                     o.staged_log.size());
      s->write(b);
      o.stage(b);
    } else if (r < 80) { // sync
      s->sync();
      o.acknowledge();
      if (s->load().entries != o.staged_log || s->load().hard != o.staged_hard)
        return "step " + std::to_string(step) + ": load() after sync differs";
    } else if (r < 88) { // power loss in the middle of a sync
      fs->die_after(pick(0, 12));
      try {
        s->sync();
        o.acknowledge(); // it completed before the power went
      } catch (const store_error&) {
        ++cov.failed_syncs; // not acknowledged
      }
      s->crash();
      fs->power_loss(rng);
      if (auto err = reopen("power loss during sync", step); !err.empty())
        return err;
    } else if (r < 95) { // power loss between syncs
      s->crash();
      fs->power_loss(rng);
      if (auto err = reopen("power loss", step); !err.empty())
        return err;
    } else { // process crash: the page cache survives
      s->crash();
      auto acked = o.acked_log;
      if (auto err = reopen("process crash", step); !err.empty())
        return err;
      if (s->load().entries != acked)
        return "step " + std::to_string(step)
               + ": a process crash changed the synced log";
    }
  }
  s->crash();
  fs->power_loss(rng);
  return reopen("final power loss", ops);
}

} // namespace

TEST_CASE("storage: crash property -- acknowledged data survives power loss") {
  auto& run = raft::testing::run_options::global();
  coverage cov;
  for (auto seed : run.seed_list(200)) {
    auto err = run_seed(seed, 50, cov);
    if (!err.empty())
      FAIL(raft::testing::run_options::replay_hint(
             seed, "storage: crash property -- acknowledged data survives "
                   "power loss")
           << ": " << err);
  }
  INFO("reopens " << cov.reopens << ", torn tails dropped " << cov.torn_tails
                  << ", syncs cut by power loss " << cov.failed_syncs
                  << ", reopens that lost unacknowledged writes "
                  << cov.lost_unacked << ", most segments " << cov.segments);
  if (!run.seed) {
    CHECK(cov.torn_tails > 0);
    CHECK(cov.failed_syncs > 0);
    CHECK(cov.lost_unacked > 0);
    CHECK(cov.segments > 3);
  }
}
