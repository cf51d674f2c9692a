// A deterministic in-memory Raft cluster of core::node (docs/architecture.md
// §8.2):
// a seeded network (sim_network.hpp), a fake persister per server that
// acknowledges batches after a random delay and can lose unacknowledged
// writes in a crash, and checks after EVERY input:
// - core::check and core::check_transition on the node that took the input;
// - the durability rule on every message that leaves it (a vote grant, a
//   RequestVote or an append ack only for state its persister holds);
// - cluster safety (safety_checker): at most one leader per term, Leader
//   Completeness, State Machine Safety, and -- every few hundred inputs and
//   at the end -- Log Matching across all live servers;
// - the replicated state machine (a digest of the applied prefix): every
//   server reaches the same digest at each index, and every snapshot it
//   installs (InstallSnapshot, §7) or restarts from carries the digest of
//   the prefix it covers;
// - linearizable reads (ReadIndex, thesis §6.4): a read ends at most once;
//   a confirmed read's index is at or above every index any server knew
//   committed when the read was issued, and the state machine already has
//   it.
//
// With snapshot_every > 0 each server hands its node a snapshot of its
// state machine every snapshot_every applied entries (6.5840 Snapshot()), so
// lagging and restarted servers catch up through InstallSnapshot.
//
// Time is logical milliseconds; every server ticks every tick_ms. The first
// violation stops the run; report() names the seed and how to replay it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/core/invariants.hpp"
#include "actors/core/node.hpp"
#include "tests/core/sim/sim_network.hpp"

namespace raft::sim {

// -- cluster-wide safety ------------------------------------------------------

/// The Raft safety properties of Figure 3 that need more than one server.
/// Feed it what the servers do; it collects one string per violation.
class safety_checker {
public:
  /// Election Safety (§5.2): `id` is leader of `term`.
  void on_leader(server_id id, term_t term);

  /// `id`, while in term `observer_term`, knows that `e` is committed (its
  /// commit index covers it, or it applies it). State Machine Safety: no two
  /// servers ever consider different entries committed at one index.
  void on_committed(server_id id, term_t observer_term, const log_entry& e);

  /// Leader Completeness (§5.4): `id` just became leader of `term`; its log
  /// must hold every entry known to be committed in an earlier term.
  void on_elected(server_id id, term_t term, const core::raft_log& log);

  /// Log Matching (§5.3): if two logs hold an entry with the same index and
  /// term, they are identical up to that index.
  void check_log_matching(
    const std::vector<std::pair<server_id, const core::raft_log*>>& logs);

  bool ok() const { return violations_.empty(); }
  const std::vector<std::string>& violations() const { return violations_; }

  /// Highest index known committed (0 if none).
  index_t last_committed() const {
    return committed_.empty() ? index_t{} : committed_.rbegin()->first;
  }

  /// The entry known committed at `i`, if any.
  const log_entry* committed_at(index_t i) const {
    auto it = committed_.find(i);
    return it == committed_.end() ? nullptr : &it->second.entry;
  }

  std::size_t leaders_seen() const { return leaders_.size(); }

private:
  struct known {
    log_entry entry;
    /// Lowest term in which some server knew this entry committed: it was
    /// committed in this term or earlier.
    term_t known_in;
    server_id first_by;
  };
  std::map<term_t, server_id> leaders_;
  std::map<index_t, known> committed_;
  std::vector<std::string> violations_;
};

// -- the cluster --------------------------------------------------------------

struct cluster_options {
  std::uint32_t servers = 3;
  std::uint64_t seed = 1;
  /// Node tuning; id, members and rng_seed are filled in per server.
  core::config node;
  /// Logical milliseconds between two ticks of one server.
  std::int64_t tick_ms = 10;
  /// Persist acknowledgement delay, uniform in [min, max] ms.
  std::int64_t min_persist_delay = 0;
  std::int64_t max_persist_delay = 10;
  /// Chance per crash, per mille, that some written but unacknowledged
  /// batches survive (the rest of the time only acknowledged ones do).
  int keep_unacked_per_mille = 300;
  /// Applied entries between two service snapshots of one server (0: the
  /// servers never snapshot).
  std::uint64_t snapshot_every = 0;
  /// Filler bytes appended to each snapshot (so it spans several chunks of
  /// a small node.snapshot_chunk_bytes).
  std::size_t snapshot_padding = 0;
  /// Inputs between two full Log Matching checks.
  std::uint64_t log_matching_every = 256;
  /// Keep a transcript of the last `trace_lines` events for report().
  bool trace = false;
  std::size_t trace_lines = 80;
};

/// What happened during a run (to check that faults really were injected).
struct cluster_stats {
  std::uint64_t inputs = 0;
  std::uint64_t crashes = 0;
  std::uint64_t restarts = 0;
  std::uint64_t lost_writes = 0;   ///< unacknowledged batches lost in crashes
  std::uint64_t truncations = 0;   ///< batches that cut a log suffix
  std::uint64_t elections_won = 0;
  std::uint64_t proposals_accepted = 0;
  std::uint64_t snapshots_taken = 0;     ///< service snapshots accepted
  std::uint64_t snapshot_chunks = 0;     ///< InstallSnapshot messages sent
  std::uint64_t snapshots_installed = 0; ///< snapshots applied (not restarts)
  std::uint64_t reads_issued = 0;
  std::uint64_t reads_ready = 0;  ///< confirmed (thesis §6.4)
  std::uint64_t reads_failed = 0; ///< not leader, deposed or timed out
  term_t max_term;
};

class cluster {
public:
  explicit cluster(cluster_options opts);

