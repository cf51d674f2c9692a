#include "tests/kit/network_actor.hpp"

#include <chrono>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include "messages/raft_messages.hpp"
#include "messages/rpc_handlers.hpp"
#include "messages/type_ids.hpp"

namespace raft::testing {

// -- network_stats ------------------------------------------------------------

network_stats::network_stats(int servers)
  : servers_(servers),
    delivered_(new std::atomic<std::uint64_t>[static_cast<std::size_t>(
      servers)]) {
  for (int i = 0; i < servers; ++i)
    delivered_[static_cast<std::size_t>(i)].store(0);
}

std::uint64_t network_stats::rpc_count(int server) const {
  if (server < 0 || server >= servers_)
    return 0;
  return delivered_[static_cast<std::size_t>(server)].load();
}

std::uint64_t network_stats::rpc_total() const {
  return total_.load();
}

std::uint64_t network_stats::bytes_total() const {
  return bytes_.load();
}

void network_stats::on_request_sent(std::size_t bytes) {
  total_.fetch_add(1);
  bytes_.fetch_add(bytes);
}

void network_stats::on_request_delivered(int server) {
  delivered_[static_cast<std::size_t>(server)].fetch_add(1);
}

void network_stats::on_reply_delivered(std::size_t bytes) {
  bytes_.fetch_add(bytes);
}

std::uint64_t network_stats::serialization_errors() const {
  return serialization_errors_.load();
}

void network_stats::on_serialization_error() {
  serialization_errors_.fetch_add(1);
}

// -- the actor ----------------------------------------------------------------

namespace {

/// One server of the simulated network.
struct server_slot {
  /// The current instance of the server, or invalid while it is crashed (or
  /// before its first start). The only actor whose messages are accepted
  /// as coming from this server, and the only one messages to it reach.
  caf::actor peer;
  /// Bumped at every attach and detach. A message in flight carries the
  /// value its destination had when it was sent; at delivery, a different
  /// value means the destination crashed or restarted meanwhile.
  /// Monotonic.
  std::uint64_t incarnation = 0;
  /// config.go connected[i]. A link i -> j is enabled iff both ends are
  /// connected.
  bool connected = false;
  /// kvraft partition group: links run only inside a group.
  std::int32_t group = 0;
};

struct network_state {
  /// Actor name (CAF uses it in error messages).
  static inline const char* name = "raft.testing.network";
  /// Spawn-time configuration; `reliable` and `long_reordering` change at
  /// run time.
  network_config cfg;
  /// Slot i is server_id i + 1.
  std::vector<server_slot> slots;
  /// The only source of randomness (delays and drops).
  std::mt19937_64 rng;
  /// Scratch buffer for measuring serialized sizes.
  std::vector<char> buf;
};

using network_actor_type = caf::stateful_actor<network_state>;

template <class T>
constexpr bool is_request_v = std::is_same_v<T, request_vote>
                              || std::is_same_v<T, append_entries>
                              || std::is_same_v<T, install_snapshot>;

/// Bytes of `x` in CAF's binary encoding.
template <class T>
std::size_t wire_size(network_actor_type* self, const T& x) {
  auto& buf = self->state.buf;
  buf.clear();
  caf::binary_serializer sink{self->system(), buf};
  // The serializer only reads `x`; inspect() merely takes it by reference.
  if (auto err = sink(const_cast<T&>(x))) {
    self->state.cfg.stats->on_serialization_error();
    return 0;
  }
  return buf.size();
}

/// A uniform draw from [0, n) (Go's rand.Intn(n)).
std::uint64_t draw(network_state& st, std::uint64_t n) {
  return std::uniform_int_distribution<std::uint64_t>{0, n - 1}(st.rng);
}

/// Slot of `id`, or -1 when `id` is no server of this network.
int slot_of(const network_state& st, server_id id) {
  if (id.value < 1 || id.value > st.slots.size())
    return -1;
  return static_cast<int>(id.value - 1);
}

bool enabled(const network_state& st, int from, int to) {
  const auto& a = st.slots[static_cast<std::size_t>(from)];
  const auto& b = st.slots[static_cast<std::size_t>(to)];
  return a.connected && b.connected && a.group == b.group;
}

/// Hands `msg` to the current instance of slot `to_slot`, unless that
/// server crashed or restarted since `incarnation` or the link went down.
template <class T>
void deliver(network_actor_type* self, int to_slot, std::uint64_t incarnation,
             server_id from, server_id to, T& msg, std::size_t bytes) {
  auto& st = self->state;
  auto& dst = st.slots[static_cast<std::size_t>(to_slot)];
  auto from_slot = slot_of(st, from);
  if (!dst.peer || dst.incarnation != incarnation
      || !enabled(st, from_slot, to_slot))
    return;
  if constexpr (is_request_v<T>)
    st.cfg.stats->on_request_delivered(to_slot);
  else
    st.cfg.stats->on_reply_delivered(bytes);
  self->send(dst.peer, from, to, std::move(msg));
}

/// A message a peer hands to the network (labrpc Call, or a reply leaving
/// a handler).
template <class T>
void on_send(network_actor_type* self, server_id from, server_id to, T& msg) {
  auto& st = self->state;
  auto bytes = wire_size(self, msg);
  if constexpr (is_request_v<T>)
    st.cfg.stats->on_request_sent(bytes);
  auto from_slot = slot_of(st, from);
  auto to_slot = slot_of(st, to);
  if (from_slot < 0 || to_slot < 0)
    return;
  // Only the current instance of `from` may use the network.
  auto& src = st.slots[static_cast<std::size_t>(from_slot)];
  if (!src.peer
      || self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(
           src.peer))
    return;
  auto& dst = st.slots[static_cast<std::size_t>(to_slot)];
  if (!dst.peer || !enabled(st, from_slot, to_slot))
    return;
  std::uint64_t delay_ms = 0;
  if constexpr (is_request_v<T>) {
    if (!st.cfg.reliable) {
      // labrpc: short delay, then maybe drop the request.
      delay_ms = draw(st, 27);
      if (draw(st, 1000) < 100)
        return;
    }
  } else {
    if (!st.cfg.reliable && draw(st, 1000) < 100)
      return; // drop the reply
    if (st.cfg.long_reordering && draw(st, 900) < 600)
      delay_ms = 200 + draw(st, 1 + draw(st, 2000));
  }
  if (delay_ms == 0) {
    deliver(self, to_slot, dst.incarnation, from, to, msg, bytes);
    return;
  }
  self->delayed_send(self, std::chrono::milliseconds{delay_ms},
                     net_deliver_atom::value, static_cast<int32_t>(to_slot),
                     dst.incarnation, static_cast<std::uint64_t>(bytes),
                     from, to, std::move(msg));
}

/// See the file comment of network_actor.hpp. Every control message is
/// answered with ok_atom once it took effect.
caf::behavior network_actor(network_actor_type* self, network_config cfg) {
  auto& st = self->state;
  st.slots.resize(static_cast<std::size_t>(cfg.servers));
  st.rng.seed(cfg.seed);
  st.cfg = std::move(cfg);
  // Applies `f` to the slot of `server` and answers ok_atom, or answers
  // invalid_argument when `server` is no slot of this network.
  auto with_slot = [self](int32_t server,
                          auto f) -> caf::result<caf::ok_atom> {
    auto& slots = self->state.slots;
    if (server < 0 || static_cast<std::size_t>(server) >= slots.size())
      return caf::sec::invalid_argument;
    f(slots[static_cast<std::size_t>(server)]);
    return caf::ok_atom::value;
  };
  // -- Raft messages ---------------------------------------------------------
  auto on_message = [self](server_id from, server_id to, auto& msg) {
    on_send(self, from, to, msg);
  };
  auto on_delivery = [self](net_deliver_atom, int32_t to_slot,
                            std::uint64_t incarnation, std::uint64_t bytes,
                            server_id from, server_id to, auto& msg) {
    deliver(self, to_slot, incarnation, from, to, msg, bytes);
  };
  return rpc_handlers(on_message)
    .or_else(rpc_handlers<net_deliver_atom, int32_t, std::uint64_t,
                          std::uint64_t>(on_delivery))
    .or_else(
      // -- control -----------------------------------------------------------
      [=](net_attach_atom, int32_t server, caf::actor& peer) {
        return with_slot(server, [&](server_slot& s) {
          s.peer = std::move(peer);
          ++s.incarnation;
        });
      },
      [=](net_detach_atom, int32_t server) {
        return with_slot(server, [](server_slot& s) {
          s.peer = nullptr;
          ++s.incarnation;
        });
      },
      [=](net_connect_atom, int32_t server, bool connected) {
        return with_slot(server,
                         [&](server_slot& s) { s.connected = connected; });
      },
      [=](net_group_atom, int32_t server, int32_t group) {
        return with_slot(server, [&](server_slot& s) { s.group = group; });
      },
      [=](net_reliable_atom, bool reliable) {
        self->state.cfg.reliable = reliable;
        return caf::ok_atom::value;
      },
      [=](net_reorder_atom, bool long_reordering) {
        self->state.cfg.long_reordering = long_reordering;
        return caf::ok_atom::value;
      });
}

} // namespace

caf::actor spawn_network(caf::actor_system& sys, network_config cfg) {
  return sys.spawn(network_actor, std::move(cfg));
}

} // namespace raft::testing
