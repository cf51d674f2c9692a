#include "tests/kit/linearizability/search.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <utility>

#include "tests/kit/linearizability/reads.hpp"

namespace raft::testing::lin::detail {

std::int64_t effective_ret(const operation& op) {
  return op.out.unknown ? never_returned : op.ret;
}

namespace {

using clock_type = std::chrono::steady_clock;

/// A well-mixed 64-bit value for `x` (splitmix64's finalizer).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t hash_state(const kv_state& s) {
  return s ? mix(std::hash<std::string>{}(*s)) : 0x5bd1e9955bd1e995ULL;
}

/// The memo of Lowe's search: every (set of linearized operations, model
/// state) pair the search has entered. The hash of a set is the XOR of a
/// per-operation random word (Zobrist hashing), kept up to date by the
/// caller in O(1) per step; a hit is confirmed by comparing the full set.
class memo {
public:
  /// Whether (bits, state) was entered before; if not, remembers it.
  bool insert(std::uint64_t hash, const std::vector<std::uint64_t>& bits,
              const kv_state& state) {
    auto [it, added] = heads_.try_emplace(hash, entries_.size());
    if (!added) {
      for (auto i = it->second; i != none; i = entries_[i].next)
        if (entries_[i].state == state && entries_[i].bits == bits)
          return false;
      entries_.push_back({bits, state, it->second});
      it->second = entries_.size() - 1;
      return true;
    }
    entries_.push_back({bits, state, none});
    return true;
  }

private:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  struct entry {
    std::vector<std::uint64_t> bits;
    kv_state state;
    /// The next entry with the same hash, or none.
    std::size_t next;
  };

  /// Hash -> the latest entry with that hash (collisions are rare).
  std::unordered_map<std::uint64_t, std::size_t> heads_;
  /// Every entered pair, in order of entry.
  std::vector<entry> entries_;
};

/// One event of a key's history: the call or the return of an operation,
/// linked into the list of events not yet lifted.
struct event {
  /// The operation, as an index into partition::ops.
  std::size_t op = 0;
  /// Call or return.
  bool is_call = false;
  /// The event's time (an unknown outcome returns at never_returned).
  std::int64_t time = 0;
  /// The other event of the same operation (a call's return, a return's
  /// call).
  int match = -1;
  /// Rank in the sorted event order (never changes; compares positions).
  int pos = 0;
  /// Neighbours in the list (-1: none); event 0 is the head sentinel.
  int prev = -1;
  int next = -1;
};

/// The search over one key's operations (see checker.hpp).
///
/// A configuration is the list of events not yet lifted plus the model
/// state. Its candidates -- the operations that may be linearized next --
/// are those called before the first return in the list. We try them in
/// order of return (earliest first), not of call: the operation whose
/// return comes first has to be linearized before it anyway, and in a real
/// service an operation takes effect shortly before its reply, so this
/// order mostly guesses right and a linearizable history needs little
/// backtracking (Lowe's "just in time" idea, in Wing & Gong's search).
class key_search {
public:
  key_search(const std::vector<operation>& history, const partition& part)
    : history_(history), part_(part), reads_(history, part.ops) {
    auto n = part.ops.size();
    events_.resize(2 * n + 1);
    std::vector<int> order(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& op = history[part.ops[i]];
      auto c = static_cast<int>(2 * i + 1);
      auto r = c + 1;
      events_[c].op = events_[r].op = i;
      events_[c].is_call = true;
      events_[c].time = op.call;
      events_[r].time = effective_ret(op);
      events_[c].match = r;
      events_[r].match = c;
      order[2 * i] = c;
      order[2 * i + 1] = r;
    }
    // By time; calls before returns at equal times; then by operation.
    std::sort(order.begin(), order.end(), [this](int a, int b) {
      const auto& x = events_[a];
      const auto& y = events_[b];
      if (x.time != y.time)
        return x.time < y.time;
      if (x.is_call != y.is_call)
        return x.is_call;
      return x.op < y.op;
    });
    int prev = 0;
    for (std::size_t k = 0; k < order.size(); ++k) {
      auto i = order[k];
      events_[i].pos = static_cast<int>(k + 1);
      events_[prev].next = i;
      events_[i].prev = prev;
      prev = i;
    }
    zobrist_.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      zobrist_[i] = mix(i * 0x2545f4914f6cdd1dULL + 1);
    bits_.assign((n + 63) / 64, 0);
    read_only_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& op = history[part.ops[i]];
      read_only_[i] = !op.out.unknown
                      && (op.in.op == kv_input::kind::get
                          || (op.in.op == kv_input::kind::cas && !op.out.ok));
      if (!op.out.unknown && op.in.op == kv_input::kind::get)
        gets_by_call_.push_back(static_cast<int>(2 * i + 1));
    }
    std::sort(gets_by_call_.begin(), gets_by_call_.end(),
              [this](int a, int b) { return events_[a].pos < events_[b].pos; });
  }

