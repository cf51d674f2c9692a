// SIGTERM and SIGINT, the signals that stop raft-node and raft-ctl's
// workload. They are blocked in every thread and taken with sigtimedwait
// by the main thread, so no signal handler ever runs inside CAF's threads.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <ctime>

namespace raft::apps {

/// The set {SIGTERM, SIGINT}.
inline sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

/// Blocks the stop signals in the calling thread and so in every thread it
/// starts afterwards (CAF's threads inherit the mask): call it before the
/// actor system starts.
inline void block_stop_signals() {
  auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

/// Waits up to 100 ms for a stop signal (blocked by block_stop_signals).
/// Returns its number, or a value <= 0 when none arrived.
inline int poll_stop_signal() {
  auto set = stop_signals();
  const timespec poll{0, 100 * 1000 * 1000};
  return sigtimedwait(&set, nullptr, &poll);
}

} // namespace raft::apps
