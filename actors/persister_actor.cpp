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

bool installs_staged_snapshot(const persist_batch& b) {
  return !b.snapshot.empty() && b.snapshot.front().staged;
}

/// Writes every pending batch and snapshot chunk in arrival order, syncs
/// once, acknowledges each batch in order.
void flush(persister_actor_type* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty())
    return;
  // The last batch of this flush that installs a staged snapshot: its
  // requester gets the installed bytes back (earlier installs of the same
  // flush are superseded by it).
  const persister_state::pending_write* last_staged_install = nullptr;
  try {
    for (const auto& w : st.pending) {
      if (w.chunk) {
        st.store->stage_snapshot_chunk(*w.chunk);
        continue;
      }
      st.store->write(w.batch);
      if (installs_staged_snapshot(w.batch))
        last_staged_install = &w;
    }
    st.store->sync();
  } catch (const std::exception& e) {
    // Nothing of this flush is acknowledged: the node must stop.
    fail(self, std::string{"store failure, stopping the node: "} + e.what());
    return;
  }
  ++st.flushes;
  for (auto& w : st.pending) {
    if (w.chunk)
      continue;
    ++st.batches_persisted;
    if (!w.requester)
      continue;
    // The bytes of a received snapshot go back to the peer before the
    // acknowledgement that makes it act on the install.
    if (&w == last_staged_install) {
      try {
        self->send(w.requester,
                   snapshot_read_back{w.batch.snapshot.front().last_included,
                                      st.store->snapshot_data()});
      } catch (const std::exception& e) {
        fail(self, std::string{"cannot read the installed snapshot back: "}
                     + e.what());
        return;
      }
    }
    self->send(w.requester, persisted{w.batch.last.term, w.batch.last.index});
  }
  st.pending.clear();
}

void enqueue(persister_actor_type* self, persister_state::pending_write w) {
  auto& st = self->state;
  st.pending.push_back(std::move(w));
  if (st.policy == flush_policy::sync_each_batch) {
    flush(self);
    return;
  }
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
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
      enqueue(self, {std::move(batch),
                     caf::actor_cast<caf::actor>(self->current_sender()),
                     {}});
    },
    [self](snapshot_chunk& chunk) {
      persister_state::pending_write w;
      w.chunk = std::move(chunk);
      enqueue(self, std::move(w));
    },
    [self](flush_atom) { flush(self); },
  };
}

} // namespace raft::actors
