// One-line renderings of every message, in the style of etcd's transcripts
// (rafttest/interaction_env_handler.go): a fixed word per message type, then
// `name=value` fields, log positions as term/index. Test failures, logs and
// golden transcripts all use these, so keep them stable and greppable.
//
// Examples:
//   1->2 append_entries term=3 prev=2/7 entries=[8..9] commit=7
//   2->1 append_entries_reply term=3 success=true prev=7 match=9
//   2->1 append_entries_reply term=3 success=false prev=7 xterm=2 xindex=5
//        xlen=7
//   1->3 request_vote term=3 cand=1 last=2/7
//   3->1 request_vote_reply term=3 granted=true
//   1->2 install_snapshot term=3 last=2/7 offset=0 bytes=4 done=false
//        total=9 crc=cbf43926
//   2->1 install_snapshot_reply term=3 last=2/7 next=4 installed=false
//   1->2 append_entries term=3 prev=2/9 entries=[] commit=9 read=4
//   2->1 append_entries_reply term=3 success=true prev=9 match=9 read=4
// (read=N, the ReadIndex round of thesis §6.4, only when N is not 0, so
// transcripts without reads stay as they were.)
#include "messages/to_string.hpp"

#include <cstdio>
#include <variant>

namespace raft {

namespace {

const char* bool_str(bool x) { return x ? "true" : "false"; }

/// "none" for no_server, the number otherwise.
std::string id_or_none(server_id x) {
  return x == no_server ? std::string{"none"} : to_string(x);
}

/// "[]", "[8]" or "[8..9]": the index range of a run of entries.
std::string index_range(const log_entries& xs) {
  if (xs.empty())
    return "[]";
  if (xs.size() == 1)
    return "[" + to_string(xs.front().index) + "]";
  return "[" + to_string(xs.front().index) + ".." + to_string(xs.back().index)
         + "]";
}

/// " read=N" for a ReadIndex round, nothing for 0 (no round).
std::string read_seq_str(std::uint64_t seq) {
  return seq == 0 ? std::string{} : " read=" + std::to_string(seq);
}

std::string quoted(const std::string& bytes) {
  return "\"" + printable(bytes) + "\"";
}

} // namespace

std::string printable(const std::string& bytes, std::size_t max) {
  std::string result;
  auto n = bytes.size() < max ? bytes.size() : max;
  result.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '\\':
        result += "\\\\";
        break;
      case '"':
        result += "\\\"";
        break;
      case '\n':
        result += "\\n";
        break;
      case '\r':
        result += "\\r";
        break;
      case '\t':
        result += "\\t";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          result += static_cast<char>(c);
        } else {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
          result += buf;
        }
    }
  }
  if (bytes.size() > max)
    result += "...";
  return result;
}

std::string to_string(role x) {
  switch (x) {
    case role::follower:
      return "follower";
    case role::candidate:
      return "candidate";
    case role::leader:
      return "leader";
  }
  return "role(" + std::to_string(static_cast<unsigned>(x)) + ")";
}

std::string to_string(errc x) {
  switch (x) {
    case errc::none:
      return "none";
    case errc::not_leader:
      return "not_leader";
    case errc::dropped_entry:
      return "dropped_entry";
    case errc::timeout:
      return "timeout";
    case errc::shutting_down:
      return "shutting_down";
    case errc::too_large:
      return "too_large";
    case errc::bad_request:
      return "bad_request";
  }
  return "errc(" + std::to_string(static_cast<unsigned>(x)) + ")";
}

std::string to_string(entry_kind x) {
  switch (x) {
    case entry_kind::command:
      return "command";
    case entry_kind::noop:
      return "noop";
  }
  return "entry_kind(" + std::to_string(static_cast<unsigned>(x)) + ")";
}

std::string to_string(const log_id& x) {
  return to_string(x.term) + "/" + to_string(x.index);
}

std::string to_string(const log_entry& x) {
  auto result = to_string(log_id{x.term, x.index});
  if (x.kind == entry_kind::command)
    return result + " " + quoted(x.data);
  result += " " + to_string(x.kind);
  if (!x.data.empty())
    result += " " + quoted(x.data);
  return result;
}

std::string to_string(const request_vote& x) {
  return "request_vote term=" + to_string(x.term)
         + " cand=" + to_string(x.candidate_id)
         + " last=" + to_string(log_id{x.last_log_term, x.last_log_index});
}

std::string to_string(const request_vote_reply& x) {
  return "request_vote_reply term=" + to_string(x.term)
         + " granted=" + bool_str(x.vote_granted);
}

std::string to_string(const append_entries& x) {
  return "append_entries term=" + to_string(x.term)
         + " prev=" + to_string(log_id{x.prev_log_term, x.prev_log_index})
         + " entries=" + index_range(x.entries)
         + " commit=" + to_string(x.leader_commit) + read_seq_str(x.read_seq);
}

