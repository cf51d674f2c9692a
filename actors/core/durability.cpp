#include "actors/core/durability.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include "actors/core/node_detail.hpp"
#include "messages/to_string.hpp"

namespace raft::core {

bool needs_durability(const rpc_message& m) {
  return std::visit(
    detail::overload{
      [](const request_vote&) { return true; },
      [](const request_vote_reply&) { return true; },
      [](const append_entries&) { return false; },
      [](const append_entries_reply&) { return true; },
      [](const install_snapshot&) { return false; },
      [](const install_snapshot_reply& r) { return r.installed; },
    },
    m);
}

durability_tracker::durability_tracker(server_id self, const hard_state& hard,
                                       index_t last_index)
  : self_(self),
    emitted_hard_(hard),
    emitted_last_(last_index),
    unstable_from_(last_index.next()),
    durable_index_(last_index) {
  // Everything restored is durable by definition.
}

std::string durability_tracker::where() const {
  return "node " + to_string(self_) + ": ";
}

// -- changes ------------------------------------------------------------------

void durability_tracker::truncated_from(index_t i) {
  unstable_from_ = std::min(unstable_from_, i);
  durable_index_ = std::min(durable_index_, i.prev());
}

void durability_tracker::persist_snapshot(snapshot_install install) {
  // The store drops its entries through last_included and keeps the rest:
  // it holds last_included with the same term (applied <= durable), so
  // nothing it keeps changes.
  install_ = std::move(install);
}

void durability_tracker::persist_received_snapshot(snapshot_install install,
                                                   bool kept_suffix) {
  // The store installs the snapshot first, against the log as of the
  // batches emitted so far: what it holds below unstable_from_ equals
  // memory. If it keeps the same suffix as memory did, the unemitted changes
  // after it follow as usual; otherwise the entries after last_included are
  // rewritten from memory (truncate + append in the same batch).
  auto last = install.last_included.index;
  if (!kept_suffix || last >= unstable_from_) {
    auto after = last.next();
    unstable_from_ = after;
    install_rewrites_from_ = install_rewrites_from_ == index_t{}
                               ? after
                               : std::min(install_rewrites_from_, after);
    durable_index_ = std::min(durable_index_, last);
  }
  install_ = std::move(install);
}

void durability_tracker::stage_chunk(snapshot_chunk chunk) {
  chunks_.push_back(std::move(chunk));
}

// -- messages -----------------------------------------------------------------

void durability_tracker::send(envelope env) {
  if (needs_durability(env.msg))
    after_persist_.push_back(std::move(env));
  else
    now_.push_back(std::move(env));
}

// -- snapshots for the state machine ------------------------------------------

void durability_tracker::apply_snapshot_now(apply_msg a) {
  ready_apply_ = std::move(a);
}

void durability_tracker::apply_snapshot_after_persist(apply_msg a) {
  waiting_apply_ = waiting_apply{next_batch(), std::move(a)};
}

apply_msg* durability_tracker::waiting_snapshot_apply() {
  return waiting_apply_ ? &waiting_apply_->msg : nullptr;
}

const apply_msg* durability_tracker::ready_snapshot_apply() const {
  return ready_apply_ ? &*ready_apply_ : nullptr;
}

std::optional<apply_msg> durability_tracker::take_ready_snapshot_apply() {
  auto result = std::move(ready_apply_);
  ready_apply_.reset();
  return result;
}

// -- output -------------------------------------------------------------------

bool durability_tracker::has_output(const hard_state& hard,
                                    const raft_log& log) const {
  return hard != emitted_hard_ || unstable_from_ <= log.last_index()
         || unstable_from_ <= emitted_last_ || install_.has_value()
         || !chunks_.empty() || !now_.empty() || !after_persist_.empty()
         || ready_apply_.has_value();
}

void durability_tracker::take(const hard_state& hard, const raft_log& log,
                              output& out) {
  // 0. Chunks for the staging area, ahead of a batch that may install them.
  out.snapshot_chunks = std::move(chunks_);
  chunks_.clear();
  // 1. The persist batch: everything changed since the previous one. The
  // store installs the snapshot first, then truncates and appends.
  bool log_changed = unstable_from_ <= log.last_index()
                     || unstable_from_ <= emitted_last_;
  if (hard != emitted_hard_ || log_changed || install_) {
    persist_batch b;
    b.hard_state = hard;
    if (install_)
      b.snapshot.push_back(std::move(*install_));
    if (unstable_from_ <= emitted_last_)
      b.truncate_from = unstable_from_;
    if (unstable_from_ <= log.last_index())
      b.entries = log.slice(unstable_from_, log.last_index(),
                            static_cast<std::size_t>(-1),
                            static_cast<std::size_t>(-1));
    b.last = log.last();
    auto rewrites = b.truncate_from;
    if (install_rewrites_from_ != index_t{}
        && (rewrites == index_t{} || install_rewrites_from_ < rewrites))
      rewrites = install_rewrites_from_;
    inflight_.push_back({++emitted_, b.last, rewrites});
    install_.reset();
    install_rewrites_from_ = index_t{};
    emitted_hard_ = hard;
    emitted_last_ = log.last_index();
    unstable_from_ = log.last_index().next();
    out.persist = std::move(b);
  }
  // 2. This input's messages that promise durable state wait for every
  // batch emitted so far, the one just emitted included.
  for (auto& env : after_persist_) {
    if (durable_ >= emitted_ && held_.empty())
      now_.push_back(std::move(env));
    else
      held_.emplace_back(emitted_, std::move(env));
  }
  after_persist_.clear();
  out.messages = std::move(now_);
  now_.clear();
}

// -- acknowledgement ----------------------------------------------------------

void durability_tracker::on_persisted(term_t term, index_t index) {
  auto acked = log_id{term, index};
  if (inflight_.empty())
    throw std::logic_error(where() + "persisted " + to_string(acked)
                           + " without a pending batch");
  auto b = inflight_.front();
  if (b.last != acked)
    throw std::logic_error(where() + "persisted " + to_string(acked)
                           + " but the oldest batch ends at "
                           + to_string(b.last));
  inflight_.pop_front();
  durable_ = b.seq;
  // The durable log is now the log as of batch b. It equals memory up to
  // the first later change: a rewrite by a younger batch, or an unemitted
  // change.
  auto durable = b.last.index;
  for (const auto& younger : inflight_)
    if (younger.rewrites_from != index_t{})
      durable = std::min(durable, younger.rewrites_from.prev());
  durable_index_ = std::min(durable, unstable_from_.prev());
  // Messages that waited for b (or older batches) may leave now.
  while (!held_.empty() && held_.front().first <= durable_) {
    now_.push_back(std::move(held_.front().second));
    held_.pop_front();
  }
  if (waiting_apply_ && durable_ >= waiting_apply_->batch) {
    ready_apply_ = std::move(waiting_apply_->msg);
    waiting_apply_.reset();
  }
}

} // namespace raft::core
