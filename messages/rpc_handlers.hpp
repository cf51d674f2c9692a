// rpc_handlers -- the one place where rpc_message, the variant of every
// peer-to-peer Raft message, meets CAF: the handlers an actor uses to receive
// Raft messages, and the way to send one. Every actor that carries Raft
// messages builds its handlers here, so an alternative added to rpc_message
// is handled by all of them or (failing to compile) by none: a CAF behavior
// written by hand would silently lack a handler for it and drop it at run
// time.
//
// A Raft message travels as a CAF message of the shape
//   (Prefix..., server_id from, server_id to, M)
// with M one alternative of rpc_message, sent as the concrete type (never as
// the variant). Inside a process Prefix is empty; between processes it is
// (net_raft_atom, std::string cluster_id) (actors/net/wire.hpp).
//
// CAF-dependent, like messages/type_ids.hpp (whose registrations it relies
// on): both belong to the raft_messages_caf target, not to the pure-data
// raft_messages.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include <caf/all.hpp>

#include "messages/ids.hpp"
#include "messages/raft_messages.hpp"
#include "messages/type_ids.hpp"

namespace raft {

namespace rpc_detail {

/// The CAF handler of one alternative M: a function object whose call
/// operator has the concrete parameter list CAF matches messages against
/// (a generic lambda has none). Calls `f` with the message as M&: the
/// handler may move from it (CAF hands out the message's own copy, or
/// copies it first if it is shared).
template <class F, class M, class... Prefix>
struct rpc_case {
  static_assert(caf::has_type_id<M>::value,
                "every rpc_message alternative needs a CAF type id: add it "
                "to messages/type_ids.hpp");

  F f;

  std::invoke_result_t<F&, Prefix..., server_id, server_id, M&>
  operator()(Prefix... prefix, server_id from, server_id to, M& msg) {
    return f(prefix..., from, to, msg);
  }
};

/// One rpc_case per alternative of a variant.
template <class Variant, class... Prefix>
struct rpc_cases;

template <class... Ms, class... Prefix>
struct rpc_cases<std::variant<Ms...>, Prefix...> {
  template <class F>
  static caf::message_handler make(const F& f) {
    return caf::message_handler(rpc_case<F, Ms, Prefix...>{f}...);
  }
};

} // namespace rpc_detail

/// The handlers of every Raft message: one per alternative M of rpc_message,
/// matching (Prefix..., server_id from, server_id to, M) and calling
/// `f(prefix..., from, to, msg)` with `msg` as an M& the callee may move
/// from. `f` is usually a generic lambda, e.g.
///   [self](server_id from, server_id to, auto& msg) { ... }
/// and is copied once per alternative (capture handles, not state).
/// Combine with the actor's other handlers through or_else:
///   return rpc_handlers(on_rpc).or_else(
///     [self](tick_atom) { ... },
///     ...);
/// (a caf::message_handler converts to a caf::behavior).
template <class... Prefix, class F>
caf::message_handler rpc_handlers(F f) {
  return rpc_detail::rpc_cases<rpc_message, Prefix...>::make(f);
}

/// Sends `env` from `self` to `dest` as (from, to, M) with M the concrete
/// message: the shape rpc_handlers() (no prefix) receives. Moves the
/// message out of `env`.
template <class Self, class Handle>
void send_envelope(Self* self, const Handle& dest, envelope&& env) {
  std::visit(
    [&](auto& msg) { self->send(dest, env.from, env.to, std::move(msg)); },
    env.msg);
}

} // namespace raft
