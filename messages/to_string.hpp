// Readable one-line renderings of every message, in the style of etcd's
// transcripts: "1->2 append_entries term=3 prev=2/7 entries=[8..9] commit=7".
#pragma once

#include <ostream>
#include <string>

#include "messages/client_messages.hpp"
#include "messages/log_entry.hpp"
#include "messages/node_messages.hpp"
#include "messages/raft_messages.hpp"

namespace raft {

std::string to_string(role x);
std::string to_string(errc x);
std::string to_string(entry_kind x);
std::string to_string(const log_entry& x);
std::string to_string(const log_id& x);
std::string to_string(const request_vote& x);
std::string to_string(const request_vote_reply& x);
std::string to_string(const append_entries& x);
std::string to_string(const append_entries_reply& x);
std::string to_string(const install_snapshot& x);
std::string to_string(const install_snapshot_reply& x);
std::string to_string(const rpc_message& x);
std::string to_string(const envelope& x);
std::string to_string(const hard_state& x);
std::string to_string(const snapshot_install& x);
std::string to_string(const snapshot_chunk& x);
std::string to_string(const snapshot_read_back& x);
std::string to_string(const persist_batch& x);
std::string to_string(const persisted& x);
std::string to_string(const apply_msg& x);
std::string to_string(const propose_result& x);
std::string to_string(const peer_status& x);

/// Renders at most `max` bytes of a command, escaping non-printables.
std::string printable(const std::string& bytes, std::size_t max = 32);

#define RAFT_STREAM(T)                                                         \
  inline std::ostream& operator<<(std::ostream& os, const T& x) {              \
    return os << to_string(x);                                                 \
  }
RAFT_STREAM(role)
RAFT_STREAM(errc)
RAFT_STREAM(log_entry)
RAFT_STREAM(log_id)
RAFT_STREAM(request_vote)
RAFT_STREAM(request_vote_reply)
RAFT_STREAM(append_entries)
RAFT_STREAM(append_entries_reply)
RAFT_STREAM(install_snapshot)
RAFT_STREAM(install_snapshot_reply)
RAFT_STREAM(snapshot_install)
RAFT_STREAM(snapshot_chunk)
RAFT_STREAM(snapshot_read_back)
RAFT_STREAM(envelope)
RAFT_STREAM(hard_state)
RAFT_STREAM(persist_batch)
RAFT_STREAM(persisted)
RAFT_STREAM(apply_msg)
RAFT_STREAM(propose_result)
RAFT_STREAM(peer_status)
#undef RAFT_STREAM

} // namespace raft
