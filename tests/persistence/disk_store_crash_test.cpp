// Randomized crash property test on sim_file_system: random appends,
// truncations, hard-state changes and snapshot installs (keeping the suffix
// or dropping the log), sync() at random points, process crashes and power
// losses at random points -- also in the middle of a sync. After every
// reopen:
// - base and snapshot are those of the last acknowledged install or of an
//   install in flight, as a pair: never a snapshot without its base or a
//   base without its snapshot;
// - every acknowledged entry after the recovered base is present, unless a
//   later truncation or a log-dropping install (acknowledged or in flight)
//   removed it;
// - nothing is present that was never written, and after a log-dropping
//   install nothing older than that install;
// - the hard state is the last acknowledged one or one written after it.
#include <catch2/catch.hpp>

#include <algorithm>
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

/// A store's content as the test expects it.
struct view {
  hard_state hard;
  log_id base;
  std::string snapshot;
  /// Entries after base. Invariant: log[k].index == base.index + 1 + k.
  log_entries log;

  index_t last() const { return base.index + log.size(); }

  /// Term at `i`: base.term at the base, 0 where the view holds nothing.
  term_t term_at(index_t i) const {
    if (i == base.index)
      return base.term;
    if (i > base.index && i <= last())
      return log[distance(base.index, i) - 1].term;
    return term_t{};
  }
};

/// What the test knows about the store.
struct oracle {
  /// State covered by the last completed sync() (or found by recovery).
  view acked;
  /// Batches written since, including those of a sync() that failed, and
  /// for each whether its install dropped the whole log.
  std::vector<persist_batch> pending;
  std::vector<bool> pending_dropped_log;
  /// The staged view: acked + pending.
  view staged;
  /// Every entry ever written, per index.
  std::map<std::uint64_t, std::vector<log_entry>> written;

  void stage(const persist_batch& b) {
    pending.push_back(b);
    bool dropped = false;
    if (!b.snapshot.empty()) {
      auto li = b.snapshot.front().last_included;
      if (staged.term_at(li.index) == li.term && li.term != term_t{}) {
        staged.log.erase(staged.log.begin(),
                         staged.log.begin()
                           + static_cast<std::ptrdiff_t>(
                             distance(staged.base.index, li.index)));
      } else {
        staged.log.clear();
        dropped = true;
      }
      staged.base = li;
      staged.snapshot = b.snapshot.front().data;
    }
    pending_dropped_log.push_back(dropped);
    if (b.truncate_from != index_t{} && b.truncate_from <= staged.last())
      staged.log.resize(distance(staged.base.index, b.truncate_from.prev()));
    for (auto& e : b.entries) {
      staged.log.push_back(e);
      written[e.index.value].push_back(e);
    }
    staged.hard = b.hard_state;
  }

  void acknowledge() {
    acked = staged;
    pending.clear();
    pending_dropped_log.clear();
  }

  /// Checks a recovered state; returns "" or what is wrong.
  std::string check(const stored_state& st) const {
    std::ostringstream err;
    // Hard state: the acked one or one written after it.
    bool hard_ok = st.hard == acked.hard;
    for (auto& b : pending)
      hard_ok = hard_ok || st.hard == b.hard_state;
    if (!hard_ok)
      err << "hard state term " << st.hard.current_term << " vote "
          << st.hard.voted_for << " was never written after the last ack; ";
    // Base and snapshot: the acked pair or the pair of an install in flight.
    // `upto`: how many pending batches the recovered base reflects.
    std::size_t upto = 0;
    bool pair_ok = st.base == acked.base && st.snapshot == acked.snapshot;
    for (std::size_t k = 0; k < pending.size() && !pair_ok; ++k)
      if (!pending[k].snapshot.empty()
          && pending[k].snapshot.front().last_included == st.base
          && pending[k].snapshot.front().data == st.snapshot) {
        pair_ok = true;
        upto = k + 1;
      }
    if (!pair_ok) {
      err << "base " << st.base.index << "/" << st.base.term << " with a "
          << st.snapshot.size()
          << "-byte snapshot is not an acknowledged or in-flight install; ";
      return err.str();
    }
    // The last install up to `upto` that dropped the log, if any.
    std::size_t dropped_at = 0; // 1 + its position; 0: none
    for (std::size_t k = 0; k < upto; ++k)
      if (pending_dropped_log[k])
        dropped_at = k + 1;
    // Acked entries after the base, below the lowest in-flight cut, must
    // all be there -- unless an install in flight dropped the log.
    if (dropped_at == 0) {
      auto keep = acked.last();
      for (auto& b : pending)
        if (b.truncate_from != index_t{})
          keep = std::min(keep, b.truncate_from.prev());
      for (auto i = st.base.index.next(); i <= keep; i = i.next()) {
        auto k = distance(st.base.index, i) - 1;
        auto want = acked.log[distance(acked.base.index, i) - 1];
        if (k >= st.entries.size() || st.entries[k] != want) {
          err << "acknowledged entry " << i << " lost or changed; ";
          break;
        }
      }
    }
    // Everything present was written, at consecutive indexes after the
    // base; after a dropping install, by that batch or a later one.
    for (std::size_t k = 0; k < st.entries.size(); ++k) {
      auto& e = st.entries[k];
      auto i = st.base.index.value + 1 + k;
      auto w = written.find(i);
      bool ok = e.index.value == i && w != written.end()
                && std::find(w->second.begin(), w->second.end(), e)
                     != w->second.end();
      if (ok && dropped_at > 0) {
        ok = false;
        for (auto b = dropped_at - 1; b < pending.size() && !ok; ++b)
          ok = std::find(pending[b].entries.begin(), pending[b].entries.end(),
                         e)
               != pending[b].entries.end();
      }
      if (!ok) {
        err << "entry at index " << i
            << " was never written (or survived the install that dropped "
               "the log); ";
        break;
      }
    }
    return err.str();
  }