  /// Runs the search; `deadline` == time_point::max() means no limit.
  key_result run(clock_type::time_point deadline) {
    key_result result;
    result.key = part_.key;
    result.operations = part_.ops.size();
    bool recorded = false;
    std::uint64_t iterations = 0;
    // The current configuration: state_, hash_, the list, and cur_, the
    // walk over its candidates. fresh: cur_ not yet set up.
    bool fresh = true;
    while (events_[0].next != -1) {
      if ((++iterations & 1023) == 0 && deadline != clock_type::time_point::max()
          && clock_type::now() > deadline) {
        result.v = verdict::unknown;
        return result;
      }
      if (fresh) {
        fresh = false;
        auto [r, dead] = start_configuration();
        if (dead == -1)
          dead = reads_.unreachable(state_);
        if (dead == -1 && r == -1)
          dead = next_get_unreachable();
        if (dead != -1) {
          // A read whose value the remaining operations cannot produce: no
          // completion of this configuration exists.
          if (!recorded || stack_.size() > result.prefix.size()) {
            recorded = true;
            record_stuck(result, dead);
          }
          if (!backtrack()) {
            result.v = verdict::illegal;
            return result;
          }
          continue;
        }
        if (r != -1) {
          // A read that is legal now goes first, and alone: if any order of
          // the remaining operations works, one with this read moved to the
          // front works too (it changes no state, and nothing pending
          // returned before its call, or it would not be a candidate).
          if (push(r, state_, true)) {
            fresh = true;
          } else if (!backtrack()) { // explored before, without success
            result.v = verdict::illegal;
            return result;
          }
          continue;
        }
      }
      if (cur_.seen == cur_.count) {
        // Every candidate failed. The deepest such point (the first in
        // search order) is the one we report.
        if (!recorded || stack_.size() > result.prefix.size()) {
          recorded = true;
          record_stuck(result, -1);
        }
        if (!backtrack()) {
          result.v = verdict::illegal;
          return result;
        }
        continue;
      }
      auto c = events_[cur_.ret].match;
      ++cur_.seen;
      const auto& op = history_[part_.ops[events_[c].op]];
      kv_state next;
      if (!read_only_[events_[c].op] && kv_step(state_, op.in, op.out, next)
          && push(c, std::move(next), false)) {
        fresh = true;
        continue;
      }
      advance();
    }
    result.v = verdict::ok;
    result.prefix.clear();
    result.stuck.clear();
    result.stuck_operations.clear();
    result.state.reset();
    return result;
  }

private:
  /// Where the search stands among a configuration's candidates.
  struct cursor {
    /// The first return event in the list: candidates are called before it.
    int first_ret = -1;
    /// Number of candidates.
    int count = 0;
    /// Candidates tried so far. Invariant: 0 <= seen <= count.
    int seen = 0;
    /// When seen < count: the return event of the next candidate to try.
    int ret = -1;
  };

  /// One linearized operation.
  struct frame {
    /// Its call event.
    int call;
    /// The state before it (empty for a read: it changed nothing).
    kv_state state;
    /// A read taken alone (no sibling needs trying when it fails).
    bool read;
    /// The walk over the candidates of the configuration before it.
    cursor at;
  };

  /// Sets cur_ up for a new configuration. Returns the call event of a
  /// read-only candidate that is legal in state_ (or -1) and a candidate get
  /// that can never become legal (an operation, or -1; see reads.hpp).
  /// Read-only: a get, or a cas known to have failed -- legal only in states
  /// it leaves unchanged.
  std::pair<int, int> start_configuration() {
    cur_ = cursor{};
    int read = -1;
    int dead = -1;
    int i = events_[0].next;
    for (; events_[i].is_call; i = events_[i].next) {
      ++cur_.count;
      auto op = events_[i].op;
      if (read == -1 && read_only_[op]) {
        const auto& o = history_[part_.ops[op]];
        kv_state unused;
        if (kv_step(state_, o.in, o.out, unused))
          read = i;
        else if (dead == -1 && o.in.op == kv_input::kind::get
                 && !reads_.reachable(op, state_))
          dead = static_cast<int>(op);
      }
    }
    cur_.first_ret = cur_.ret = i;
    return {read, dead};
  }

  /// The get called next after the candidates (the first get whose call
  /// comes after cur_.first_ret), if it can never become legal from state_
  /// (read_tracker::reachable); else -1.
  ///
  /// Why check it although it is no candidate: every operation not yet
  /// linearized has to be linearized later, in a state the remaining
  /// operations lead to, so one that can never become legal makes the
  /// configuration a dead end whether it is a candidate or not. The
  /// candidate gets alone are not enough: when the gets come only after a
  /// burst of concurrent appends (the kvraft tests' "one key" shape),
  /// none is a candidate while the appends are placed, a wrong order of
  /// them is only refuted when the last one is placed, and the search
  /// tries nearly every order (52 operations took over a second). The get
  /// called next is the one a wrong order of the current candidates
  /// contradicts first; checking only it keeps the cost at one check per
  /// configuration.
  ///
  /// It is not linearized: an operation linearized earlier was a candidate
  /// then, so it was called before the first return of that configuration,
  /// and the first return only moves later as operations are lifted.
  int next_get_unreachable() {
    auto limit = events_[cur_.first_ret].pos;
    auto it = std::upper_bound(
      gets_by_call_.begin(), gets_by_call_.end(), limit,
      [this](int pos, int c) { return pos < events_[c].pos; });
    if (it == gets_by_call_.end())
      return -1;
    auto op = events_[*it].op;
    if (reads_.reachable(op, state_))
      return -1;
    return static_cast<int>(op);
  }

