// Shared pieces of the actor tests (docs/architecture.md §8.3): an actor
// system on CAF's deterministic test_coordinator, and small fake actors that
// record what they receive into shared vectors the test reads directly
// (everything runs on the test thread under the test_coordinator).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <caf/all.hpp>

#include "actors/core/config.hpp"
#include "actors/state_machine.hpp"
#include "messages/client_messages.hpp"
#include "messages/node_messages.hpp"
#include "messages/raft_messages.hpp"
#include "messages/rpc_handlers.hpp"
#include "messages/to_string.hpp"
#include "messages/type_ids.hpp"
#include "persistence/memory_store.hpp"

namespace raft::test {

using namespace std::chrono_literals;

// -- the fixture --------------------------------------------------------------

/// An actor system on the test_coordinator plus a hidden scoped actor.
/// Drive with sched.run() (queued jobs only) and sched.advance_time(d).
/// On destruction it checks that no actor is left running (a leaked actor
/// would make ~actor_system hang; the check fails the test instead).
struct caf_fixture {
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    register_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    return cfg;
  }

  caf_fixture()
    : sys(init(cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
      self(sys, true),
      baseline(sys.registry().running()) {
  }

  ~caf_fixture() {
    sched.run();
    auto running = sys.registry().running();
    CHECK(running == baseline);
    if (running != baseline)
      sys.await_actors_before_shutdown(false);
  }

  /// Advances virtual time in `step`s, running queued jobs after each,
  /// until `pred()` holds or `limit` has passed. Returns pred().
  template <class Pred>
  bool run_until(Pred pred, std::chrono::milliseconds limit,
                 std::chrono::milliseconds step = 10ms) {
    sched.run();
    for (auto t = 0ms; !pred() && t < limit; t += step) {
      sched.advance_time(step);
      sched.run();
    }
    return pred();
  }

  /// Receives the next message of type T already in self's mailbox.
  template <class T>
  T receive_now() {
    T result{};
    bool got = false;
    self->receive([&](T& x) {
      result = std::move(x);
      got = true;
    },
    caf::after(std::chrono::seconds(0)) >> [] {});
    REQUIRE(got);
    return result;
  }

  /// True if self's mailbox holds nothing.
  bool self_mailbox_empty() {
    return self->mailbox().empty();
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  caf::scoped_actor self;
  /// Actors the system itself runs (not ours).
  std::size_t baseline;
};

// -- configurations -----------------------------------------------------------

/// The Raft configuration of server `id` in the cluster {1, ..., n}.
inline core::config make_config(std::uint32_t id, std::uint32_t n = 3) {
  core::config c;
  c.id = server_id{id};
  for (std::uint32_t i = 1; i <= n; ++i)
    c.members.push_back(server_id{i});
  c.rng_seed = 42;
  return c;
}

inline log_entry entry(std::uint64_t term, std::uint64_t index,
                       std::string data = {},
                       entry_kind kind = entry_kind::command) {
  log_entry e;
  e.term = term_t{term};
  e.index = index_t{index};
  e.kind = kind;
  e.data = std::move(data);
  return e;
}

// -- fake actors --------------------------------------------------------------

/// Records every Raft message it receives as an envelope.
inline caf::behavior
recording_transport(caf::event_based_actor*,
                    std::shared_ptr<std::vector<envelope>> log) {
  return rpc_handlers([log](server_id from, server_id to, auto& m) {
    log->push_back(envelope{from, to, std::move(m)});
  });
}

/// What a fake_persister has seen and holds.
struct fake_persister_log {
  struct held_batch {
    persist_batch batch;
    caf::actor requester;
  };
  /// Batches received and not yet acknowledged.
  std::vector<held_batch> held;
  /// Load requests received.
  int loads = 0;
  /// If set, (load_atom) is answered only on (caf::put_atom).
  bool hold_load = false;
  caf::response_promise pending_load;
};

/// A persister that answers (load_atom) with an empty state and holds every
/// persist_batch until the test sends it (flush_atom): then it acknowledges
/// all held batches in order. With hold_load, the load answer waits for
/// (caf::put_atom).
inline caf::behavior fake_persister(caf::event_based_actor* self,
                                    std::shared_ptr<fake_persister_log> log) {
  return {
    [self, log](load_atom)
      -> caf::result<hard_state, log_id, std::string, log_entries> {
      ++log->loads;
      if (log->hold_load) {
        log->pending_load = self->make_response_promise();
        return log->pending_load;
      }
      return {hard_state{}, log_id{}, std::string{}, log_entries{}};
    },
    [log](caf::put_atom) {
      log->pending_load.deliver(hard_state{}, log_id{}, std::string{},
                                log_entries{});
      log->pending_load = caf::response_promise{}; // no cycle via `log`
    },
    [self, log](persist_batch& b) {
      log->held.push_back(
        {std::move(b), caf::actor_cast<caf::actor>(self->current_sender())});
    },
    [self, log](flush_atom) {
      for (auto& h : log->held)
        self->send(h.requester,
                   persisted{h.batch.last.term, h.batch.last.index});
      log->held.clear();
    },
  };
}

/// Records every message it receives (an observer, a fake state machine
/// actor or a fake peer).
inline caf::behavior
recording_actor(caf::event_based_actor* self,
                std::shared_ptr<std::vector<caf::message>> log) {
  self->set_default_handler(
    [log](caf::scheduled_actor*,
          caf::message_view& xs) -> caf::result<caf::message> {
      log->push_back(xs.copy_content_to_message());
      return caf::message{};
    });
  return {
    [](caf::ok_atom) {
      // Never sent: keeps the behavior non-empty.
    },
  };
}

/// A user state machine that records what it applies and answers
/// "ok:<command>".
class recording_machine : public actors::state_machine {
public:
  explicit recording_machine(std::shared_ptr<std::vector<apply_msg>> log)
    : log_(std::move(log)) {
  }
  std::string apply(const apply_msg& m) override {
    log_->push_back(m);
    return "ok:" + m.command;
  }

private:
  std::shared_ptr<std::vector<apply_msg>> log_;
};

/// A store that counts calls and can be told to fail; delegates to a
/// memory_store.
class counting_store : public persistence::store {
public:
  raft::stored_state load() override {
    ++loads;
    return inner.load();
  }
  void write(const persist_batch& b) override {
    ++writes;
    if (fail_writes)
      throw persistence::store_error("counting_store: injected write error");
    inner.write(b);
  }
  void sync() override {
    ++syncs;
    if (fail_syncs)
      throw persistence::store_error("counting_store: injected sync error");
    inner.sync();
  }
  std::size_t raft_state_size() const override {
    return inner.raft_state_size();
  }
  std::size_t snapshot_size() const override {
    return inner.snapshot_size();
  }
  void stage_snapshot_chunk(const snapshot_chunk& c) override {
    ++chunks;
    inner.stage_snapshot_chunk(c);
  }
  std::string snapshot_data() const override {
    return inner.snapshot_data();
  }

  persistence::memory_store inner;
  int chunks = 0;
  int loads = 0;
  int writes = 0;
  int syncs = 0;
  bool fail_writes = false;
  bool fail_syncs = false;
};

} // namespace raft::test