  /// After recovery, the recovered state is what is durable now.
  void reset_to(const stored_state& st) {
    acked.hard = st.hard;
    acked.base = st.base;
    acked.snapshot = st.snapshot;
    acked.log = st.entries;
    staged = acked;
    pending.clear();
    pending_dropped_log.clear();
  }
};

/// What the runs exercised (so the test can show it is not vacuous).
struct coverage {
  std::uint64_t reopens = 0;
  std::uint64_t installs_kept = 0;
  std::uint64_t installs_dropped = 0;
  std::uint64_t recovered_with_snapshot = 0;
  std::uint64_t recovered_in_flight_install = 0;
  std::uint64_t stale_logs_dropped = 0;
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
    cov.recovered_with_snapshot += st.base.index != index_t{} ? 1 : 0;
    cov.recovered_in_flight_install += st.base != o.acked.base ? 1 : 0;
    cov.stale_logs_dropped += s->recovery().dropped_stale_log ? 1 : 0;
    cov.torn_tails += s->recovery().dropped_torn_tail ? 1 : 0;
    cov.segments = std::max<std::uint64_t>(cov.segments,
                                           s->recovery().segments);
    cov.lost_unacked += st.entries != o.staged.log ? 1 : 0;
    if (auto err = o.check(st); !err.empty())
      return std::string{"step "} + std::to_string(step) + " after " + why
             + ": " + err;
    o.reset_to(st);
    return {};
  };
  for (int step = 0; step < ops; ++step) {
    auto r = pick(0, 99);
    auto last = o.staged.last().value;
    auto base = o.staged.base.index.value;
    if (r < 32) { // append
      log_entries es;
      for (auto i = last + 1; i < last + 1 + pick(1, 4); ++i)
        es.push_back(entry(i, term, "e" + std::to_string(++serial)));
      auto b = batch(hard_state{term_t{term}, o.staged.hard.voted_for}, es,
                     es.back().index.value);
      s->write(b);
      o.stage(b);
    } else if (r < 40) { // truncate (a new leader overwrote a suffix)
      ++term;
      auto from = pick(base + 1, last + 1);
      log_entries es;
      for (auto i = from; i < from + pick(0, 3); ++i)
        es.push_back(entry(i, term, "t" + std::to_string(++serial)));
      auto b = batch(hs(term, static_cast<std::uint32_t>(pick(0, 3))), es,
                     es.empty() ? from - 1 : es.back().index.value, from);
      s->write(b);
      o.stage(b);
    } else if (r < 47) { // hard state only
      term += pick(0, 1);
      auto b = batch(hs(term, static_cast<std::uint32_t>(pick(0, 3))), {},
                     last);
      s->write(b);
      o.stage(b);
    } else if (r < 55) { // snapshot install, maybe with entries after it
      snapshot_install snap;
      snap.data = "snap-" + std::to_string(++serial);
      std::uint64_t new_last = 0;
      if (last > base && pick(0, 2) > 0) { // the log holds it: keep suffix
        index_t at{pick(base + 1, last)};
        snap.last_included = log_id{o.staged.term_at(at), at};
        new_last = last;
      } else { // another term (a newer leader's snapshot): drop the log
        ++term;
        snap.last_included = log_id{term_t{term}, index_t{pick(base + 1,
                                                               last + 3)}};
        new_last = snap.last_included.index.value;
      }
      log_entries es;
      for (auto i = new_last + 1; i < new_last + 1 + pick(0, 2); ++i)
        es.push_back(entry(i, term, "s" + std::to_string(++serial)));
      auto b = batch(hs(term, o.staged.hard.voted_for.value), es,
                     es.empty() ? new_last : es.back().index.value);
      b.snapshot.push_back(snap);
      s->write(b);
      o.stage(b);
      (o.pending_dropped_log.back() ? cov.installs_dropped
                                    : cov.installs_kept) += 1;
    } else if (r < 80) { // sync
      s->sync();
      o.acknowledge();
      auto now = s->load();
      if (now.entries != o.staged.log || now.hard != o.staged.hard
          || now.base != o.staged.base || now.snapshot != o.staged.snapshot)
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
      auto acked = o.acked;
      if (auto err = reopen("process crash", step); !err.empty())
        return err;
      auto now = s->load();
      if (now.entries != acked.log || now.base != acked.base
          || now.snapshot != acked.snapshot)
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
  INFO("installs keeping the suffix " << cov.installs_kept
       << ", dropping the log " << cov.installs_dropped
       << ", reopens with a snapshot " << cov.recovered_with_snapshot
       << ", with an in-flight install " << cov.recovered_in_flight_install
       << ", stale logs dropped " << cov.stale_logs_dropped);
  INFO("reopens " << cov.reopens << ", torn tails dropped " << cov.torn_tails
                  << ", syncs cut by power loss " << cov.failed_syncs
                  << ", reopens that lost unacknowledged writes "
                  << cov.lost_unacked << ", most segments " << cov.segments);
  if (!run.seed) {
    CHECK(cov.torn_tails > 0);
    CHECK(cov.failed_syncs > 0);
    CHECK(cov.lost_unacked > 0);
    CHECK(cov.segments > 3);
    CHECK(cov.installs_kept > 0);
    CHECK(cov.installs_dropped > 0);
    CHECK(cov.recovered_with_snapshot > 0);
    CHECK(cov.recovered_in_flight_install > 0);
  }
}