std::string to_string(const append_entries_reply& x) {
  auto result = "append_entries_reply term=" + to_string(x.term)
                + " success=" + bool_str(x.success)
                + " prev=" + to_string(x.prev_log_index);
  if (x.success)
    return result + " match=" + to_string(x.match_index)
           + read_seq_str(x.read_seq);
  return result + " xterm=" + to_string(x.conflict_term)
         + " xindex=" + to_string(x.conflict_index)
         + " xlen=" + to_string(x.log_length) + read_seq_str(x.read_seq);
}

std::string to_string(const install_snapshot& x) {
  char crc[16];
  std::snprintf(crc, sizeof(crc), "%08x", static_cast<unsigned>(x.crc32));
  return "install_snapshot term=" + to_string(x.term)
         + " last=" + to_string(x.last_included)
         + " offset=" + std::to_string(x.offset)
         + " bytes=" + std::to_string(x.data.size())
         + " done=" + bool_str(x.done)
         + " total=" + std::to_string(x.total_size) + " crc=" + crc;
}

std::string to_string(const install_snapshot_reply& x) {
  return "install_snapshot_reply term=" + to_string(x.term)
         + " last=" + to_string(x.last_included)
         + " next=" + std::to_string(x.next_offset)
         + " installed=" + bool_str(x.installed);
}

std::string to_string(const rpc_message& x) {
  return std::visit([](const auto& m) { return to_string(m); }, x);
}

std::string to_string(const envelope& x) {
  auto result = to_string(x.from) + "->" + to_string(x.to) + " "
                + to_string(x.msg);
  // The leader id is redundant with the sender; show it only when it differs.
  if (auto ae = std::get_if<append_entries>(&x.msg);
      ae != nullptr && ae->leader_id != x.from)
    result += " leader=" + to_string(ae->leader_id);
  if (auto is = std::get_if<install_snapshot>(&x.msg);
      is != nullptr && is->leader_id != x.from)
    result += " leader=" + to_string(is->leader_id);
  return result;
}

std::string to_string(const hard_state& x) {
  return "term=" + to_string(x.current_term)
         + " vote=" + id_or_none(x.voted_for);
}

std::string to_string(const snapshot_install& x) {
  if (x.staged)
    return "snapshot=" + to_string(x.last_included)
           + " staged bytes=" + std::to_string(x.size);
  return "snapshot=" + to_string(x.last_included)
         + " bytes=" + std::to_string(x.data.size());
}

std::string to_string(const snapshot_chunk& x) {
  return "snapshot_chunk " + to_string(x.last_included) + " offset="
         + std::to_string(x.offset) + " bytes=" + std::to_string(x.data.size());
}

std::string to_string(const snapshot_read_back& x) {
  return "snapshot_read_back " + to_string(x.last_included)
         + " bytes=" + std::to_string(x.data.size());
}

std::string to_string(const persist_batch& x) {
  auto result = "persist " + to_string(x.hard_state);
  for (const auto& s : x.snapshot)
    result += " " + to_string(s);
  if (x.truncate_from != index_t{0})
    result += " truncate=" + to_string(x.truncate_from);
  return result + " entries=" + index_range(x.entries)
         + " last=" + to_string(x.last);
}

std::string to_string(const persisted& x) {
  return "persisted " + to_string(log_id{x.term, x.index});
}

std::string to_string(const apply_msg& x) {
  std::string result = "apply";
  if (x.command_valid)
    result += " command " + to_string(log_id{x.command_term, x.command_index})
              + " " + quoted(x.command);
  if (x.snapshot_valid)
    result += " snapshot "
              + to_string(log_id{x.snapshot_term, x.snapshot_index})
              + " bytes=" + std::to_string(x.snapshot.size());
  if (!x.command_valid && !x.snapshot_valid)
    result += " nothing";
  return result;
}

std::string to_string(const propose_result& x) {
  if (x.is_leader)
    return "propose accepted at "
           + to_string(log_id{x.term, x.index});
  return "propose not_leader hint=" + id_or_none(x.leader_hint);
}

std::string to_string(const peer_status& x) {
  return "peer " + to_string(x.id) + " " + to_string(x.role)
         + " term=" + to_string(x.term) + " leader=" + id_or_none(x.leader)
         + " vote=" + id_or_none(x.voted_for)
         + " log=[" + to_string(x.first_index) + ".."
         + to_string(x.last_index) + "]"
         + " durable=" + to_string(x.durable_index)
         + " commit=" + to_string(x.commit_index)
         + " applied=" + to_string(x.last_applied)
         + " snapshot=" + to_string(x.snapshot);
}

std::string to_string(const client_reply& x) {
  if (x.error == errc::none)
    return "reply ok at " + to_string(log_id{x.term, x.index})
           + " result=" + quoted(x.result);
  auto result = "reply " + to_string(x.error);
  if (x.error == errc::not_leader)
    result += " hint=" + id_or_none(x.leader_hint);
  if (!x.result.empty())
    result += " " + quoted(x.result);
  return result;
}

} // namespace raft
