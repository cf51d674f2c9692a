#include "actors/persister_actor.hpp"

#include <exception>
#include <iostream>
#include <string>
#include <utility>

#include "messages/type_ids.hpp"

namespace raft::actors {

namespace {

/// Stops the persister loudly: one line on stderr, quit with an error.
caf::error fail(persister_actor_type* self, const std::string& what) {
  std::cerr << ("persister: fatal: " + what + "\n");
  auto err = caf::make_error(caf::sec::runtime_error, "persister: " + what);
  self->quit(err);
  return err;
}

/// Writes every pending batch, syncs once, acknowledges each in order.
void flush(persister_actor_type* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty())
    return;
  try {
    for (const auto& w : st.pending)
      st.store->write(w.batch);
    st.store->sync();
  } catch (const std::exception& e) {
    // Nothing of this flush is acknowledged: the node must stop.
    fail(self, std::string{"store failure, stopping the node: "} + e.what());
    return;
  }
  ++st.flushes;
  for (auto& w : st.pending) {
    ++st.batches_persisted;
    if (w.requester)
      self->send(w.requester,
                 persisted{w.batch.last.term, w.batch.last.index});
  }
  st.pending.clear();
}

} // namespace

caf::behavior persister_actor(persister_actor_type* self,
                              std::shared_ptr<persistence::store> store) {
  return persister_actor_with_policy(self, std::move(store),
                                     flush_policy::group_commit);
}

caf::behavior
persister_actor_with_policy(persister_actor_type* self,
                            std::shared_ptr<persistence::store> store,
                            flush_policy policy) {
  self->state.policy = policy;
  if (!store) {
    fail(self, "spawned without a store");
    return {};
  }
  self->state.store = std::move(store);
  return {
    [self](load_atom)
      -> caf::result<hard_state, log_id, std::string, log_entries> {
      try {
        auto s = self->state.store->load();
        return {s.hard, s.base, std::move(s.snapshot), std::move(s.entries)};
      } catch (const std::exception& e) {
        return fail(self, std::string{"cannot load the durable state: "}
                            + e.what());
      }
    },
    [self](persist_batch& batch) {
      auto& st = self->state;
      st.pending.push_back(
        {std::move(batch),
         caf::actor_cast<caf::actor>(self->current_sender())});
      if (st.policy == flush_policy::sync_each_batch) {
        flush(self);
        return;
      }
      if (!st.flush_scheduled) {
        st.flush_scheduled = true;
        self->send(self, flush_atom::value);
      }
    },
    [self](flush_atom) { flush(self); },
  };
}

} // namespace raft::actors