  // -- time ------------------------------------------------------------------

  std::int64_t now() const { return now_; }

  /// Processes every event up to now() + ms (stops early on a violation).
  void run_for(std::int64_t ms);

  /// Runs until `done()` holds (checked after every event) or `max_ms`
  /// passed; returns whether it holds.
  bool run_until(const std::function<bool()>& done, std::int64_t max_ms);

  // -- faults ----------------------------------------------------------------

  network& net() { return net_; }

  /// Stops server `id`. Writes handed to its persister but not yet
  /// acknowledged are lost -- except, with keep_unacked_per_mille, a random
  /// prefix of them (written to disk, but the acknowledgement never reached
  /// the node).
  void crash(server_id id);

  /// Starts server `id` again from exactly what its persister holds.
  void restart(server_id id);

  bool is_up(server_id id) const;

  // -- clients ---------------------------------------------------------------

  /// 6.5840 Start() on server `id` (nothing if it is down).
  std::optional<propose_result> propose(server_id id, std::string cmd);

  /// A linearizable read (thesis §6.4) on server `id`; its id, or nothing
  /// if the server is down. A crash ends the server's open reads silently.
  std::optional<std::uint64_t> read(server_id id);

  /// A violation for every read still open on a live server (call once
  /// every server had time to confirm or fail its reads).
  void check_reads_ended();

  /// The live leader with the highest term, if any.
  std::optional<server_id> leader() const;

  // -- observation -----------------------------------------------------------

  /// The node, or nullptr while it is down.
  const core::node* get(server_id id) const;

  const std::vector<server_id>& ids() const { return ids_; }
  const safety_checker& safety() const { return safety_; }
  const cluster_stats& stats() const { return stats_; }

  /// Runs the Log Matching check over all live servers now.
  void check_log_matching();

  /// Records a violation found by the scenario itself (e.g. liveness).
  void fail(const std::string& what);

  bool ok() const { return violations_.empty(); }

  /// Every violation with the time it was found, then the trace (if on).
  std::string report() const;

  /// A digest of every event so far: equal digests, equal runs.
  std::uint64_t digest() const { return digest_; }

private:
  struct storage {
    /// Durable: what survives a crash.
    hard_state hard;
    /// Snapshot point and bytes; `log` holds the entries after base.
    log_id base;
    std::string snapshot;
    log_entries log;
    /// The stored entry at `i`, or nullptr (compacted or beyond the log).
    const log_entry* at(index_t i) const;
    log_id last() const;
    /// Batches handed to the persister and not yet acknowledged.
    std::deque<persist_batch> pending;
    /// When the last pending batch will be acknowledged.
    std::int64_t last_ack_at = 0;
    /// The staging area of a snapshot being received (not durable: a
    /// crash empties it).
    log_id staging_id;
    std::string staging;
  };

  struct member {
    server_id id;
    std::optional<core::node> node;
    storage disk;
    /// Bumped at every restart; events of an old incarnation are ignored.
    std::uint64_t incarnation = 0;
    /// Last index handed to this incarnation's state machine.
    index_t applied;
    /// Digest of that state machine (of the applied prefix).
    std::uint64_t machine = 0;
    /// The restored snapshot this incarnation's state machine still
    /// expects first (0: none): any other snapshot applied is an install.
    index_t restored_from;
    /// Reads issued to this incarnation and not ended: id -> the highest
    /// index any server knew committed when the read was issued.
    std::map<std::uint64_t, index_t> reads;
  };

