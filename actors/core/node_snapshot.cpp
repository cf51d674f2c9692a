// raft::core::node: snapshots (§7 of the extended Raft paper, Figure 13
// InstallSnapshot RPC).
//
// - The service hands the node a snapshot through an applied index
//   (snapshot()); the log before it goes, the bytes are kept to send and
//   persisted with the next batch.
// - A leader whose follower needs a compacted entry sends the snapshot in
//   chunks of config::snapshot_chunk_bytes: one chunk in flight, the next on
//   the reply, resumed at the offset the follower reports, resent on a
//   heartbeat, restarted at offset 0 when the leader's snapshot changes.
// - A follower passes each chunk at the expected offset to the persister's
//   staging area (output::snapshot_chunks; the bytes never accumulate here),
//   keeps a running size and CRC-32, checks both on the last chunk, then
//   installs: the next batch turns the staging area into the durable
//   snapshot (snapshot_install::staged; the store checks size and CRC
//   again), keeping the log suffix if it matches. It answers installed =
//   true only once the install is durable, and hands the snapshot to the
//   state machine once the persister has sent the bytes back
//   (on_snapshot_read_back) and the batch is durable.
#include "actors/core/node.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "messages/crc32.hpp"
#include "actors/core/node_detail.hpp"

namespace raft::core {

using detail::where;

// -- service snapshot ---------------------------------------------------------

bool node::snapshot(index_t index, std::string data) {
  // Nothing new, or a state the service cannot have applied yet.
  if (index <= log_.base().index || index > applied_index_)
    return false;
  // applied <= durable <= last: the log holds `index`.
  log_.compact_to(log_id{*log_.term_at(index), index});
  set_snapshot_data(std::move(data));
  // The next batch carries the snapshot; the store drops the entries
  // through index and keeps the rest (it holds index with the same term).
  durability_.persist_snapshot(snapshot_install{log_.base(), *snapshot_data_});
  return true;
}

void node::set_snapshot_data(std::string data) {
  snapshot_crc_ = crc32(data);
  snapshot_data_ = std::make_shared<const std::string>(std::move(data));
  snapshot_bytes_pending_ = false;
}

void node::on_snapshot_read_back(log_id last_included, std::string data) {
  // A newer snapshot replaced this one, or the bytes are here already.
  if (last_included != log_.base() || !snapshot_bytes_pending_)
    return;
  if (crc32(data) != snapshot_crc_)
    throw std::logic_error(where(cfg_) + "the store returned "
                           + std::to_string(data.size())
                           + " bytes for snapshot " + detail::str(last_included)
                           + " whose CRC-32 differs from the leader's");
  auto crc = snapshot_crc_;
  set_snapshot_data(std::move(data));
  snapshot_crc_ = crc;
  if (auto* a = durability_.waiting_snapshot_apply();
      a != nullptr && a->snapshot_index == last_included.index)
    a->snapshot = *snapshot_data_;
}

// -- leader -------------------------------------------------------------------

void node::send_snapshot_chunk(server_id to, progress& p, bool heartbeat) {
  auto base = log_.base();
  if (p.outgoing.last_included != base) {
    // A newer snapshot replaced the one in transfer: start over with it.
    p.outgoing = outgoing_snapshot{base};
  }
  // One chunk in flight; a heartbeat resends it (it or its reply may be
  // lost). A snapshot received from the previous leader whose bytes are not
  // back from the store yet cannot be sent: wait.
  if ((p.outgoing.chunk_in_flight && !heartbeat) || snapshot_bytes_pending_)
    return;
  const auto& data = *snapshot_data_;
  std::uint64_t total = data.size();
  auto offset = std::min(p.outgoing.offset, total);
  auto len = std::min<std::uint64_t>(cfg_.snapshot_chunk_bytes,
                                     total - offset);
  install_snapshot m;
  m.term = hard_.current_term;
  m.leader_id = cfg_.id;
  m.last_included = base;
  m.offset = offset;
  m.data = data.substr(static_cast<std::size_t>(offset),
                       static_cast<std::size_t>(len));
  m.done = offset + len == total;
  m.total_size = total;
  m.crc32 = snapshot_crc_;
  p.outgoing.offset = offset;
  p.outgoing.chunk_in_flight = true;
  send(to, std::move(m));
}

void node::handle(server_id from, const install_snapshot_reply& m) {
  auto* pp = follower_progress(from);
  if (!pp)
    return;
  auto& p = *pp;
  if (m.installed) {
    // The follower durably holds a state through last_included: a snapshot
    // of committed entries, which match ours (Log Matching).
    p.acknowledge(m.last_included.index);
    // Back to AppendEntries, probing right after the snapshot (a kept
    // suffix on the follower shows up in the probe's answer).
    if (p.state == progress::mode::snapshot)
      p.become_probe(p.match_index.next());
    maybe_commit();
    send_append(from, p, false);
    return;
  }
  // A progress report on the snapshot in transfer: continue where the
  // follower says it stands. Reports on another snapshot are stale.
  if (p.state != progress::mode::snapshot
      || m.last_included != p.outgoing.last_included)
    return;
  p.outgoing.offset = m.next_offset;
  p.outgoing.chunk_in_flight = false;
  send_append(from, p, false);
}

// -- follower -----------------------------------------------------------------

void node::handle(server_id from, const install_snapshot& m) {
  check_single_leader(from);
  // Like AppendEntries: the leader of this term; resets the election timer.
  // A different leader than before gets a fresh follower state, which drops
  // a half-received snapshot.
  become_follower(hard_.current_term, from);
  auto& f = std::get<follower>(role_);
  install_snapshot_reply r;
  r.term = hard_.current_term;
  r.last_included = m.last_included;
  // Nothing to do when committed entries (or our own snapshot) already
  // cover last_included: everything through it is in an emitted batch, so
  // the reply waits for that to be durable and then says installed.
  if (m.last_included.index <= commit_index_) {
    if (f.incoming && f.incoming->last_included == m.last_included)
      f.incoming.reset();
    r.next_offset = m.total_size;
    r.installed = true;
    send(from, r);
    return;
  }
  // Figure 13 step 2: "Create new snapshot file if first chunk (offset is
  // 0)". A chunk of another snapshot than the one being received starts
  // over only at offset 0.
  bool same = f.incoming && f.incoming->last_included == m.last_included
              && f.incoming->total_size == m.total_size
              && f.incoming->crc32 == m.crc32;
  if (!same) {
    f.incoming.reset();
    if (m.offset == 0)
      f.incoming = incoming_snapshot{m.last_included, m.total_size, m.crc32,
                                     0, 0};
  }
  std::uint64_t expected = f.incoming ? f.incoming->received : 0;
  // Steps 3-4: "Write data into snapshot file at given offset. Reply and
  // wait for more data chunks if done is false." Only the expected offset
  // is accepted; anything else tells the leader where to resume. The chunk
  // goes to the persister's staging area (offset 0 starts it afresh).
  if (!f.incoming || m.offset != expected
      || expected + m.data.size() > m.total_size) {
    r.next_offset = expected;
    send(from, r);
    return;
  }
  auto& in = *f.incoming;
  durability_.stage_chunk(snapshot_chunk{m.last_included, m.offset, m.data});
  in.received += m.data.size();
  in.received_crc = crc32(m.data, in.received_crc);
  r.next_offset = in.received;
  if (!m.done) {
    send(from, r);
    return;
  }
  // Step 5 (done): the whole snapshot must arrive intact; a bad one is
  // dropped and requested again from offset 0.
  if (in.received != in.total_size || in.received_crc != in.crc32) {
    f.incoming.reset();
    r.next_offset = 0;
    send(from, r);
    return;
  }
  auto size = in.received;
  auto crc = in.received_crc;
  f.incoming.reset();
  install_received_snapshot(m.last_included, size, crc);
  // Durability rule: installed = true only once the install is durable.
  r.installed = true;
  send(from, r);
}

void node::install_received_snapshot(log_id last_included, std::uint64_t size,
                                     std::uint32_t crc) {
  // Steps 6-7: keep the suffix after last_included if the log holds it
  // with the same term, else discard the entire log. Precondition:
  // last_included.index > commit_index_ >= base.
  bool kept = log_.install(last_included);
  // The snapshot holds only committed entries; commit never moves back.
  if (last_included.index > commit_index_)
    commit_index_ = last_included.index;
  // The bytes stay in the store's staging area; the next batch installs
  // them there and the persister sends them back (on_snapshot_read_back).
  set_snapshot_data({});
  snapshot_crc_ = crc;
  snapshot_bytes_pending_ = true;
  durability_.persist_received_snapshot(
    snapshot_install::staged_bytes(last_included, size, crc), kept);
  // Step 8: "Reset state machine using snapshot contents" -- once the
  // batch carrying the snapshot (the next one) is durable and its bytes
  // are back (on_snapshot_read_back fills them in).
  durability_.apply_snapshot_after_persist(
    apply_msg::of_snapshot(last_included, {}));
}

} // namespace raft::core