  /// Moves cur_.ret to the return of the next candidate (if any is left).
  void advance() {
    if (cur_.seen == cur_.count)
      return;
    auto limit = events_[cur_.first_ret].pos;
    do {
      cur_.ret = events_[cur_.ret].next;
    } while (events_[cur_.ret].is_call
             || events_[events_[cur_.ret].match].pos > limit);
  }

  /// Linearizes call event `c`, reaching `next`, unless that
  /// configuration was explored before (then returns false).
  bool push(int c, kv_state next, bool read) {
    auto op = events_[c].op;
    flip(op);
    if (!memo_.insert(hash_ ^ hash_state(next), bits_, next)) {
      flip(op);
      return false;
    }
    stack_.push_back({c, read ? kv_state{} : std::move(state_), read, cur_});
    if (!read)
      state_ = std::move(next);
    lift(c);
    reads_.on_linearized(op);
    return true;
  }

  /// Undoes linearized operations up to and including the last one that
  /// has untried siblings and moves on to its next sibling. False when
  /// nothing is left to undo.
  bool backtrack() {
    while (!stack_.empty()) {
      auto top = std::move(stack_.back());
      stack_.pop_back();
      flip(events_[top.call].op);
      unlift(top.call);
      reads_.on_undone(events_[top.call].op);
      if (!top.read) {
        state_ = std::move(top.state);
        cur_ = top.at;
        advance();
        return true;
      }
    }
    return false;
  }

  /// Toggles operation `op` in the linearized set and its hash.
  void flip(std::size_t op) {
    bits_[op / 64] ^= std::uint64_t{1} << (op % 64);
    hash_ ^= zobrist_[op];
  }

  /// Unlinks call event `c` and its return.
  void lift(int c) {
    for (int i : {c, events_[c].match}) {
      auto& e = events_[i];
      events_[e.prev].next = e.next;
      if (e.next != -1)
        events_[e.next].prev = e.prev;
    }
  }

  /// Relinks call event `c` and its return (inverse of lift; lifts and
  /// unlifts nest like a stack, so the neighbours are still valid).
  void unlift(int c) {
    for (int i : {events_[c].match, c}) {
      auto& e = events_[i];
      events_[e.prev].next = i;
      if (e.next != -1)
        events_[e.next].prev = i;
    }
  }

  /// Fills the illegal-only fields of `result` for the current
  /// configuration: its candidates all failed (dead == -1), or the read
  /// `dead` (an operation) became unreachable.
  void record_stuck(key_result& result, int dead) {
    result.prefix.clear();
    for (const auto& f : stack_)
      result.prefix.push_back(part_.ops[events_[f.call].op]);
    result.stuck.clear();
    result.stuck_operations.clear();
    auto add = [&](std::size_t op) {
      auto id = part_.ops[op];
      result.stuck.push_back(id);
      result.stuck_operations.push_back(history_[id]);
    };
    result.unreachable = dead != -1;
    if (dead != -1)
      add(static_cast<std::size_t>(dead));
    else
      for (int i = events_[0].next; i != cur_.first_ret; i = events_[i].next)
        add(events_[i].op);
    result.stuck_at = dead != -1 ? effective_ret(history_[part_.ops[dead]])
                                 : events_[cur_.first_ret].time;
    result.state = state_;
  }

  const std::vector<operation>& history_;
  const partition& part_;
  /// Event 0 is the head; 2i+1 / 2i+2 are operation i's call / return.
  std::vector<event> events_;
  /// A random word per operation (Zobrist hashing of the linearized set).
  std::vector<std::uint64_t> zobrist_;
  /// Per operation: a get, or a cas known to have failed.
  std::vector<bool> read_only_;
  /// The call events of the gets (known output), in event order.
  std::vector<int> gets_by_call_;
  /// The linearized set, one bit per operation, and its Zobrist hash.
  std::vector<std::uint64_t> bits_;
  std::uint64_t hash_ = 0;
  /// The model state after the linearized operations.
  kv_state state_;
  /// The walk over the current configuration's candidates.
  cursor cur_;
  /// The linearized operations, in order.
  std::vector<frame> stack_;
  memo memo_;
  /// Prunes at gets that can never become legal (reads.hpp).
  read_tracker reads_;
};

} // namespace

key_result search_key(const std::vector<operation>& history,
                      const partition& part,
                      std::chrono::steady_clock::time_point deadline) {
  key_search search{history, part};
  return search.run(deadline);
}

} // namespace raft::testing::lin::detail
