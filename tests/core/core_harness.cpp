// The core test harness: the checks it runs after every input, and its
// fake persister (core_harness.hpp).
#include "tests/core/core_harness.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <variant>

#include "messages/crc32.hpp"

namespace raft::core_test {

output harness::ack_next() {
  REQUIRE(!unacked_.empty());
  auto b = std::move(unacked_.front());
  unacked_.pop_front();
  make_durable(b);
  auto before = core::observe(n_);
  // A received snapshot's bytes come back before the acknowledgement.
  for (const auto& s : b.snapshot)
    if (s.staged)
      n_.on_snapshot_read_back(s.last_included, s.data);
  n_.on_persisted(b.last.term, b.last.index);
  return take(before, "on_persisted " + to_string(b.last));
}

void harness::expect_invariants() {
  for (const auto& v : core::check(n_))
    FAIL_CHECK("invariant: " << v);
}

output harness::take(const core::observed_state& before,
                      const std::string& input) {
  INFO("after input: " << input);
  auto o = n_.take_output();
  expect_invariants();
  for (const auto& v : core::check_transition(before, n_))
    FAIL_CHECK("transition: " << v);
  auto after = core::observe(n_);
  auto changed = before.role != after.role
                 || before.current_term != after.current_term
                 || before.leader != after.leader
                 || before.voted_for != after.voted_for;
  if (changed)
    CHECK(o.state_changed);
  CHECK_FALSE(n_.has_output());
  // The fake persister's staging area, in output order: chunks first,
  // then a batch installing them takes the bytes over (as a store's
  // write() does); the install stays marked `staged` so ack_next() hands
  // the bytes back before acknowledging.
  for (const auto& c : o.snapshot_chunks) {
    INFO("staging " << to_string(c));
    if (c.offset == 0) {
      staging_id_ = c.last_included;
      staging_ = c.data;
    } else {
      REQUIRE(c.last_included == staging_id_);
      REQUIRE(c.offset == staging_.size());
      staging_ += c.data;
    }
  }
  if (o.persist) {
    auto b = *o.persist;
    for (auto& s : b.snapshot)
      if (s.staged) {
        INFO("installing " << to_string(s));
        REQUIRE(s.last_included == staging_id_);
        REQUIRE(s.size == staging_.size());
        CHECK(raft::crc32(staging_) == s.crc32);
        s.data = std::move(staging_);
        staging_.clear();
        staging_id_ = log_id{};
      }
    unacked_.push_back(std::move(b));
  }
  for (const auto& m : o.messages)
    expect_durable(m);
  if (o.apply_snapshot) {
    const auto& a = *o.apply_snapshot;
    INFO("applied " << to_string(a));
    CHECK(a.snapshot_valid);
    CHECK_FALSE(a.command_valid);
    // §7: a snapshot never moves the state machine backwards, and it is
    // durable here before the state machine sees it.
    CHECK(a.snapshot_index > applied_);
    CHECK(durable_base_.index >= a.snapshot_index);
    if (durable_base_.index == a.snapshot_index) {
      CHECK(durable_base_.term == a.snapshot_term);
      CHECK(durable_snapshot_ == a.snapshot);
    }
    applied_ = a.snapshot_index;
    snapshots_applied_.push_back(a);
  }
  for (const auto& e : o.committed) {
    INFO("applied entry " << to_string(e));
    CHECK(e.index == applied_.next());
    applied_ = e.index;
    auto stored = durable_at(e.index);
    CHECK(stored != nullptr);
    if (stored != nullptr)
      CHECK(*stored == e);
  }
  if (!o.committed.empty() || o.apply_snapshot)
    CHECK(n_.applied_index() == applied_);
  // Thesis §6.4 step 4: a read is answered only from a state machine that
  // has every entry through its index; each read ends exactly once.
  for (const auto& r : o.reads_ready) {
    INFO(core::to_string(r));
    CHECK(r.index <= applied_);
    CHECK(open_reads_.erase(r.request_id) == 1);
  }
  for (const auto& r : o.reads_failed) {
    INFO(core::to_string(r));
    CHECK(open_reads_.erase(r.request_id) == 1);
  }
  return o;
}

void harness::expect_durable(const envelope& m) {
  INFO("message " << line(m) << ", durable " << to_string(durable_hard_)
                  << " log up to " << durable_log_.size());
  CHECK(m.from == n_.id());
  if (auto x = std::get_if<request_vote>(&m.msg)) {
    CHECK(durable_hard_.current_term >= x->term);
    if (durable_hard_.current_term == x->term)
      CHECK(durable_hard_.voted_for == n_.id());
  } else if (auto y = std::get_if<request_vote_reply>(&m.msg);
             y && y->vote_granted) {
    CHECK(durable_hard_.current_term >= y->term);
    if (durable_hard_.current_term == y->term)
      CHECK(durable_hard_.voted_for == m.to);
  } else if (auto z = std::get_if<append_entries_reply>(&m.msg);
             z && z->success) {
    CHECK(durable_hard_.current_term >= z->term);
    CHECK(z->match_index <= durable_last().index);
  } else if (auto w = std::get_if<install_snapshot_reply>(&m.msg);
             w && w->installed) {
    // Installed: this server durably holds a state through it.
    CHECK(durable_hard_.current_term >= w->term);
    CHECK(w->last_included.index <= durable_last().index);
  }
}

const log_entry* harness::durable_at(index_t i) const {
  if (i <= durable_base_.index
      || i.value > durable_base_.index.value + durable_log_.size())
    return nullptr;
  return &durable_log_[i.value - durable_base_.index.value - 1];
}

log_id harness::durable_last() const {
  return durable_log_.empty() ? durable_base_
                              : log_id{durable_log_.back().term,
                                       durable_log_.back().index};
}

void harness::make_durable(const persist_batch& b) {
  INFO("persisting " << line(b));
  REQUIRE(b.snapshot.size() <= 1);
  for (const auto& s : b.snapshot) {
    auto l = s.last_included;
    REQUIRE(l.index > durable_base_.index);
    auto held = durable_at(l.index);
    if (held != nullptr && held->term == l.term) {
      durable_log_.erase(durable_log_.begin(),
                         durable_log_.begin()
                           + static_cast<std::ptrdiff_t>(
                             l.index.value - durable_base_.index.value));
    } else {
      durable_log_.clear();
    }
    durable_base_ = l;
    durable_snapshot_ = s.data;
  }
  if (b.truncate_from != index_t{0}) {
    REQUIRE(b.truncate_from > durable_base_.index);
    REQUIRE(b.truncate_from <= durable_last().index.next());
    durable_log_.resize(b.truncate_from.value - durable_base_.index.value
                        - 1);
    if (!b.entries.empty())
      CHECK(b.entries.front().index == b.truncate_from);
  }
  for (const auto& e : b.entries) {
    REQUIRE(e.index == durable_last().index.next());
    durable_log_.push_back(e);
  }
  durable_hard_ = b.hard_state;
  CHECK(to_string(b.last) == to_string(durable_last()));
}

} // namespace raft::core_test
