#include "actors/kv/kv_state_machine.hpp"

#include <stdexcept>

namespace raft::kv {

kv_state_machine::kv_state_machine(kv_options opts) : opts_(opts) {
  if (!valid(opts_.limits))
    throw std::invalid_argument(
      "kv_state_machine: max_key_bytes, max_value_bytes and max_sessions "
      "must all be >= 1");
}

std::string kv_state_machine::apply(const apply_msg& m) {
  if (m.command_valid) {
    auto c = decode_command(m.command);
    if (!c) {
      if (m.command_index > state_.last_index)
        state_.last_index = m.command_index;
      return encode(failure(reason::malformed));
    }
    return encode(kv::apply(state_, *c, m.command_index, opts_.limits));
  }
  if (m.snapshot_valid) {
    auto st = decode_snapshot(m.snapshot);
    if (!st)
      throw std::runtime_error(
        "kv_state_machine: the snapshot at index "
        + std::to_string(m.snapshot_index.value) + " (term "
        + std::to_string(m.snapshot_term.value) + ", "
        + std::to_string(m.snapshot.size())
        + " bytes) does not decode as a KV snapshot");
    state_ = std::move(*st);
    ++installed_;
    return {};
  }
  return {};
}

std::optional<std::string> kv_state_machine::take_snapshot(index_t applied) {
  static_cast<void>(applied);
  if (opts_.raft_state_bytes)
    observed_bytes_ = opts_.raft_state_bytes();
  if (!should_snapshot(observed_bytes_))
    return std::nullopt;
  observed_bytes_ = 0;
  return snapshot();
}

bool kv_state_machine::should_snapshot(std::uint64_t raft_state_bytes) const {
  return opts_.max_raft_state > 0
         && raft_state_bytes
              >= static_cast<std::uint64_t>(opts_.max_raft_state);
}

raft::errc kv_state_machine::validate(const std::string& command) const {
  auto cmd = decode_command(command);
  if (!cmd)
    return raft::errc::bad_request;
  return kv::validate(*cmd, opts_.limits);
}

bool kv_state_machine::is_read_only(const std::string& command) const {
  if (!opts_.read_index)
    return false;
  auto cmd = decode_command(command);
  return cmd && cmd->kind == op::get && cmd->client_id == 0;
}

std::string kv_state_machine::query(const std::string& command) {
  auto cmd = decode_command(command);
  if (!cmd || cmd->kind != op::get || cmd->client_id != 0)
    return encode(failure(reason::malformed));
  if (auto v = check(*cmd, opts_.limits); !v)
    return encode(failure(v.why));
  reply r;
  if (auto it = state_.data.find(cmd->key); it != state_.data.end()) {
    r.found = true;
    r.value = it->second;
  }
  return encode(r);
}

} // namespace raft::kv
