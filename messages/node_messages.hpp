// Messages inside one node: between the peer actor, its persister, its
// election timer and its state machine actor. They never cross the network
// (but are inspectable, so CAF can print them).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "messages/ids.hpp"
#include "messages/log_entry.hpp"

namespace raft {

/// The persistent part of Figure 2 that is not the log.
struct hard_state {
  /// Latest term this server has seen. Persisted before acted upon.
  /// Monotonic.
  term_t current_term;
  /// Candidate that received this server's vote in current_term, or
  /// no_server. Persisted before the vote reply leaves the server.
  server_id voted_for;
  friend bool operator==(const hard_state& a, const hard_state& b) {
    return a.current_term == b.current_term && a.voted_for == b.voted_for;
  }
  friend bool operator!=(const hard_state& a, const hard_state& b) {
    return !(a == b);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hard_state& x) {
  return f(x.current_term, x.voted_for);
}

/// Everything a node restarts from: what its store holds durably
/// (persistence::store::load), handed by the persister to the peer, which
/// builds its core (core::node) from it. Empty: a brand-new member.
struct stored_state {
  /// current_term and voted_for as last made durable.
  hard_state hard;
  /// The position the log follows: the last entry the snapshot covers
  /// ({0, 0} without a snapshot: the log starts at index 1).
  log_id base;
  /// The durable log after base, consecutive.
  log_entries entries;
  /// The snapshot's bytes: the state machine through base (empty when base
  /// is {0, 0}). The core keeps them to send to followers (InstallSnapshot)
  /// and hands them to a fresh state machine first (output::apply_snapshot).
  std::string snapshot = {};
};

/// A snapshot of the state machine through `last_included` (inclusive), to
/// be made durable together with a persist_batch's hard state (issue 4).
struct snapshot_install {
  /// Last log position the snapshot covers; becomes the log's base.
  log_id last_included;
  /// The state machine's bytes, opaque to Raft (empty when `staged`).
  std::string data;
  /// The bytes are not here: they are the snapshot_chunks received from the
  /// leader and staged in the store's staging area, which this install
  /// must hold completely -- exactly `size` bytes with CRC-32 `crc32` -- and
  /// turns into the durable snapshot (Figure 13 steps 2-5: "write data into
  /// snapshot file ... save snapshot file").
  bool staged = false;
  /// With `staged`: the staged snapshot's size and CRC-32 (IEEE, as
  /// raft::crc32), which the store verifies against what it staged.
  std::uint64_t size = 0;
  std::uint32_t crc32 = 0;
  /// The install of a snapshot received from the leader: its `size` bytes
  /// with CRC-32 `crc` are in the staging area.
  static snapshot_install staged_bytes(log_id last_included,
                                       std::uint64_t size, std::uint32_t crc) {
    return snapshot_install{last_included, {}, true, size, crc};
  }
  friend bool operator==(const snapshot_install& a,
                         const snapshot_install& b) {
    return a.last_included == b.last_included && a.data == b.data
           && a.staged == b.staged && a.size == b.size && a.crc32 == b.crc32;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_install& x) {
  return f(x.last_included, x.data, x.staged, x.size, x.crc32);
}

/// A piece of the snapshot a follower is receiving (install_snapshot
/// chunks), for the persister to write into the store's staging area, so a
/// large snapshot never sits in the peer's memory. offset 0 starts a new
/// staging area (dropping an earlier, unfinished one); every other chunk
/// directly follows the previous one. Staged bytes are not durable and not
/// part of the node's state until a persist_batch installs them
/// (snapshot_install::staged); a crash or a new transfer discards them.
struct snapshot_chunk {
  /// The snapshot the chunk belongs to (the leader's last_included).
  log_id last_included;
  /// Byte offset of `data` in the snapshot.
  std::uint64_t offset = 0;
  std::string data;
  friend bool operator==(const snapshot_chunk& a, const snapshot_chunk& b) {
    return a.last_included == b.last_included && a.offset == b.offset
           && a.data == b.data;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_chunk& x) {
  return f(x.last_included, x.offset, x.data);
}

/// The persister's answer to a durable staged install: the installed
/// snapshot's bytes, read back from the store, for the peer to keep (to send
/// on as a leader) and to hand to the state machine. Sent before the
/// `persisted` of the batch that installed it.
struct snapshot_read_back {
  log_id last_included;
  std::string data;
  friend bool operator==(const snapshot_read_back& a,
                         const snapshot_read_back& b) {
    return a.last_included == b.last_included && a.data == b.data;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_read_back& x) {
  return f(x.last_included, x.data);
}

/// One write for the persister: applied in this order -- truncate the log
/// suffix from `truncate_from` (if non-zero), append `entries`, replace the
/// hard state -- then made durable as a unit. The persister acknowledges
/// batches in the order it received them, each with `persisted`.
struct persist_batch {
  /// Hard state as of this batch (always carried; 16 bytes).
  raft::hard_state hard_state;
  /// Drop every stored entry with index >= truncate_from; 0 = no truncation.
  /// Invariant: when set, entries (if any) start at truncate_from.
  index_t truncate_from;
  /// Entries to append, consecutive; the first follows the stored log (after
  /// truncation).
  log_entries entries;
  /// The last log position after this batch: what `persisted` echoes.
  log_id last;
  /// Zero or one snapshot to install FIRST, atomically with this batch's
  /// hard state (a vector because CAF 0.17 inspects no std::optional). Every
  /// stored entry with index <= last_included.index is dropped; the stored
  /// entries after it are kept only if the log holds last_included with the
  /// same term, else the whole log is dropped (Figure 13, steps 6-7). The
  /// base becomes last_included; truncate_from and entries then apply after
  /// it. A crash never leaves the snapshot without its base, or the reverse.
  std::vector<snapshot_install> snapshot;
  friend bool operator==(const persist_batch& a, const persist_batch& b) {
    return a.hard_state == b.hard_state && a.truncate_from == b.truncate_from
           && a.entries == b.entries && a.last == b.last
           && a.snapshot == b.snapshot;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, persist_batch& x) {
  return f(x.hard_state, x.truncate_from, x.entries, x.last, x.snapshot);
}

/// The persister's acknowledgement: the batch whose last log position is
/// (term, index) -- and every batch before it -- is durable.
struct persisted {
  term_t term;
  index_t index;
  friend bool operator==(const persisted& a, const persisted& b) {
    return a.term == b.term && a.index == b.index;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, persisted& x) {
  return f(x.term, x.index);
}

/// What the state machine receives, with the field names of the 6.5840
/// `ApplyMsg`. Commands arrive in index order, contiguously, never twice in
/// one incarnation; a snapshot never moves the applied index backwards.
struct apply_msg {
  bool command_valid = false;
  std::string command;
  index_t command_index;
  /// Term of the entry (not in 6.5840's ApplyMsg; lets services detect a
  /// proposal that lost its slot to another leader).
  term_t command_term;
  bool snapshot_valid = false;
  std::string snapshot;
  term_t snapshot_term;
  index_t snapshot_index;
  /// The committed entry `command` at (term, index).
  static apply_msg of_command(index_t index, term_t term,
                              std::string command) {
    apply_msg m;
    m.command_valid = true;
    m.command = std::move(command);
    m.command_index = index;
    m.command_term = term;
    return m;
  }
  /// The snapshot `bytes` of the state machine through `last_included`.
  static apply_msg of_snapshot(log_id last_included, std::string bytes) {
    apply_msg m;
    m.snapshot_valid = true;
    m.snapshot = std::move(bytes);
    m.snapshot_term = last_included.term;
    m.snapshot_index = last_included.index;
    return m;
  }
  friend bool operator==(const apply_msg& a, const apply_msg& b) {
    return a.command_valid == b.command_valid && a.command == b.command
           && a.command_index == b.command_index
           && a.command_term == b.command_term
           && a.snapshot_valid == b.snapshot_valid
           && a.snapshot == b.snapshot && a.snapshot_term == b.snapshot_term
           && a.snapshot_index == b.snapshot_index;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, apply_msg& x) {
  return f(x.command_valid, x.command, x.command_index, x.command_term,
           x.snapshot_valid, x.snapshot, x.snapshot_term, x.snapshot_index);
}

} // namespace raft
