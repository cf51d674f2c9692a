#include "tests/kit/peer_watch.hpp"

#include <utility>

namespace raft::testing {

caf::actor
watch_for_failure(caf::actor_system& sys, const caf::actor& target,
                  std::function<void(const std::string&)> on_failure) {
  return sys.spawn([target, on_failure = std::move(on_failure)](
              caf::event_based_actor* self) -> caf::behavior {
    self->monitor(target);
    self->set_down_handler([self, on_failure](caf::down_msg& dm) {
      const auto& r = dm.reason;
      if (r && r != caf::exit_reason::normal && r != caf::exit_reason::kill
          && r != caf::exit_reason::unreachable
          && r != caf::sec::request_receiver_down)
        on_failure(self->system().render(r));
      self->quit();
    });
    // Nothing to handle but the down message; the behavior keeps the
    // watcher alive until then.
    return {[](caf::ok_atom) {}};
  });
}

} // namespace raft::testing
