// rpc_handlers (messages/rpc_handlers.hpp): every alternative of rpc_message
// has a CAF type id (checked at compile time), and an actor whose behavior
// the helper builds receives every alternative, with or without a prefix,
// and hands it on without copying it.
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/transport.hpp"
#include "messages/rpc_handlers.hpp"
#include "tests/actors/caf_fixture.hpp"

using namespace raft;
using namespace raft::test;

namespace {

// -- compile time -------------------------------------------------------------

/// True iff every alternative of the variant has a CAF type id (an
/// unregistered type crosses the network as an empty message).
template <class Variant>
struct all_have_type_ids;

template <class... Ms>
struct all_have_type_ids<std::variant<Ms...>>
  : std::bool_constant<(caf::has_type_id<Ms>::value && ...)> {};

static_assert(all_have_type_ids<rpc_message>::value,
              "an rpc_message alternative has no CAF type id: add it to "
              "messages/type_ids.hpp");

// -- samples ------------------------------------------------------------------

/// Alternative I of rpc_message, told apart by its term (I + 1). An
/// append_entries carries an entry whose data does not fit a short string.
template <std::size_t I>
rpc_message sample() {
  std::variant_alternative_t<I, rpc_message> m{};
  m.term = term_t{I + 1};
  if constexpr (std::is_same_v<decltype(m), append_entries>)
    m.entries.push_back(entry(1, 1, std::string(64, 'x')));
  return m;
}

template <std::size_t... Is>
std::vector<envelope> one_of_each(std::index_sequence<Is...>) {
  std::vector<envelope> out;
  (out.push_back(envelope{server_id{1}, server_id{2}, sample<Is>()}), ...);
  return out;
}

/// One envelope per alternative of rpc_message, in alternative order.
std::vector<envelope> one_of_each() {
  return one_of_each(
    std::make_index_sequence<std::variant_size_v<rpc_message>>{});
}

/// A test-only prefix tag (the endpoint's is net_raft_atom).
using prefix_atom = caf::atom_constant<caf::atom("t_prefix")>;

/// What recording_prefixed received: the prefix's tag and the envelope of
/// every Raft message, in arrival order.
struct prefixed_log {
  std::vector<std::string> tags;
  std::vector<envelope> envelopes;
};

/// Records every Raft message, (prefix_atom, tag, from, to, M), and
/// answers (caf::get_atom) with the number recorded: the helper's handlers
/// combined with another one.
caf::behavior recording_prefixed(caf::event_based_actor*,
                                 std::shared_ptr<prefixed_log> log) {
  auto on_message = [log](prefix_atom, const std::string& tag,
                          server_id from, server_id to, auto& m) {
    log->tags.push_back(tag);
    log->envelopes.push_back(envelope{from, to, std::move(m)});
  };
  return rpc_handlers<prefix_atom, const std::string&>(on_message).or_else(
    [log](caf::get_atom) {
      return static_cast<std::uint64_t>(log->envelopes.size());
    });
}

/// `got` is `sent`, one of each alternative in alternative order.
void check_one_of_each(const std::vector<envelope>& sent,
                       const std::vector<envelope>& got) {
  REQUIRE(got.size() == sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    CHECK(got[i].msg.index() == i);
    CHECK(got[i] == sent[i]);
  }
}

} // namespace

TEST_CASE_METHOD(caf_fixture,
                 "rpc_handlers: an actor receives every rpc_message "
                 "alternative",
                 "[rpc]") {
  auto got = std::make_shared<std::vector<envelope>>();
  auto dest = sys.spawn(recording_transport, got);
  auto sent = one_of_each();
  for (auto env : sent)
    send_envelope(self.ptr(), dest, std::move(env));
  sched.run();
  check_one_of_each(sent, *got);
}

TEST_CASE_METHOD(caf_fixture,
                 "rpc_handlers: a prefix reaches the handler with every "
                 "alternative",
                 "[rpc]") {
  auto got = std::make_shared<prefixed_log>();
  auto dest = sys.spawn(recording_prefixed, got);
  auto sent = one_of_each();
  for (auto env : sent) {
    std::visit(
      [&](auto& m) {
        self->send(dest, prefix_atom::value, std::string{"c1"}, env.from,
                   env.to, std::move(m));
      },
      env.msg);
  }
  self->send(dest, caf::get_atom::value);
  sched.run();
  CHECK(receive_now<std::uint64_t>() == sent.size());
  check_one_of_each(sent, got->envelopes);
  CHECK(got->tags == std::vector<std::string>(sent.size(), "c1"));
}

TEST_CASE_METHOD(caf_fixture,
                 "rpc_handlers: the transport hands entries on without "
                 "copying them",
                 "[rpc][transport]") {
  auto got = std::make_shared<std::vector<envelope>>();
  auto p2 = sys.spawn(recording_transport, got);
  auto t = sys.spawn(actors::transport_actor);
  self->send(t, register_atom::value, server_id{2}, p2);
  append_entries ae{};
  ae.term = term_t{1};
  ae.entries.push_back(entry(1, 1, std::string(64, 'x')));
  envelope env{server_id{1}, server_id{2}, std::move(ae)};
  // The entry's bytes and the entries' array: the same buffers must
  // arrive (a copy would allocate new ones).
  const auto& sent = std::get<append_entries>(env.msg).entries;
  const void* array = sent.data();
  const void* bytes = sent.front().data.data();
  send_envelope(self.ptr(), t, std::move(env));
  sched.run();
  REQUIRE(got->size() == 1);
  REQUIRE(std::holds_alternative<append_entries>(got->at(0).msg));
  const auto& received = std::get<append_entries>(got->at(0).msg).entries;
  REQUIRE(received.size() == 1);
  CHECK(static_cast<const void*>(received.data()) == array);
  CHECK(static_cast<const void*>(received.front().data.data()) == bytes);
}
