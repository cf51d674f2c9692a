// raft::testing::goroutines -- the concurrent goroutines of a ported 6.5840
// test (TestUnreliableAgree2C's agreements, the churn tests' clients), run
// cooperatively on the cluster's clock so that they work in both clock
// modes and stay deterministic per seed on the simulated one.
//
// Model. The test body (the "main goroutine") and every goroutine started
// with go() are tasks; exactly one of them runs at a time (it holds the
// baton). A task runs until it sleeps (cluster::sleep, directly or inside
// one(), wait(), check_one_leader() ...), finishes, or waits for the others
// (wait_all). Then the task with the earliest wake-up time runs next (ties:
// first come, first served); before handing over, the yielding task lets
// the cluster's time pass up to that wake-up time (cluster::pass_time). So
// time only passes while every task sleeps, as in Go when goroutines spend
// their time in time.Sleep and in short calls into Raft. What Go runs in
// parallel with a task's step (Start(), GetState(), nCommitted) is atomic
// here: a step takes no virtual time, and little real time.
//
// Each task has its own thread (its own stack, so one(), wait() and the
// other checks run unchanged inside goroutines), but the baton serializes
// them completely: the cluster and Catch2 are only ever used by one thread
// at a time, and the scheduling decisions depend only on the wake-up times
// and the order of events -- the same for the same seed in simulated mode.
//
// Failures. A goroutine that fails (a Catch2 assertion or any exception)
// ends the test: the baton goes straight to the main goroutine, whose
// current sleep() or wait_all() rethrows the failure. The destructor then
// unwinds every unfinished goroutine, one at a time, and joins the threads.
//
// Usage, inside a test body (the object must not outlive the cluster):
//   goroutines gs{cfg};
//   gs.go([&] { cfg.one("101", 1, true); });
//   cfg.one("1", 1, true);
//   gs.wait_all();                   // sync.WaitGroup.Wait()
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/kit/cluster.hpp"

namespace raft::testing {

class goroutines {
public:
  /// Makes the calling thread the main goroutine and routes cfg.sleep()
  /// through this scheduler.
  explicit goroutines(cluster& cfg);

  /// Unwinds every unfinished goroutine (only after a failure: a passing
  /// test waits for its goroutines), joins all threads and removes the
  /// sleep hook.
  ~goroutines();

  goroutines(const goroutines&) = delete;
  goroutines& operator=(const goroutines&) = delete;

  /// Go's `go body()`: the goroutine first runs when the caller next
  /// sleeps or waits. Only the task holding the baton may call this.
  void go(std::function<void()> body);

  /// sync.WaitGroup.Wait() for every goroutine started so far; only the
  /// main goroutine may call it. Rethrows a goroutine's failure.
  void wait_all();

  /// Goroutines started so far that have not finished yet.
  std::size_t running() const;

private:
  using time_point = cluster::time_point;

  enum class state {
    /// Holds the baton.
    running,
    /// Sleeps until `wake`.
    sleeping,
    /// The main goroutine in wait_all().
    waiting,
    /// Returned or unwound (goroutines only).
    done,
  };

  struct task {
    state st = state::sleeping;
    /// When a sleeping task wants the baton back.
    time_point wake;
    /// Order of going to sleep (ties between equal wake-up times).
    std::uint64_t seq = 0;
    std::thread thread;
  };

  /// Thrown inside a goroutine to unwind it when the test is over.
  struct cancelled {};

  /// The hook: the current task sleeps for `d`.
  void sleep(std::chrono::milliseconds d);
  /// The current task `me` (no longer running) gives up the baton: lets
  /// time pass up to the next task's wake-up and hands over. Returns when
  /// `me` holds the baton again (never if `me` is done).
  void yield(std::size_t me);
  /// The next task to run; the main goroutine after a failure.
  std::size_t pick() const;
  /// Hands the baton to `next` and, unless `me` is done, waits for it.
  void hand_over(std::size_t me, std::size_t next);
  /// Body of a goroutine's thread.
  void run(std::size_t me, const std::function<void()>& body);
  /// After resuming: the main goroutine rethrows a goroutine's failure, a
  /// goroutine unwinds when cancelled.
  void on_resume(std::size_t me);

  cluster& cfg_;
  /// tasks_[0] is the main goroutine. Only the baton holder changes the
  /// vector or any task's state.
  std::vector<std::unique_ptr<task>> tasks_;
  /// Last `seq` handed out.
  std::uint64_t seq_ = 0;
  /// The first failure of a goroutine; rethrown by the main goroutine.
  std::exception_ptr failure_;
  /// Set by the destructor: goroutines unwind when they resume.
  bool cancel_ = false;
  /// Guards current_ (the baton) for the waiting threads.
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  /// The task holding the baton.
  std::size_t current_ = 0;
};

} // namespace raft::testing
