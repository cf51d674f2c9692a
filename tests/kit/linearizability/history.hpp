// raft::testing::lin -- histories of key/value operations for the
// linearizability checker (checker.hpp): what a client asked (kv_input), what
// it learned (kv_output), when (operation), a thread-safe recorder, and the
// sequential KV model the checker linearizes against.
//
// Time: every time is a signed count of nanoseconds on one clock chosen by
// the caller -- real monotonic time in real-time tests, virtual time in
// simulated ones. The checker only compares times; it never reads a clock.
//
// The KV model (our service: get / put / append / delete / compare-and-set).
// Each key is independent (a history is linearizable iff each key's
// sub-history is, Herlihy & Wing 1990, locality), and a key's state is
// `kv_state` = std::optional<std::string>, absent initially:
//   get     legal iff out.found == state.has_value() and, when found,
//           out.value == *state; state unchanged.
//   put     state = in.value; any output is legal.
//   append  state = state.value_or("") + in.value; any output is legal.
//   del     state = nullopt; any output is legal (out.ok need not say
//           whether the key existed).
//   cas     if state && *state == in.expected: state = in.value and out.ok
//           must be true; else out.ok must be false and state is unchanged.
//
// Unknown outcomes (out.unknown: the client never learned the outcome, e.g.
// it timed out or the server crashed). Such an operation may have taken
// effect at any instant after its call, or never:
//   * A write (put, append, del, cas) is given an infinite return time and
//     any output is legal for it. An infinite return time lets the checker
//     place it anywhere after its call. "Never" needs no extra case: the
//     checker may place it after every other operation, where no operation
//     observes its effect -- exactly as if it never happened. (This is what
//     porcupine does for Lab 3's timed-out calls.)
//   * A get constrains nothing (it observed nothing and changed nothing):
//     the checker drops it.
// An operation that definitely did not take effect (e.g. rejected as "not
// the leader") should not be in the history at all: see
// history_recorder::discard.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace raft::testing::lin {

/// The return time of an operation whose outcome is unknown: later than any
/// real time.
constexpr std::int64_t never_returned = std::numeric_limits<std::int64_t>::max();

/// What a client asked the service.
struct kv_input {
  enum class kind { get, put, append, del, cas };

  /// The operation.
  kind op = kind::get;
  /// The key it reads or writes; the checker partitions histories by key.
  std::string key;
  /// put: the new value; append: the suffix; cas: the new value when the
  /// comparison succeeds; unused by get and del.
  std::string value;
  /// cas only: the value the key must hold for the swap to happen.
  std::string expected;
};

/// What the client learned.
struct kv_output {
  /// cas: whether the swap happened. Ignored for the other kinds.
  bool ok = true;
  /// get: whether the key existed. Ignored for the other kinds.
  bool found = false;
  /// get: the value read (meaningful only when found).
  std::string value;
  /// The client never learned the outcome (timeout, crash): the operation
  /// may have taken effect at any time after its call, or never. When set,
  /// the other fields are ignored.
  bool unknown = false;
};

/// One client operation of a history.
struct operation {
  /// Who issued it. Operations of one client normally do not overlap, but
  /// the checker does not rely on it.
  int client = 0;
  /// What was asked.
  kv_input in;
  /// What was learned.
  kv_output out;
  /// When the client issued it (ns). Invariant: call <= ret.
  std::int64_t call = 0;
  /// When the client got the answer (ns). For an operation with
  /// out.unknown the checker treats it as never_returned whatever it holds;
  /// a recorder stores the time the client gave up (or never_returned when
  /// it never did), which the HTML time line shows.
  std::int64_t ret = 0;
};

// -- building inputs and outputs ---------------------------------------------

kv_input kv_get(std::string key);
kv_input kv_put(std::string key, std::string value);
kv_input kv_append(std::string key, std::string value);
kv_input kv_del(std::string key);
kv_input kv_cas(std::string key, std::string expected, std::string value);

/// A get's output: found with `value`.
kv_output found(std::string value);
/// A get's output: the key did not exist.
kv_output not_found();
/// A write's output; for cas, `ok` says whether it swapped.
kv_output done(bool ok = true);
/// The client never learned the outcome.
kv_output unknown_outcome();

// -- the sequential model ----------------------------------------------------

/// The state of one key: absent (nullopt) or a value.
using kv_state = std::optional<std::string>;

/// One model step: whether `out` is a legal output of `in` applied to
/// `state` (always true when out.unknown), and the next state in `next`
/// (written only when legal). For an unknown-outcome cas the swap happens
/// iff the comparison holds -- the other choice, "never", is covered by the
/// infinite return time (see the file comment).
bool kv_step(const kv_state& state, const kv_input& in, const kv_output& out,
             kv_state& next);

/// The sequential reference KV: applies `in` to `state` and returns the
/// output a correct service gives (used to generate legal histories).
kv_output kv_apply(kv_state& state, const kv_input& in);

// -- printing ----------------------------------------------------------------

/// A C-style quoted string: "a\"b\n" (non-printable bytes as \xNN).
std::string quote(const std::string& s);

/// `put(k,"v")`, `append(k,"x")`, `get(k)`, `del(k)`, `cas(k,"e","v")`.
std::string to_string(const kv_input& in);

/// `get(k) -> "v"`, `get(k) -> none`, `cas(k,"e","v") -> false`,
/// `put(k,"v") -> ?` (unknown outcome); put/append/del show no output.
std::string to_string(const operation& op);

/// "get", "put", "append", "del", "cas".
const char* to_string(kv_input::kind k);

// -- recording ---------------------------------------------------------------

/// Collects a history from concurrent clients. Thread-safe: any thread may
/// call any member at any time. The caller supplies the times (see the file
/// comment).
class history_recorder {
public:
  /// Records the call of an operation and returns its id for end() or
  /// discard(). Ids are 0, 1, 2, ... in order of begin().
  std::size_t begin(int client, kv_input in, std::int64_t now);

  /// Records the outcome of operation `id`, learned at `now`. Throws
  /// std::logic_error for an unknown id, an id already ended or discarded,
  /// or `now` before the call.
  void end(std::size_t id, kv_output out, std::int64_t now);

  /// Operation `id` definitely had no effect (e.g. rejected by a
  /// non-leader): it is left out of the history. Throws like end().
  void discard(std::size_t id);

  /// The history so far, in order of begin(), without discarded operations.
  /// Operations never ended count as unknown outcome (ret = never_returned).
  std::vector<operation> operations() const;

  /// Number of begin() calls so far.
  std::size_t size() const;

private:
  enum class status : unsigned char { pending, ended, discarded };

  /// Operation `id` if it is still pending, else throws (mtx_ held).
  operation& pending_(std::size_t id);

  /// Guards everything below.
  mutable std::mutex mtx_;
  /// Every begun operation, indexed by id.
  std::vector<operation> ops_;
  /// Parallel to ops_.
  std::vector<status> status_;
};

} // namespace raft::testing::lin
