#include "tests/kit/goroutines.hpp"

#include <stdexcept>
#include <utility>

namespace raft::testing {

goroutines::goroutines(cluster& cfg) : cfg_(cfg) {
  auto main = std::make_unique<task>();
  main->st = state::running;
  tasks_.push_back(std::move(main));
  cfg_.set_sleep_hook([this](std::chrono::milliseconds d) { sleep(d); });
}

goroutines::~goroutines() {
  // The main goroutine holds the baton here (normally or while a failure
  // unwinds it). Unwind the others one at a time: each gets the baton,
  // throws `cancelled` from the sleep it is in and hands the baton back.
  cancel_ = true;
  for (std::size_t k = 1; k < tasks_.size(); ++k) {
    if (tasks_[k]->st != state::done) {
      tasks_[k]->st = state::running;
      hand_over(0, k);
    }
  }
  tasks_[0]->st = state::running;
  for (auto& t : tasks_)
    if (t->thread.joinable())
      t->thread.join();
  cfg_.set_sleep_hook(nullptr);
}

void goroutines::go(std::function<void()> body) {
  auto k = tasks_.size();
  auto t = std::make_unique<task>();
  t->st = state::sleeping;
  t->wake = cfg_.now();
  t->seq = ++seq_;
  tasks_.push_back(std::move(t));
  // The thread touches nothing before it holds the baton.
  tasks_[k]->thread = std::thread{[this, k, f = std::move(body)] { run(k, f); }};
}

void goroutines::wait_all() {
  if (current_ != 0)
    throw std::logic_error("goroutines::wait_all outside the main goroutine");
  if (running() > 0) {
    tasks_[0]->st = state::waiting;
    yield(0);
  }
  on_resume(0);
}

std::size_t goroutines::running() const {
  std::size_t n = 0;
  for (std::size_t k = 1; k < tasks_.size(); ++k)
    if (tasks_[k]->st != state::done)
      ++n;
  return n;
}

void goroutines::sleep(std::chrono::milliseconds d) {
  auto me = current_; // only the baton holder runs
  auto& t = *tasks_[me];
  t.wake = cfg_.now() + d;
  t.seq = ++seq_;
  t.st = state::sleeping;
  yield(me);
  on_resume(me);
}

std::size_t goroutines::pick() const {
  if (failure_ || cancel_)
    return 0;
  if (tasks_[0]->st == state::waiting && running() == 0)
    return 0;
  std::size_t best = tasks_.size();
  for (std::size_t k = 0; k < tasks_.size(); ++k) {
    auto& t = *tasks_[k];
    if (t.st != state::sleeping)
      continue;
    if (best == tasks_.size() || t.wake < tasks_[best]->wake
        || (t.wake == tasks_[best]->wake && t.seq < tasks_[best]->seq))
      best = k;
  }
  if (best == tasks_.size())
    throw std::logic_error("goroutines: no task can run (deadlock)");
  return best;
}

void goroutines::yield(std::size_t me) {
  auto next = pick();
  auto& n = *tasks_[next];
  if (n.st == state::sleeping && !failure_ && !cancel_) {
    auto now = cfg_.now();
    if (n.wake > now) {
      try {
        cfg_.pass_time(n.wake - now);
      } catch (...) {
        // The failure surfaces in the task that let the time pass.
        if (tasks_[me]->st != state::done)
          tasks_[me]->st = state::running;
        throw;
      }
    }
  }
  n.st = state::running;
  hand_over(me, next);
}

void goroutines::hand_over(std::size_t me, std::size_t next) {
  if (next == me)
    return;
  // Read before handing over: afterwards only `next` may touch tasks_.
  bool finished = tasks_[me]->st == state::done;
  std::unique_lock<std::mutex> guard{mtx_};
  current_ = next;
  cv_.notify_all();
  if (finished)
    return;
  cv_.wait(guard, [&] { return current_ == me; });
}

void goroutines::on_resume(std::size_t me) {
  if (me == 0) {
    if (failure_)
      std::rethrow_exception(failure_);
  } else if (cancel_) {
    throw cancelled{};
  }
}

void goroutines::run(std::size_t me, const std::function<void()>& body) {
  {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [&] { return current_ == me; });
  }
  try {
    on_resume(me);
    body();
  } catch (cancelled&) {
    // The test is over.
  } catch (...) {
    if (!failure_)
      failure_ = std::current_exception();
  }
  tasks_[me]->st = state::done;
  try {
    yield(me);
  } catch (...) {
    // Letting time pass failed (an apply error): that ends the test too.
    if (!failure_)
      failure_ = std::current_exception();
    tasks_[0]->st = state::running;
    hand_over(me, 0);
  }
}

} // namespace raft::testing