  enum class event_kind : std::uint8_t { tick, ack };

  struct event {
    event_kind kind;
    server_id id;
    std::uint64_t incarnation;
  };

  member& at(server_id id);
  const member& at(server_id id) const;
  core::config config_for(const member& m) const;
  void schedule(std::int64_t when, event e);
  /// Processes the next event if it is due by `limit`; false if none is.
  bool step_once(std::int64_t limit);
  void process(const event& e);
  void deliver(const envelope& env);

  /// Runs `input` on `m`'s node, then drains and checks its output.
  void with_node(member& m, const std::string& what,
                 const std::function<void(core::node&)>& input);
  void drain(member& m, const core::observed_state& before);
  void check_durable(const member& m, const envelope& env);
  /// Applies one batch to durable storage; a violation if it does not fit.
  void make_durable(member& m, const persist_batch& b);

  /// The state machine of `m` takes one entry or a snapshot.
  void apply_entry(member& m, const log_entry& e);
  void apply_snapshot(member& m, const apply_msg& a);
  /// snapshot_every: hands the node a snapshot if one is due.
  void maybe_snapshot(member& m);
  /// Checks and closes the reads that ended in `out`.
  void end_reads(member& m, const core::output& out);

  void report_safety();
  void trace(const std::string& line);
  void mix(std::uint64_t x);

  cluster_options opts_;
  std::vector<server_id> ids_;
  std::map<server_id, member> members_;
  network net_;
  rng rng_;
  safety_checker safety_;
  std::int64_t now_ = 0;
  std::map<std::pair<std::int64_t, std::uint64_t>, event> events_;
  std::uint64_t event_seq_ = 0;
  std::vector<std::string> violations_;
  std::deque<std::string> trace_;
  cluster_stats stats_;
  std::uint64_t digest_ = 1469598103934665603ULL;
  std::uint64_t since_log_matching_ = 0;
  std::uint64_t next_read_ = 0;
  std::size_t safety_reported_ = 0;
  /// State machine digest of the applied prefix ending at each index, as
  /// the first server to reach it computed it.
  std::map<index_t, std::uint64_t> machine_at_;
};

// -- randomized scenarios -----------------------------------------------------

struct scenario {
  const char* name = "scenario";
  std::uint32_t servers = 3;
  /// Simulated duration of the fault phase, ms.
  std::int64_t duration_ms = 3000;
  /// Chance per client step (every 5..30 ms) of a fault, per mille.
  int fault_per_mille = 80;
  bool partitions = true;
  bool crashes = true;
  /// Toggle a lossy, reordering, duplicating network on and off.
  bool unreliable = false;
  /// Isolate the current leader as a preferred fault (leader churn).
  bool target_leader = false;
  /// Chance, per command accepted by a leader, of crashing that leader
  /// 0..max_persist_delay ms later -- while its write may still be in
  /// flight -- per mille.
  int crash_after_propose_per_mille = 0;
  /// Persist delays are drawn per run from [0, max_persist_delay] ms:
  /// longer delays widen the window in which a crash loses acknowledged-by-
  /// nobody writes.
  std::int64_t max_persist_delay = 20;
  /// Client steps are every [min_gap, max_gap] ms.
  std::int64_t min_gap = 5;
  std::int64_t max_gap = 30;
  /// Chance per run that the normal network reorders (long delays), per
  /// mille.
  int reorder_per_mille = 0;
  /// Servers snapshot every this many applied entries (0: never), with
  /// chunks of 1..max_chunk bytes and 0..max_padding filler bytes.
  std::uint64_t snapshot_every = 0;
  std::size_t max_chunk = 64;
  std::size_t max_padding = 200;
  /// Time allowed after healing for a command to commit everywhere, ms.
  std::int64_t recovery_ms = 20000;
  /// Chance per client step of a linearizable read (thesis §6.4) as well,
  /// per mille (0: no reads; the random draws of a run stay as without).
  int read_per_mille = 0;
};

struct scenario_result {
  bool ok = true;
  std::string report;
  cluster_stats stats;
  network::counters net;
  std::uint64_t digest = 0;
  index_t committed;
};

/// Runs `sc` with `seed`: random proposals and faults, then heal everything
/// and require that a new command commits and is applied on every server.
scenario_result run_scenario(const scenario& sc, std::uint64_t seed,
                             bool trace = false);

} // namespace raft::sim
